/**
 * Issue 14, three real nodes when things go wrong: three `parley serve` processes (dist/) on a
 * private Redis (so it can be restarted) and one PostgreSQL schema.
 * - Redis restarted empty under chat: the nodes announce users and rooms again and a room
 *   with members on all three goes on, every message delivered once, in one order.
 * - A client that reconnects to another node and asks CHATHISTORY AFTER its last msgid gets
 *   exactly what it missed.
 * - A node stopped (SIGSTOP) for longer than its lease: the others reap its users (QUITs, nicks
 *   free); when it resumes (SIGCONT) it is fenced: its clients are dropped, and what they sent
 *   meanwhile reaches no one.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { killStartedServers, startCliServer, type CliServer } from '../helpers/cli-server.js';
import { dropSchema, pgSkipReason, randomSchema, TEST_PG_URL } from '../helpers/postgres.js';
import { RawClient } from '../helpers/raw-client.js';
import type { IrcMessage } from '../../src/protocol/index.js';
import { PrivateRedis, redisSkipReason } from '../cluster/redis-helpers.js';

const skip = (await redisSkipReason()) || (await pgSkipReason());
const CAPS = ['echo-message', 'server-time', 'message-tags', 'batch', 'draft/chathistory'];
const said = (m: IrcMessage) => m.command === 'PRIVMSG';

describe('three parley serve nodes when Redis restarts, clients move and a node stalls', { skip }, () => {
  const schema = randomSchema('failures');
  const dirs: string[] = [];
  const nodes: CliServer[] = [];
  const clients: RawClient[] = [];
  let redis: PrivateRedis;

  const startNode = () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-node-'));
    dirs.push(dir);
    return startCliServer(dir, {
      PARLEY_CLUSTER__URL: redis.url,
      PARLEY_STORE__URL: TEST_PG_URL,
      PARLEY_STORE__SCHEMA: schema,
      PARLEY_LOG__LEVEL: 'error',
    });
  };

  before(async () => {
    redis = await PrivateRedis.start();
    nodes.push(await startNode());
    nodes.push(...(await Promise.all([startNode(), startNode()])));
  });
  after(async () => {
    for (const c of clients) c.close();
    for (const node of nodes) if (node.child.signalCode === null) node.child.kill('SIGCONT');
    killStartedServers();
    await Promise.all(nodes.map((n) => n.exited));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    await redis?.stop();
    await dropSchema(schema);
  });

  const register = async (node: CliServer, nick: string, caps = CAPS) => {
    const c = await RawClient.register(node.port, nick, caps);
    c.answerPings = true;
    clients.push(c);
    return c;
  };
  const joinAll = async (room: string, members: RawClient[]) => {
    for (const c of members) {
      c.send(`JOIN ${room}`);
      await c.expect((m) => m.command === '366');
    }
  };
  /** `count` messages in the order they arrive, as `nick text msgid`. */
  const receive = async (c: RawClient, count: number) => {
    const got: string[] = [];
    while (got.length < count) {
      const m = await c.expect(said, 15_000);
      got.push(`${m.source?.split('!')[0]} ${m.params[1]} ${m.tags?.msgid}`);
    }
    return got;
  };

  it('Redis restarted empty under chat: the room goes on across the three nodes, each message once, one order', async () => {
    const members = await Promise.all(nodes.map((node, i) => register(node, `rr${i}`)));
    await joinAll('#restart', members);
    for (let i = 0; i < 9; i++) members[i % 3]!.send(`PRIVMSG #restart :before ${i}`);
    const before = await Promise.all(members.map((c) => receive(c, 9)));
    assert.deepEqual(before[1], before[0]);
    assert.deepEqual(before[2], before[0]);

    await redis.down();
    await redis.up();
    // The nodes find Redis empty and announce their users and rooms again (about a second).
    const probe = await import('ioredis').then(({ Redis }) => new Redis(redis.url));
    try {
      let count = 0;
      for (let i = 0; i < 200 && count < 3; i++) {
        count = await probe.hlen('parley:r:members:#restart').catch(() => 0);
        if (count < 3) await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(count, 3, 'the room has its three members again');
    } finally {
      probe.disconnect();
    }
    for (let i = 0; i < 30; i++) members[i % 3]!.send(`PRIVMSG #restart :after ${i}`);
    const afterwards = await Promise.all(members.map((c) => receive(c, 30)));
    assert.deepEqual(afterwards[1], afterwards[0], 'node 2 saw node 1\'s order');
    assert.deepEqual(afterwards[2], afterwards[0], 'node 3 saw node 1\'s order');
    const texts = afterwards[0]!.map((l) => l.split(' ')[1] + ' ' + l.split(' ')[2]).sort();
    assert.deepEqual(texts, Array.from({ length: 30 }, (_, i) => `after ${i}`).sort(), 'each message once');
    assert.equal(new Set(afterwards[0]!.map((l) => l.split(' ').at(-1))).size, 30, 'msgids unique');
    // Nobody was shown leaving or coming back.
    for (const c of members) assert.deepEqual(c.lines.filter((l) => / (PART|QUIT|KICK) /.test(l)), [], c.nick);
  });

  it('reconnecting to another node, CHATHISTORY AFTER the last msgid seen gives exactly what was missed', async () => {
    const talker = await register(nodes[1]!, 'talker');
    const mover = await register(nodes[0]!, 'mover');
    await joinAll('#moving', [talker, mover]);
    for (let i = 0; i < 5; i++) talker.send(`PRIVMSG #moving :seen ${i}`);
    const seen = await receive(mover, 5);
    const lastSeen = seen.at(-1)!.split(' ').at(-1)!;
    mover.send('QUIT :moving');
    await mover.closedByServer();
    for (let i = 0; i < 7; i++) talker.send(`PRIVMSG #moving :missed ${i}`);
    const missed = (await receive(talker, 12)).slice(5);
    const back = await register(nodes[2]!, 'mover');
    back.send('JOIN #moving');
    await back.expect((m) => m.command === '366');
    back.send(`CHATHISTORY AFTER #moving msgid=${lastSeen} 100`);
    await back.expect((m) => m.command === 'BATCH' && m.params[0]!.startsWith('+'));
    const replayed: string[] = [];
    for (let m = await back.expect(() => true); !(m.command === 'BATCH' && m.params[0]!.startsWith('-')); m = await back.expect(() => true)) {
      if (said(m)) replayed.push(`${m.source?.split('!')[0]} ${m.params[1]} ${m.tags?.msgid}`);
    }
    assert.deepEqual(replayed, missed);
  });

  it('a node stopped past its lease: its users quit elsewhere; resumed, it is fenced and what it got meanwhile reaches no one', async (t) => {
    const staller = nodes[2]!;
    const stuck = await register(staller, 'stuck');
    const watcher = await register(nodes[0]!, 'watcher');
    const other = await register(nodes[1]!, 'otherone');
    await joinAll('#stall', [stuck, watcher, other]);
    const stoppedAt = Date.now();
    staller.child.kill('SIGSTOP');
    const quit = await watcher.expect((m) => m.command === 'QUIT' && m.source?.startsWith('stuck!') === true, 15_000);
    assert.match(quit.params[0]!, /Server went away/);
    t.diagnostic(`SIGSTOP to QUIT on another node: ${Date.now() - stoppedAt} ms`);
    // Sent to the stopped node; the kernel keeps it for when the process runs again.
    stuck.send('PRIVMSG #stall :from a fenced node');
    stuck.send('NICK stuckagain');
    staller.child.kill('SIGCONT');
    const error = await stuck.expect((m) => m.command === 'ERROR', 10_000);
    assert.match(error.params[0]!, /Server fenced/);
    await stuck.closedByServer();
    // The nick is free for anyone, and the room goes on without the fenced node's words.
    const heir = await register(nodes[1]!, 'stuck');
    heir.send('JOIN #stall');
    await heir.expect((m) => m.command === '366');
    other.send('PRIVMSG #stall :still here');
    assert.equal((await receive(watcher, 1))[0]!.split(' ').slice(0, 3).join(' '), 'otherone still here');
    assert.deepEqual(watcher.lines.filter((l) => l.includes('from a fenced node') || l.includes('stuckagain')), []);
    // Its readiness says so, for the balancer.
    const ready = await fetch(`http://127.0.0.1:${staller.httpPort}/readyz`);
    assert.equal(ready.status, 503);
  });
});
