/**
 * Issue 16, JOIN replay for clients without draft/chathistory: without server-time each line
 * carries its time in the text ([14:03]), and only what this client has not seen is replayed
 * (after this connection last left the room, after the account's read marker).
 * A real server on 127.0.0.1 port 0, raw clients.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { timePrefix, withTimePrefix } from '../../src/core/history/time-prefix.js';
import type { IrcMessage } from '../../src/protocol/index.js';
import { loginClient, registerAccount } from '../helpers/accounts.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** JOIN, and the PRIVMSG/NOTICE lines that came with it (the replay), up to a PING round trip. */
async function replayOnJoin(client: RawClient, room: string): Promise<IrcMessage[]> {
  client.send(`JOIN ${room}`);
  const lines = await client.sync();
  return lines.filter((m) => m.command === 'PRIVMSG' || m.command === 'NOTICE');
}

/** Say each text and wait for its echo: then it is stored, with its time. */
async function say(client: RawClient, room: string, texts: string[]): Promise<IrcMessage[]> {
  const echoes: IrcMessage[] = [];
  for (const text of texts) {
    client.send(`PRIVMSG ${room} :${text}`);
    echoes.push(await client.expect((m) => m.command === 'PRIVMSG' && m.params[1] === text));
  }
  return echoes;
}

describe('JOIN replay for clients without chathistory', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ history: { replay_on_join: 10 }, accounts: { scrypt_log_n: 10 } });
  });
  after(() => server.stop());

  it('without server-time, each replayed line starts with its time; CTCP ACTION keeps its framing', async () => {
    const alice = await RawClient.register(server.port, 'alice', ['echo-message', 'server-time']);
    alice.send('JOIN #times');
    await alice.sync();
    const [hello] = await say(alice, '#times', ['hello there']);
    await say(alice, '#times', ['\x01ACTION waves\x01']);

    const plain = await RawClient.register(server.port, 'plain');
    const replayed = await replayOnJoin(plain, '#times');
    const prefix = timePrefix(Date.parse(hello!.tags!.time!), Date.now());
    assert.match(prefix, /^\[\d\d:\d\d\]$/);
    assert.deepEqual(replayed.map((m) => m.params[1]), [`${prefix} hello there`, `\x01ACTION ${prefix} waves\x01`]);
    assert.ok(replayed.every((m) => m.tags === undefined));

    // With server-time the client shows the time itself: the text is as it was sent.
    const timed = await RawClient.register(server.port, 'timed', ['server-time']);
    assert.deepEqual((await replayOnJoin(timed, '#times')).map((m) => m.params[1]), ['hello there', '\x01ACTION waves\x01']);
    for (const c of [alice, plain, timed]) c.close();
  });

  it('PART and JOIN again replays only what came meanwhile, not the same lines again', async () => {
    const alice = await RawClient.register(server.port, 'alice2', ['echo-message']);
    alice.send('JOIN #again');
    await alice.sync();
    await say(alice, '#again', ['one', 'two']);
    const bob = await RawClient.register(server.port, 'bob2', ['server-time']);
    assert.deepEqual((await replayOnJoin(bob, '#again')).map((m) => m.params[1]), ['one', 'two']);
    bob.send('PART #again');
    await bob.sync();
    assert.deepEqual(await replayOnJoin(bob, '#again'), [], 'nothing new: nothing replayed');
    bob.send('PART #again :brb');
    await bob.sync();
    await say(alice, '#again', ['while you were away']);
    assert.deepEqual((await replayOnJoin(bob, '#again')).map((m) => m.params[1]), ['while you were away']);
    // A new connection has seen nothing: the whole replay.
    const fresh = await RawClient.register(server.port, 'fresh2', ['server-time']);
    assert.deepEqual((await replayOnJoin(fresh, '#again')).map((m) => m.params[1]), ['one', 'two', 'while you were away']);
    for (const c of [alice, bob, fresh]) c.close();
  });

  it('after a kick too, and a logged-in client gets what is after its account read marker', async () => {
    await registerAccount(server.port, 'reader', 'reader-password');
    const alice = await RawClient.register(server.port, 'alice3', ['echo-message', 'server-time']);
    alice.send('JOIN #marked');
    await alice.sync();
    const [, second] = await say(alice, '#marked', ['first', 'second']);
    // A read marker is a time in milliseconds: "third" must not share the one of "second".
    while (Date.now() <= Date.parse(second!.tags!.time!)) await new Promise((resolve) => setImmediate(resolve));
    await say(alice, '#marked', ['third']);
    // Another device of the account (with draft/read-marker) read up to "second".
    const device = await loginClient(server.port, 'reader_web', 'reader', 'reader-password', ['draft/read-marker', 'server-time']);
    device.send(`MARKREAD #marked timestamp=${second!.tags!.time}`);
    await device.expect((m) => m.command === 'MARKREAD' && m.params[0] === '#marked');
    device.close();
    const irssi = await loginClient(server.port, 'reader', 'reader', 'reader-password', ['server-time']);
    assert.deepEqual((await replayOnJoin(irssi, '#marked')).map((m) => m.params[1]), ['third']);

    alice.send('KICK #marked reader :out');
    await irssi.expect((m) => m.command === 'KICK');
    await say(alice, '#marked', ['fourth']);
    assert.deepEqual((await replayOnJoin(irssi, '#marked')).map((m) => m.params[1]), ['fourth']);
    for (const c of [alice, irssi]) c.close();
  });

  it('the date is given for lines from another day', () => {
    const now = new Date(2026, 11, 3, 9, 30).getTime();
    assert.equal(timePrefix(new Date(2026, 11, 3, 14, 3).getTime(), now), '[14:03]');
    assert.equal(timePrefix(new Date(2026, 11, 2, 23, 59).getTime(), now), '[2026-12-02 23:59]');
    assert.equal(withTimePrefix('hi', new Date(2026, 11, 3, 8, 5).getTime(), now), '[08:05] hi');
  });
});
