/**
 * IRCv3 draft/event-playback over real sockets: room events in CHATHISTORY batches, in order with
 * the messages, for clients that negotiated the cap; exactly the messages for the others.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { IrcMessage } from '../../src/protocol/index.js';
import { loginClient, registerAccount } from '../helpers/accounts.js';
import { RawClient } from '../helpers/raw-client.js';
import { dropSchema, pgSkipReason, randomSchema, TEST_PG_URL } from '../helpers/postgres.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const pgSkip = await pgSkipReason();

const CAPS = ['batch', 'server-time', 'message-tags', 'echo-message', 'draft/chathistory'];
const PLAYBACK = [...CAPS, 'account-tag', 'draft/event-playback'];

/** A CHATHISTORY line's batch: its lines (no FAIL expected). */
async function history(client: RawClient, line: string): Promise<IrcMessage[]> {
  client.send(line);
  const got = await client.sync();
  const fail = got.find((m) => m.command === 'FAIL');
  assert.equal(fail, undefined, `FAIL in reply to ${line}: ${JSON.stringify(fail)}`);
  const open = got.find((m) => m.command === 'BATCH' && m.params[0]!.startsWith('+'));
  assert.ok(open, `no batch in reply to ${line}`);
  const id = open.params[0]!.slice(1);
  return got.filter((m) => m.tags?.batch === id);
}

const nickOf = (m: IrcMessage) => m.source?.split('!')[0];
/** `COMMAND nick params...` of each line, for compact comparisons. */
const shape = (lines: IrcMessage[]) => lines.map((m) => [m.command, nickOf(m), ...m.params].join(' '));

