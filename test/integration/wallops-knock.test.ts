// WALLOPS with user mode +w, and KNOCK (irssi's /KNOCK), over real sockets.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hashPassword } from '../../src/auth/password.js';
import type { IrcMessage } from '../../src/protocol/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const is = (command: string) => (m: IrcMessage) => m.command === command;
async function ask(client: RawClient, line: string): Promise<string[][]> {
  client.send(line);
  return (await client.sync()).map((m) => [m.command, ...m.params.slice(1)]);
}

describe('WALLOPS and user mode +w', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ opers: [{ name: 'op', password_hash: await hashPassword('op-password', { N: 1024 }) }] });
  });
  after(() => server.stop());

  it('reaches +w users only (and the sender), and only operators may send it', async () => {
    const oper = await RawClient.register(server.port, 'wop');
    const listener = await RawClient.register(server.port, 'wlisten');
    const deaf = await RawClient.register(server.port, 'wdeaf');
    assert.deepEqual(await ask(listener, 'WALLOPS :hi'), [['481', "Permission Denied- You're not an IRC operator"]]);

    listener.send('MODE wlisten +w');
    const mode = await listener.expectCommand('MODE');
    assert.deepEqual([mode.source, ...mode.params], ['wlisten!~wlisten@127.0.0.1', 'wlisten', '+w']);
    assert.deepEqual(await ask(listener, 'MODE wlisten'), [['221', '+w']]);
    assert.deepEqual(await ask(listener, 'MODE wlisten +w'), [], 'no change, no MODE');

    oper.send('OPER op op-password');
    await oper.expectCommand('381');
    await oper.expectCommand('MODE');
    assert.deepEqual(await ask(oper, 'MODE wop'), [['221', '+o']]);
    oper.send('WALLOPS :server going down at noon');
    const got = await listener.expect(is('WALLOPS'));
    assert.equal(got.source, 'wop!~wop@127.0.0.1');
    assert.deepEqual(got.params, ['server going down at noon']);
    const echo = await oper.expect(is('WALLOPS'));
    assert.deepEqual(echo.params, ['server going down at noon']);
    assert.deepEqual(await ask(oper, 'WALLOPS :'), [['461', 'WALLOPS', 'Not enough parameters']]);
    assert.deepEqual(await ask(oper, 'WALLOPS'), [['461', 'WALLOPS', 'Not enough parameters']]);
    assert.ok((await deaf.sync()).every((m) => m.command !== 'WALLOPS'), 'not +w: nothing');

    // -w stops them; -o gives operator status up (+o from MODE is ignored).
    listener.send('MODE wlisten -w');
    await listener.expectCommand('MODE');
    oper.send('WALLOPS :second');
    await oper.expect(is('WALLOPS'));
    assert.ok((await listener.sync()).every((m) => m.command !== 'WALLOPS'));
    const deop = await ask(oper, 'MODE wop -o');
    assert.deepEqual(deop, [['MODE', '-o']]);
    assert.deepEqual(await ask(oper, 'MODE wop +o'), []);
    assert.deepEqual(await ask(oper, 'MODE wop'), [['221', '+']]);
    assert.equal((await ask(oper, 'WALLOPS :x'))[0]![0], '481');
    for (const c of [oper, listener, deaf]) c.close();
  });

  it('004 lists the user modes i, o and w', async () => {
    const c = await RawClient.connect({ port: server.port });
    c.send('NICK umodes');
    c.send('USER umodes 0 * :u');
    const myinfo = await c.expect(is('004'));
    assert.equal(myinfo.params[3], 'Biow');
    assert.deepEqual(myinfo.params.slice(4), ['beICimnstklov', 'beIklov']);
    c.close();
  });
});

describe('KNOCK', () => {
  let server: TestServer;
  let op: RawClient;
  let member: RawClient;
  before(async () => {
    server = await startTestServer({ opers: [{ name: 'op', password_hash: await hashPassword('op-password', { N: 1024 }) }] });
    op = await RawClient.register(server.port, 'kop');
    member = await RawClient.register(server.port, 'kmember');
    for (const room of ['#closed', '#open', '#keyed', '#full', '#banned']) {
      op.send(`JOIN ${room}`);
      await op.expectCommand('366');
    }
    member.send('JOIN #closed');
    await member.expectCommand('366');
    op.send('MODE #closed +i');
    op.send('MODE #keyed +k secret');
    op.send('MODE #full +l 1');
    op.send('MODE #banned +ib *!~kbanned@*');
    await op.sync();
  });
  after(async () => {
    op.close();
    member.close();
    await server.stop();
  });

  it('tells the operators of an invite-only room, once per user per delay and per room', async () => {
    const knocker = await RawClient.register(server.port, 'knocker');
    assert.deepEqual(await ask(knocker, 'KNOCK #closed'), [['711', '#closed', 'Your KNOCK has been delivered.']]);
    const note = await op.expect(is('710'));
    assert.equal(note.source, 'parley.local');
    assert.deepEqual(note.params, ['#closed', '#closed', 'knocker!~knocker@127.0.0.1', 'has asked for an invite.']);
    assert.ok((await member.sync()).every((m) => m.command !== '710'), 'only operators are told');
    assert.deepEqual(await ask(knocker, 'KNOCK #keyed'), [['712', '#keyed', 'Too many KNOCKs (user).']]);
    const other = await RawClient.register(server.port, 'knocker2');
    assert.deepEqual(await ask(other, 'KNOCK #closed'), [['712', '#closed', 'Too many KNOCKs (channel).']]);
    // The invitation it asked for lets it in.
    op.send('INVITE knocker #closed');
    await knocker.expect(is('INVITE'));
    knocker.send('JOIN #closed');
    await knocker.expectCommand('366');
    assert.deepEqual(await ask(knocker, 'KNOCK #closed'), [['714', '#closed', "You're already on that channel."]]);
    knocker.close();
    other.close();
  });

  it('works for +k and a full +l room; refuses open rooms, the banned and missing rooms', async () => {
    const a = await RawClient.register(server.port, 'knocka');
    assert.deepEqual(await ask(a, 'KNOCK #keyed :please'), [['711', '#keyed', 'Your KNOCK has been delivered.']]);
    assert.deepEqual((await op.expect(is('710'))).params.slice(2), ['knocka!~knocka@127.0.0.1', 'has asked for an invite: please']);
    const b = await RawClient.register(server.port, 'knockb');
    assert.equal((await ask(b, 'KNOCK #full'))[0]![0], '711');
    const c = await RawClient.register(server.port, 'knockc');
    assert.deepEqual(await ask(c, 'KNOCK #open'), [['713', '#open', 'Channel is open.']]);
    assert.deepEqual(await ask(c, 'KNOCK #nowhere'), [['403', '#nowhere', 'No such channel']]);
    assert.deepEqual(await ask(c, 'KNOCK'), [['461', 'KNOCK', 'Not enough parameters']]);
    const banned = await RawClient.register(server.port, 'kbanned');
    assert.deepEqual(await ask(banned, 'KNOCK #banned'), [['404', '#banned', 'Cannot send to channel (banned)']]);
    for (const client of [a, b, c, banned]) client.close();
  });
});
