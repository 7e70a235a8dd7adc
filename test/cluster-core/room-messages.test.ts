/**
 * Issue 14 step 2, room messages through the room logs: two servers in this process on one Redis
 * prefix and one SQLite file. Members on both nodes get one order with the same msgids, and
 * CHATHISTORY returns it; another node's message is held until its `stored` notice; a reaped
 * publisher's held messages are delivered if the store has them and dropped if not.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ClusterEvent, Stamp } from '../../src/cluster/events.js';
import type { SqliteStore } from '../../src/store/sqlite/store.js';
import type { IrcMessage } from '../../src/protocol/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { segment } from '../../src/cluster/keys.js';
import { waitFor } from '../contract/cluster-backend.js';
import { foldCase } from '../../src/protocol/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { dropPrefix, randomPrefix, redisSkipReason, TEST_REDIS_URL } from '../cluster/redis-helpers.js';

const skip = await redisSkipReason();
const CAPS = ['echo-message', 'message-tags', 'server-time', 'batch', 'draft/chathistory'];
const said = (m: IrcMessage) => m.command === 'PRIVMSG';

/** Holds back a server's `stored` notices (the test decides when they go out, or drops them). */
function holdStoredNotices(server: TestServer): { release(): Promise<void>; drop(): void; held: number } {
  const bus = server.server.cluster.bus;
  const publish = bus.publish.bind(bus);
  const waiting: { room: string; event: ClusterEvent; resolve: (s: Promise<Stamp>) => void }[] = [];
  bus.publish = (room, event) => {
    if (event.kind !== 'stored') return publish(room, event);
    return new Promise<Stamp>((resolve) => waiting.push({ room, event, resolve: (s) => resolve(s) }));
  };
  return {
    get held() {
      return waiting.length;
    },
    async release() {
      bus.publish = publish;
      for (const w of waiting.splice(0)) w.resolve(publish(w.room, w.event));
    },
    drop() {
      waiting.length = 0;
    },
  };
}

