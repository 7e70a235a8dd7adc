import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { IrcMessage } from '../../src/protocol/index.js';
import { loginClient, registerAccount } from '../helpers/accounts.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const FULL = ['batch', 'server-time', 'message-tags', 'echo-message'];

/** Join and wait for the end of NAMES; returns what came with it. */
async function join(client: RawClient, room: string): Promise<IrcMessage[]> {
  client.send(`JOIN ${room}`);
  return client.sync();
}

/** Send lines and return the echoes (echo-message), with their time and msgid tags. */
async function say(client: RawClient, target: string, texts: string[], command = 'PRIVMSG'): Promise<IrcMessage[]> {
  const echoes: IrcMessage[] = [];
  for (const text of texts) {
    client.send(`${command} ${target} :${text}`);
    echoes.push(await client.expect((m) => m.command === command && m.params[1] === text));
  }
  return echoes;
}

describe('history: replay on JOIN', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ history: { replay_on_join: 3 } });
  });
  after(() => server.stop());

  it('replays the last N messages in a chathistory batch with their original time and msgid', async () => {
    const alice = await RawClient.register(server.port, 'alice', FULL);
    await join(alice, '#replay');
    const sent = await say(alice, '#replay', ['one', 'two', 'three', 'four']);
    await say(alice, '#replay', ['a notice'], 'NOTICE');
    alice.send('TAGMSG #replay'); // not history
    alice.send('PRIVMSG @#replay :ops only'); // STATUSMSG: not history either
    await alice.sync();

    const bob = await RawClient.register(server.port, 'bob', ['batch', 'server-time', 'message-tags']);
    const lines = await join(bob, '#replay');
    const commands = lines.map((m) => m.command);
    assert.deepEqual(commands.slice(0, 3), ['JOIN', '353', '366']);
    const [open, ...rest] = lines.slice(3);
    assert.equal(open!.command, 'BATCH');
    const id = open!.params[0]!.slice(1);
    assert.deepEqual(open!.params, [`+${id}`, 'chathistory', '#replay']);
    const close = rest.pop()!;
    assert.deepEqual([close.command, close.params], ['BATCH', [`-${id}`]]);
    assert.deepEqual(rest.map((m) => [m.command, m.params[1]]), [['PRIVMSG', 'three'], ['PRIVMSG', 'four'], ['NOTICE', 'a notice']]);
    for (const [i, m] of rest.slice(0, 2).entries()) {
      assert.equal(m.tags?.batch, id);
      assert.equal(m.tags?.time, sent[i + 2]!.tags?.time, 'original server-time');
      assert.equal(m.tags?.msgid, sent[i + 2]!.tags?.msgid, 'original msgid');
      assert.equal(m.source, sent[i + 2]!.source);
    }
    alice.close();
    bob.close();
  });

  it('sends plain lines to a client without batch, with server-time if it asked', async () => {
    const carol = await RawClient.register(server.port, 'carol', ['server-time']);
    const lines = await join(carol, '#replay');
    const replayed = lines.slice(lines.findIndex((m) => m.command === '366') + 1);
    assert.deepEqual(replayed.map((m) => m.params[1]), ['three', 'four', 'a notice']);
    assert.ok(replayed.every((m) => m.tags?.time !== undefined && m.tags.batch === undefined && m.tags.msgid === undefined));
    const plain = await RawClient.register(server.port, 'dan');
    const plainLines = await join(plain, '#replay');
    assert.ok(plainLines.filter((m) => m.command === 'PRIVMSG').every((m) => m.tags === undefined));
    carol.close();
    plain.close();
  });

  it('does not replay to draft/chathistory clients, nor for a room without history', async () => {
    const eve = await RawClient.register(server.port, 'eve', ['batch', 'draft/chathistory']);
    const lines = await join(eve, '#replay');
    assert.deepEqual(lines.map((m) => m.command), ['JOIN', '353', '366']);
    const fred = await RawClient.register(server.port, 'fred', ['batch']);
    assert.deepEqual((await join(fred, '#empty')).map((m) => m.command), ['JOIN', '353', '366']);
    eve.close();
    fred.close();
  });

  it('keeps history after the room empties and is created again', async () => {
    const gus = await RawClient.register(server.port, 'gus', ['echo-message']);
    await join(gus, '#transient');
    await say(gus, '#transient', ['still here later']);
    gus.send('PART #transient');
    await gus.sync();
    // Someone else: gus's own connection has seen it (replay-unseen.test.ts).
    const hal = await RawClient.register(server.port, 'hal', ['server-time']);
    const lines = await join(hal, '#transient');
    assert.deepEqual(lines.filter((m) => m.command === 'PRIVMSG').map((m) => m.params[1]), ['still here later']);
    gus.close();
    hal.close();
  });
});