for (const backend of ['SQLite', 'PostgreSQL'] as const) describe(`draft/event-playback (${backend})`, { skip: backend === 'PostgreSQL' && pgSkip }, () => {
  let server: TestServer;
  let alice: RawClient;
  let eve: RawClient;
  const schema = randomSchema('events');
  before(async () => {
    const store = backend === 'PostgreSQL' ? { store: { url: TEST_PG_URL, schema } } : {};
    server = await startTestServer({ ...store, history: { max_query: 50 }, accounts: { scrypt_log_n: 10 } });
    await registerAccount(server.port, 'alice', 'alice-password');
    alice = await loginClient(server.port, 'alice', 'alice', 'alice-password', PLAYBACK);
    alice.send('JOIN #ev');
    await alice.sync();
    eve = await RawClient.register(server.port, 'eve', CAPS);
    eve.send('JOIN #ev');
    await eve.sync();
    await alice.sync();

    const bob = await RawClient.register(server.port, 'bob', CAPS);
    bob.send('JOIN #ev');
    await bob.sync();
    alice.send('PRIVMSG #ev :m0');
    await alice.sync();
    alice.send('TOPIC #ev :a new topic');
    await alice.sync();
    alice.send('MODE #ev +v bob');
    await alice.sync();
    bob.send('PRIVMSG #ev :m1');
    await bob.sync();
    bob.send('NICK bobby');
    await bob.sync();
    alice.send('KICK #ev bobby :out you go');
    await alice.sync();
    bob.close();

    const carol = await RawClient.register(server.port, 'carol', CAPS);
    carol.send('JOIN #ev');
    await carol.sync();
    carol.send('PRIVMSG #ev :m2');
    await carol.sync();
    carol.send('PART #ev :bye');
    await carol.sync();
    carol.close();

    const dave = await RawClient.register(server.port, 'dave', CAPS);
    dave.send('JOIN #ev');
    await dave.sync();
    dave.send('QUIT :gone fishing');
    await alice.expect((m) => m.command === 'QUIT' && nickOf(m) === 'dave');

    alice.send('@+draft/react=x TAGMSG #ev');
    alice.send('@+typing=active TAGMSG #ev');
    await alice.sync();
    await eve.sync();
  });
  after(async () => {
    alice?.close();
    eve?.close();
    await server?.stop();
    if (backend === 'PostgreSQL') await dropSchema(schema);
  });

  it('offers the cap', async () => {
    const c = await RawClient.connect({ port: server.port });
    assert.ok((await c.capLs()).includes('draft/event-playback'));
    c.close();
  });

  it('a client with the cap gets every event in order with the messages', async () => {
    const lines = await history(alice, 'CHATHISTORY LATEST #ev * 50');
    assert.deepEqual(shape(lines), [
      'JOIN alice #ev',
      'JOIN eve #ev',
      'JOIN bob #ev',
      'PRIVMSG alice #ev m0',
      'TOPIC alice #ev a new topic',
      'MODE alice #ev +v bob',
      'PRIVMSG bob #ev m1',
      'NICK bob bobby',
      'KICK alice #ev bobby out you go',
      'JOIN carol #ev',
      'PRIVMSG carol #ev m2',
      'PART carol #ev bye',
      'JOIN dave #ev',
      'QUIT dave Quit: gone fishing',
      'TAGMSG alice #ev',
    ]);
    // Every line has its own msgid and a server-time, strictly in order.
    const times = lines.map((m) => Date.parse(m.tags!.time!));
    assert.ok(times.every((t, i) => i === 0 || t > times[i - 1]!), `times ascending: ${times.join(',')}`);
    assert.equal(new Set(lines.map((m) => m.tags!.msgid)).size, lines.length);
    // Full prefixes and the account of the actor.
    for (const m of lines) assert.match(m.source!, /^[a-z]+!~?[^@]+@\S+$/);
    for (const m of lines.filter((l) => nickOf(l) === 'alice')) assert.equal(m.tags!.account, 'alice');
    assert.equal(lines.find((m) => m.command === 'NICK')!.tags!.account, undefined);
    assert.equal(lines.at(-1)!.tags!['+draft/react'], 'x');
    // The typing notification was not stored.
    assert.equal(lines.filter((m) => m.command === 'TAGMSG').length, 1);
  });

  it('a msgid of an event is a valid ref; limits count events for the cap', async () => {
    const all = await history(alice, 'CHATHISTORY LATEST #ev * 50');
    assert.deepEqual(shape(await history(alice, 'CHATHISTORY LATEST #ev * 3')), shape(all.slice(-3)));
    const kick = all.find((m) => m.command === 'KICK')!;
    assert.deepEqual(shape(await history(alice, `CHATHISTORY BEFORE #ev msgid=${kick.tags!.msgid} 2`)), ['PRIVMSG bob #ev m1', 'NICK bob bobby']);
    assert.deepEqual(shape(await history(alice, `CHATHISTORY AFTER #ev msgid=${kick.tags!.msgid} 2`)), ['JOIN carol #ev', 'PRIVMSG carol #ev m2']);
    assert.deepEqual(shape(await history(eve, `CHATHISTORY AFTER #ev msgid=${kick.tags!.msgid} 2`)), ['PRIVMSG carol #ev m2']);
    const around = await history(alice, `CHATHISTORY AROUND #ev msgid=${kick.tags!.msgid} 3`);
    assert.deepEqual(shape(around), ['NICK bob bobby', 'KICK alice #ev bobby out you go', 'JOIN carol #ev']);
    const m0 = all.find((m) => m.params[1] === 'm0')!;
    const m2 = all.find((m) => m.params[1] === 'm2')!;
    const between = await history(alice, `CHATHISTORY BETWEEN #ev msgid=${m0.tags!.msgid} msgid=${m2.tags!.msgid} 50`);
    assert.equal(between.length, 6);
    assert.deepEqual(shape(await history(eve, `CHATHISTORY BETWEEN #ev msgid=${m0.tags!.msgid} msgid=${m2.tags!.msgid} 50`)), ['PRIVMSG bob #ev m1']);
  });

  it('a client without the cap gets exactly the messages, and a limit of N is N messages', async () => {
    assert.deepEqual(shape(await history(eve, 'CHATHISTORY LATEST #ev * 50')), ['PRIVMSG alice #ev m0', 'PRIVMSG bob #ev m1', 'PRIVMSG carol #ev m2']);
    assert.deepEqual(shape(await history(eve, 'CHATHISTORY LATEST #ev * 2')), ['PRIVMSG bob #ev m1', 'PRIVMSG carol #ev m2']);
    const m2 = (await history(eve, 'CHATHISTORY LATEST #ev * 1'))[0]!;
    assert.deepEqual(shape(await history(eve, `CHATHISTORY BEFORE #ev msgid=${m2.tags!.msgid} 1`)), ['PRIVMSG bob #ev m1']);
    assert.deepEqual(shape(await history(eve, 'CHATHISTORY AFTER #ev timestamp=2000-01-01T00:00:00.000Z 2')), ['PRIVMSG alice #ev m0', 'PRIVMSG bob #ev m1']);
  });

  it('TARGETS is the same with and without the cap: the latest message, not the latest event', async () => {
    const a = await history(alice, 'CHATHISTORY TARGETS timestamp=2000-01-01T00:00:00.000Z timestamp=2100-01-01T00:00:00.000Z 10');
    const e = await history(eve, 'CHATHISTORY TARGETS timestamp=2000-01-01T00:00:00.000Z timestamp=2100-01-01T00:00:00.000Z 10');
    assert.deepEqual(a.map((m) => m.params), e.map((m) => m.params));
    const m2 = (await history(eve, 'CHATHISTORY LATEST #ev * 1'))[0]!;
    assert.deepEqual(a.find((m) => m.params[1] === '#ev')!.params[2], m2.tags!.time);
  });
});

