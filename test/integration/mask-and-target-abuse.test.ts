import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { IrcMessage } from '../../src/protocol/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const is = (command: string) => (m: IrcMessage) => m.command === command;
const NASTY = '*a*a*a*a*a*a*a*a*a*a*b';

// Each of these froze the event loop, or multiplied a message, before issue 10.
describe('hostile masks and repeated targets', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ limits: { ping_interval_seconds: 60 } });
  });
  after(() => server.stop());

  it('a backtracking ban mask does not stall a join', async () => {
    const op = await RawClient.register(server.port, 'roomop');
    op.send('JOIN #masks');
    await op.expect(is('366'));
    op.send(`MODE #masks +b ${NASTY}!*@*`);
    await op.expect((m) => m.command === 'MODE' && m.params[1] === '+b');
    // As a regex this took minutes: thirty a's against ten stars and a b that never comes.
    const victim = await RawClient.register(server.port, 'a'.repeat(30));
    victim.send('JOIN #masks');
    const joined = await victim.expect((m) => m.command === 'JOIN' || m.command === '474', 3000);
    assert.equal(joined.command, 'JOIN', 'the mask does not match, so the join goes through');
    await op.sync();
    op.close();
    victim.close();
  });

  it('a backtracking WHO mask answers at once', async () => {
    const asker = await RawClient.register(server.port, 'asker');
    const crowd = await Promise.all(Array.from({ length: 5 }, (_, i) => RawClient.register(server.port, `${'a'.repeat(25)}${i}`)));
    asker.send(`WHO ${NASTY}`);
    const replies = await asker.sync();
    assert.equal(replies.filter(is('352')).length, 0);
    assert.equal(replies.filter(is('315')).length, 1);
    asker.send('WHO *a*a*a*a*0');
    assert.equal((await asker.sync()).filter(is('352')).length, 1, 'a mask that matches still finds its user');
    for (const c of [asker, ...crowd]) c.close();
  });

  it('refuses an over-long ban mask', async () => {
    const op = await RawClient.register(server.port, 'longop');
    op.send('JOIN #long');
    await op.expect(is('366'));
    op.send(`MODE #long +b ${'*a'.repeat(100)}!*@*`);
    const refused = await op.expect(is('696'));
    assert.equal(refused.params[2], 'b');
    op.send('MODE #long +b');
    assert.equal((await op.sync()).filter(is('367')).length, 0);
    op.close();
  });

  it('delivers a message once per target however often the target is repeated', async () => {
    const sender = await RawClient.register(server.port, 'repeater', ['echo-message']);
    const listener = await RawClient.register(server.port, 'listener');
    for (const c of [sender, listener]) c.send('JOIN #dup');
    await sender.expect(is('366'));
    await listener.expect(is('366'));
    await listener.sync();
    sender.send('PRIVMSG #dup,#DUP,#dup,#Dup :once');
    sender.send('PRIVMSG listener,LISTENER :just once');
    await sender.sync();
    const got = (await listener.sync()).filter(is('PRIVMSG'));
    assert.deepEqual(got.map((m) => m.params.join(' ')), ['#dup once', 'listener just once']);
    sender.close();
    listener.close();
  });

  it('acknowledges a duplicated cap once, and refuses adding and removing one cap at once', async () => {
    const client = await RawClient.connect({ port: server.port });
    client.send('CAP LS 302');
    client.send('CAP REQ :server-time server-time echo-message');
    const ack = await client.expect((m) => m.command === 'CAP' && (m.params[1] === 'ACK' || m.params[1] === 'NAK'));
    assert.deepEqual([ack.params[1], ack.params[2]], ['ACK', 'server-time echo-message']);
    client.send('CAP REQ :away-notify -away-notify');
    const nak = await client.expect((m) => m.command === 'CAP' && (m.params[1] === 'ACK' || m.params[1] === 'NAK'));
    assert.equal(nak.params[1], 'NAK');
    client.close();
  });
});