describe('history: retention', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      history: {
        max_messages_per_conversation: 0,
        rooms: { '#Small': { max_messages_per_conversation: 2 }, '#aged': { max_age_days: 1 } },
      },
    });
  });
  after(() => server.stop());

  it('prunes by count and by age per room, and leaves the rest alone', async () => {
    const ann = await RawClient.register(server.port, 'ann', ['echo-message', 'batch', 'draft/chathistory']);
    for (const room of ['#small', '#aged', '#kept']) await join(ann, room);
    await say(ann, '#small', ['s1', 's2', 's3', 's4', 's5']);
    await say(ann, '#aged', ['old1', 'old2']);
    await say(ann, '#kept', ['k1', 'k2', 'k3']);

    // 4: ann's JOIN (an event, draft/event-playback) counts against the limit as a message does.
    assert.equal(await server.server.history.pruneNow(), 4, 'count: #small keeps 2 rows');
    const latest = async (room: string) => {
      ann.send(`CHATHISTORY LATEST ${room} * 10`);
      return (await ann.sync()).filter((m) => m.command === 'PRIVMSG').map((m) => m.params[1]);
    };
    assert.deepEqual(await latest('#small'), ['s4', 's5']);
    assert.deepEqual(await latest('#aged'), ['old1', 'old2']);

    // Two days on, #aged (max one day) is emptied; #kept has no limit.
    // 3: the two messages and ann's JOIN (an event) ages out with them.
    assert.equal(await server.server.history.pruneNow(Date.now() + 2 * 86_400_000), 3);
    assert.deepEqual(await latest('#aged'), []);
    assert.deepEqual(await latest('#kept'), ['k1', 'k2', 'k3']);
    assert.deepEqual(await latest('#small'), ['s4', 's5']);
    ann.close();
  });
});

describe('history: read markers (draft/read-marker)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ accounts: { scrypt_log_n: 10 } });
    await registerAccount(server.port, 'mara', 'markerpass1');
  });
  after(() => server.stop());

  it('syncs a marker to every connection of the account that has the cap, forward only', async () => {
    const phone = await loginClient(server.port, 'mara', 'mara', 'markerpass1', ['draft/read-marker']);
    const laptop = await loginClient(server.port, 'mara_', 'mara', 'markerpass1', ['draft/read-marker']);
    const old = await loginClient(server.port, 'mara__', 'mara', 'markerpass1');

    phone.send('MARKREAD #room timestamp=2024-01-04T14:33:26.123Z');
    const reply = await phone.expectCommand('MARKREAD');
    assert.deepEqual(reply.params, ['#room', 'timestamp=2024-01-04T14:33:26.123Z']);
    const pushed = await laptop.expectCommand('MARKREAD');
    assert.deepEqual(pushed.params, ['#room', 'timestamp=2024-01-04T14:33:26.123Z']);
    assert.equal((await old.sync()).filter((m) => m.command === 'MARKREAD').length, 0);

    // Older: the asker hears the stored (newer) value; nobody else hears anything.
    laptop.send('MARKREAD #Room timestamp=2024-01-01T00:00:00.000Z');
    assert.deepEqual((await laptop.expectCommand('MARKREAD')).params, ['#Room', 'timestamp=2024-01-04T14:33:26.123Z']);
    assert.equal((await phone.sync()).filter((m) => m.command === 'MARKREAD').length, 0);

    // Get, known and unknown.
    old.send('MARKREAD #ROOM');
    assert.deepEqual((await old.expectCommand('MARKREAD')).params, ['#ROOM', 'timestamp=2024-01-04T14:33:26.123Z']);
    old.send('MARKREAD somebody');
    assert.deepEqual((await old.expectCommand('MARKREAD')).params, ['somebody', '*']);

    // On JOIN: MARKREAD after JOIN, before RPL_ENDOFNAMES.
    phone.send('JOIN #room');
    const lines = await phone.sync();
    const order = lines.map((m) => m.command);
    assert.ok(order.indexOf('JOIN') < order.indexOf('MARKREAD') && order.indexOf('MARKREAD') < order.indexOf('366'), order.join(' '));
    assert.deepEqual(lines.find((m) => m.command === 'MARKREAD')!.params, ['#room', 'timestamp=2024-01-04T14:33:26.123Z']);
    for (const c of [phone, laptop, old]) c.close();
  });

  it('sends * on JOIN to a client that is not logged in, and refuses MARKREAD without an account', async () => {
    const guest = await RawClient.register(server.port, 'guest', ['draft/read-marker']);
    guest.send('JOIN #room');
    const order = (await guest.sync()).map((m) => `${m.command}${m.command === 'MARKREAD' ? ' ' + m.params.join(' ') : ''}`);
    assert.deepEqual(order.slice(0, 2), ['JOIN', 'MARKREAD #room *']);
    assert.equal(order.at(-1), '366');
    guest.send('MARKREAD #room timestamp=2024-01-04T14:33:26.123Z');
    assert.deepEqual((await guest.expectCommand('FAIL')).params.slice(0, 2), ['MARKREAD', 'ACCOUNT_REQUIRED']);
    guest.close();
  });

  it('answers bad parameters with standard replies', async () => {
    const mara = await loginClient(server.port, 'mara3', 'mara', 'markerpass1', ['draft/read-marker']);
    const fails: string[][] = [];
    for (const line of ['MARKREAD', 'MARKREAD #room yesterday', 'MARKREAD #room *', 'MARKREAD #room timestamp=2024-13-45', 'MARKREAD bad,target']) {
      mara.send(line);
      fails.push((await mara.expectCommand('FAIL')).params.slice(0, 2));
    }
    assert.deepEqual(fails, [
      ['MARKREAD', 'NEED_MORE_PARAMS'],
      ['MARKREAD', 'INVALID_PARAMS'],
      ['MARKREAD', 'INVALID_PARAMS'],
      ['MARKREAD', 'INVALID_PARAMS'],
      ['MARKREAD', 'INVALID_PARAMS'],
    ]);
    mara.close();
  });
});