describe('draft/event-playback bounds and switch', () => {
  it('a stored reaction (TAGMSG) can be redacted by its sender; other events cannot', async () => {
    const server = await startTestServer({});
    try {
      const a = await RawClient.register(server.port, 'alice', [...PLAYBACK, 'draft/message-redaction']);
      a.send('JOIN #red');
      a.send('@+draft/react=y TAGMSG #red');
      await a.sync();
      const [join, react] = await history(a, 'CHATHISTORY LATEST #red * 50');
      assert.deepEqual([join!.command, react!.command], ['JOIN', 'TAGMSG']);
      a.send(`REDACT #red ${join!.tags!.msgid}`);
      const refused = (await a.sync()).find((m) => m.command === 'FAIL');
      assert.deepEqual(refused?.params.slice(0, 2), ['REDACT', 'UNKNOWN_MSGID']);
      a.send(`REDACT #red ${react!.tags!.msgid}`);
      assert.equal((await a.sync()).find((m) => m.command === 'FAIL'), undefined);
      assert.deepEqual(shape(await history(a, 'CHATHISTORY LATEST #red * 50')), ['JOIN alice #red']);
      a.close();
    } finally {
      await server.stop();
    }
  });

  it('history.events false: nothing but messages is stored', async () => {
    const server = await startTestServer({ history: { events: false } });
    try {
      const a = await RawClient.register(server.port, 'alice', PLAYBACK);
      a.send('JOIN #off');
      a.send('TOPIC #off :t');
      a.send('PRIVMSG #off :hello');
      await a.sync();
      assert.deepEqual(shape(await history(a, 'CHATHISTORY LATEST #off * 50')), ['PRIVMSG alice #off hello']);
      a.close();
    } finally {
      await server.stop();
    }
  });

  it('at most history.events_per_room_minute events are stored per room; messages are not bounded by it', async () => {
    const server = await startTestServer({ history: { events_per_room_minute: 3 } });
    try {
      const a = await RawClient.register(server.port, 'alice', PLAYBACK);
      const b = await RawClient.register(server.port, 'bob', CAPS);
      a.send('JOIN #flap');
      await a.sync();
      for (let i = 0; i < 5; i++) {
        b.send('JOIN #flap');
        b.send('PART #flap');
        await b.sync();
      }
      a.send('PRIVMSG #flap :after the flood');
      await a.sync();
      assert.deepEqual(shape(await history(a, 'CHATHISTORY LATEST #flap * 50')), ['JOIN alice #flap', 'JOIN bob #flap', 'PART bob #flap', 'PRIVMSG alice #flap after the flood']);
      a.close();
      b.close();
    } finally {
      await server.stop();
    }
  });
});