describe('room messages across two nodes', { skip }, () => {
  const prefix = randomPrefix('roommsg');
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-roommsg-'));
  let a: TestServer;
  let b: TestServer;
  const clients: RawClient[] = [];
  const member = async (server: TestServer, nick: string, room: string) => {
    const c = await RawClient.register(server.port, nick, CAPS);
    clients.push(c);
    c.send(`JOIN ${room}`);
    await c.expect((m) => m.command === '366');
    return c;
  };

  before(async () => {
    a = await startTestServer({ data_dir: dataDir, cluster: { url: TEST_REDIS_URL, prefix } });
    b = await startTestServer({ data_dir: dataDir, cluster: { url: TEST_REDIS_URL, prefix } });
  });
  after(async () => {
    for (const c of clients) c.close();
    await a.stop().catch(() => {});
    await b.stop().catch(() => {});
    await dropPrefix(TEST_REDIS_URL, prefix);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('members on both nodes get one order with the same msgids, and CHATHISTORY returns it', async () => {
    const [ann, ben, cat] = [await member(a, 'ann', '#order'), await member(b, 'ben', '#order'), await member(b, 'cat', '#order')];
    const senders = [ann, ben, cat];
    for (let i = 0; i < 30; i++) senders[i % 3]!.send(`PRIVMSG #order :m${i}`);
    const seen = await Promise.all(senders.map(async (c) => {
      const got: IrcMessage[] = [];
      while (got.length < 30) got.push(await c.expect(said));
      return got.map((m) => `${m.params[1]} ${m.tags?.msgid}`);
    }));
    assert.deepEqual(seen[1], seen[0]);
    assert.deepEqual(seen[2], seen[0]);
    assert.deepEqual(new Set(seen[0]!.map((l) => l.split(' ')[0])).size, 30);
    for (const c of [ann, ben]) {
      c.send('CHATHISTORY LATEST #order * 50');
      const batch: IrcMessage[] = [];
      for (let m = await c.expect((x) => x.command === 'BATCH'); ; m = await c.expect(() => true)) {
        if (m.command === 'BATCH' && m.params[0]!.startsWith('-')) break;
        if (said(m)) batch.push(m);
      }
      assert.deepEqual(batch.map((m) => `${m.params[1]} ${m.tags?.msgid}`), seen[0]);
    }
  });

  it("another node's message is held until its stored notice, and what follows it waits too", async () => {
    const [dan, eve] = [await member(a, 'dan', '#held'), await member(b, 'eve', '#held')];
    const notices = holdStoredNotices(a);
    dan.send('PRIVMSG #held :first');
    await dan.expect((m) => said(m) && m.params[1] === 'first'); // its own node: stored, then echoed
    eve.send('PRIVMSG #held :second');
    await eve.sync();
    await b.server.history.flush();
    assert.deepEqual((await eve.sync()).filter(said), [], 'nothing before the notice, not even eve\'s own later message');
    assert.ok(notices.held > 0);
    // Eve's message is stored already (its node does not wait for the notice to commit it)...
    const stored = await (await b.server.history.read()).latest('#held', 10);
    assert.deepEqual(stored.map((m) => m.text).sort(), ['first', 'second']);
    // ...but CHATHISTORY on her node shows nothing past what it delivered: no hole before 'second'.
    eve.send('CHATHISTORY LATEST #held * 10');
    const batch: IrcMessage[] = [];
    for (let m = await eve.expect((x) => x.command === 'BATCH'); ; m = await eve.expect(() => true)) {
      if (m.command === 'BATCH' && m.params[0]!.startsWith('-')) break;
      if (said(m)) batch.push(m);
    }
    assert.deepEqual(batch, []);
    await notices.release();
    const order = [await eve.expect(said), await eve.expect(said)].map((m) => m.params[1]);
    assert.deepEqual(order, ['first', 'second']);
  });

  /**
   * A publish whose reply is lost: the script ran in Redis (sequenced, noticed to followers) but
   * the node got an error instead of the stamp, as when the connection drops or a command times
   * out after Redis executed it. The private `sequence` is what `publish` runs before handing
   * its own event to the follower; calling it and throwing is exactly that failure.
   */
  function loseReplies(server: TestServer, texts: Set<string>, executed: boolean): () => void {
    const bus = server.server.cluster.bus as unknown as {
      publish: (room: string, event: ClusterEvent) => Promise<Stamp>;
      sequence: (kind: 'r', seg: string, event: ClusterEvent) => Promise<Stamp>;
    };
    const publish = bus.publish.bind(bus);
    bus.publish = async (room, event) => {
      if (event.kind !== 'message' || !texts.has(event.text)) return publish(room, event);
      if (executed) await bus.sequence('r', segment(foldCase(room), 'room'), event);
      throw new Error('Command timed out');
    };
    return () => {
      bus.publish = publish;
    };
  }

  it('a publish of unknown outcome: found in the log, it is delivered once with its echo and no FAIL; not found, FAIL', async () => {
    const [hal, ivy] = [await member(a, 'hal', '#unknown'), await member(b, 'ivy', '#unknown')];
    const restore = loseReplies(a, new Set(['the reply was lost']), true);
    hal.send('PRIVMSG #unknown :the reply was lost');
    const { roomMessages } = a.server;
    await waitFor(() => roomMessages.unknownOutcomes === 1 && roomMessages.awaitingOutcome === 0, 8000, 'its outcome found');
    const echo = await hal.expect(said);
    const got = await ivy.expect(said);
    assert.deepEqual([echo.params[1], got.params[1], echo.tags?.msgid], ['the reply was lost', 'the reply was lost', got.tags?.msgid]);
    hal.send('PRIVMSG #unknown :after it');
    await ivy.expect((m) => said(m) && m.params[1] === 'after it');
    const seen = await hal.sync();
    assert.deepEqual(seen.filter((m) => m.command === 'FAIL'), [], 'no FAIL for a message that was sent');
    assert.deepEqual(seen.filter(said).map((m) => m.params[1]), ['after it']);
    restore();
    await a.server.history.flush();
    const stored = await (await a.server.history.read()).latest('#unknown', 10);
    assert.deepEqual(stored.map((m) => m.text).sort(), ['after it', 'the reply was lost'], 'stored once');

    const restoreNever = loseReplies(a, new Set(['never sequenced']), false);
    hal.send('PRIVMSG #unknown :never sequenced');
    const fail = await hal.expect((m) => m.command === 'FAIL');
    assert.deepEqual(fail.params.slice(0, 3), ['PRIVMSG', 'TEMPORARILY_UNAVAILABLE', '#unknown']);
    assert.match(fail.params.at(-1)!, /not sent/);
    restoreNever();
    ivy.send('PING done');
    assert.deepEqual((await ivy.sync()).filter(said), [], 'no one got it');
  });

  it("a reaped publisher's held messages: delivered if stored, dropped if not", async () => {
    const [fay, gil] = [await member(a, 'fay', '#reap'), await member(b, 'gil', '#reap')];
    const notices = holdStoredNotices(a);
    fay.send('PRIVMSG #reap :stored before the crash');
    await fay.expect((m) => said(m) && m.params[1] === 'stored before the crash');
    // The next one cannot be stored on a's side (a trigger on its own connection only).
    (a.server.store as SqliteStore).db.exec(`CREATE TEMP TRIGGER fail_history BEFORE INSERT ON messages BEGIN SELECT RAISE(ABORT, 'injected'); END`);
    fay.send('PRIVMSG #reap :never stored');
    await fay.expect((m) => m.command === 'FAIL');
    notices.drop();
    assert.deepEqual((await gil.sync()).filter(said), []);
    // As kill -9 would: the lease expires and b reaps a.
    await a.server.cluster.abandon();
    const delivered = new Map<string, string>();
    const quit = await gil.expect((m) => {
      if (said(m)) delivered.set(m.tags!.msgid!, m.params[1]!);
      return m.command === 'QUIT';
    }, 15_000);
    assert.match(quit.params[0]!, /Server went away/);
    // Both came before the QUIT in the log: the one in the store is delivered, the other dropped.
    assert.deepEqual([...delivered.values()], ['stored before the crash']);
    assert.deepEqual((await gil.sync()).filter(said), []);
  });

});
