// Behaviours that deviated from the specs (issue 11), each checked on the wire.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { hashPassword } from '../../src/auth/password.js';
import type { IrcMessage } from '../../src/protocol/index.js';
import { loginClient, registerAccount } from '../helpers/accounts.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const is = (command: string) => (m: IrcMessage) => m.command === command;
async function ask(client: RawClient, line: string): Promise<string[][]> {
  client.send(line);
  return (await client.sync()).map((m) => [m.command, ...m.params.slice(1)]);
}
/** A raw line without its tags, as the 512-byte limit counts it (CRLF included). */
const untaggedBytes = (line: string) => Buffer.byteLength(line.startsWith('@') ? line.slice(line.indexOf(' ') + 1) : line) + 2;

describe('spec conformance', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      accounts: { scrypt_log_n: 10 },
      http: { listen: '127.0.0.1:0' },
      opers: [{ name: 'op', password_hash: await hashPassword('op-password', { N: 1024 }) }],
    });
  });
  after(() => server.stop());

  it('WHO flags: * after H or G for an IRC operator, before the room prefix', async () => {
    const oper = await RawClient.register(server.port, 'whoop');
    oper.send('OPER op op-password');
    await oper.expectCommand('381');
    oper.send('JOIN #who');
    await oper.expectCommand('366');
    const plain = await RawClient.register(server.port, 'whoplain');
    plain.send('JOIN #who');
    await plain.expectCommand('366');
    const flags = async (mask: string) => (await ask(plain, `WHO ${mask}`)).filter((r) => r[0] === '352').map((r) => [r[5], r[6]]);
    assert.deepEqual(await flags('#who'), [['whoop', 'H*@'], ['whoplain', 'H']]);
    oper.send('AWAY :gone');
    await oper.expectCommand('306');
    assert.deepEqual(await flags('whoop'), [['whoop', 'G*']]);
    oper.close();
    plain.close();
  });

  it('NOTICE never gets an error back; PRIVMSG still does', async () => {
    const c = await RawClient.register(server.port, 'noticer');
    const host = await RawClient.register(server.port, 'nhost');
    host.send('JOIN #quiet');
    await host.expectCommand('366');
    host.send('MODE #quiet +m');
    await host.sync();
    for (const line of ['NOTICE #nosuch :hi', 'NOTICE nosuchnick :hi', 'NOTICE #quiet :outside (+n)', 'NOTICE', 'NOTICE nhost', 'NOTICE a,b,c,d,e :many', 'NOTICE @nhost :x']) {
      assert.deepEqual(await ask(c, line), [], line);
    }
    assert.deepEqual(await ask(c, 'PRIVMSG nosuchnick :hi'), [['401', 'nosuchnick', 'No such nick/channel']]);
    // A NOTICE to a mix still reaches the targets that exist.
    c.send('NOTICE nosuch,nhost :still delivered');
    const got = await host.expect(is('NOTICE'));
    assert.deepEqual(got.params, ['nhost', 'still delivered']);
    assert.deepEqual(await c.sync(), []);
    c.close();
    host.close();
  });

  it('USER with an empty realname or username is ERR_NEEDMOREPARAMS; a good USER then registers', async () => {
    const c = await RawClient.connect({ port: server.port });
    c.send('NICK emptyreal');
    assert.deepEqual(await ask(c, 'USER name * * :'), [['461', 'USER', 'Not enough parameters']]);
    assert.deepEqual(await ask(c, 'USER : * * :Real'), [['461', 'USER', 'Not enough parameters']]);
    c.send('USER name * * :Real Name');
    await c.expect(is('001'));
    c.close();
  });

  it('KICK #a,#b u1,u2 kicks in pairs; one room takes several nicks; other shapes are 461', async () => {
    const op = await RawClient.register(server.port, 'kicker');
    const [u1, u2, u3] = [await RawClient.register(server.port, 'ku1'), await RawClient.register(server.port, 'ku2'), await RawClient.register(server.port, 'ku3')];
    for (const room of ['#ka', '#kb']) {
      op.send(`JOIN ${room}`);
      await op.expectCommand('366');
    }
    for (const [user, rooms] of [[u1, '#ka,#kb'], [u2, '#ka,#kb'], [u3, '#ka']] as const) {
      user.send(`JOIN ${rooms}`);
      await user.sync();
    }
    await op.sync();
    op.send('KICK #ka,#kb ku1,ku2 :pairs');
    const kicks = (await op.sync()).filter(is('KICK')).map((m) => m.params);
    assert.deepEqual(kicks, [['#ka', 'ku1', 'pairs'], ['#kb', 'ku2', 'pairs']]);
    assert.deepEqual(await ask(op, 'KICK #ka,#kb ku1,ku2,ku3'), [['461', 'KICK', 'Not enough parameters']]);
    op.send('KICK #ka ku2,ku3');
    assert.deepEqual((await op.sync()).filter(is('KICK')).map((m) => m.params.slice(0, 2)), [['#ka', 'ku2'], ['#ka', 'ku3']]);
    // u1 is still in #kb, u2 in neither now.
    // (ask drops the first parameter: the room of the KICK, the client of the numeric.)
    assert.deepEqual(await ask(op, 'KICK #kb,#ka ku1,ku2'), [
      ['KICK', 'ku1', 'kicker'],
      ['441', 'ku2', '#ka', "They aren't on that channel"],
    ]);
    for (const c of [op, u1, u2, u3]) c.close();
  });

  it('696 ERR_INVALIDMODEPARAM carries target, mode, parameter (* if empty) and text', async () => {
    const op = await RawClient.register(server.port, 'modeop');
    op.send('JOIN #m696');
    await op.expectCommand('366');
    const text = 'Invalid limit: must be a positive number';
    assert.deepEqual(await ask(op, 'MODE #m696 +l abc'), [['696', '#m696', 'l', 'abc', text]]);
    assert.deepEqual(await ask(op, 'MODE #m696 +l :'), [['696', '#m696', 'l', '*', text]]);
    assert.deepEqual(await ask(op, 'MODE #m696 +l :1 2'), [['696', '#m696', 'l', '*', text]]);
    op.send('MODE #m696 +l :');
    await op.sync();
    const raw = op.lines.filter((l) => l.includes(' 696 ')).at(-1)!;
    assert.equal(raw, ':parley.local 696 modeop #m696 l * :Invalid limit: must be a positive number');
    op.close();
  });

  it('relayed lines stay within 512 bytes: the text is cut at a character boundary, the same for echo and history', async () => {
    const caps = ['echo-message', 'batch', 'server-time', 'message-tags', 'draft/chathistory'];
    const nick = 'a-long-sender-nick-of-30-chars';
    const sender = await RawClient.register(server.port, nick, caps);
    const reader = await RawClient.register(server.port, 'reader');
    for (const c of [sender, reader]) {
      c.send('JOIN #fit');
      await c.expectCommand('366');
    }
    await sender.sync();
    // The longest text the sender's own line can carry (510 bytes before CRLF), in 3-byte characters.
    const head = 'PRIVMSG #fit :';
    const text = 'x' + '€'.repeat(Math.floor((510 - head.length - 1) / 3));
    assert.ok(Buffer.byteLength(head + text) <= 510);
    sender.send(head + text);
    const got = await reader.expect(is('PRIVMSG'));
    const line = reader.lines.find((l) => l.includes(' PRIVMSG #fit '))!;
    assert.ok(untaggedBytes(line) <= 512, `${untaggedBytes(line)} bytes`);
    const relayed = got.params[1]!;
    assert.ok(relayed.length < text.length && text.startsWith(relayed), 'cut, and only at the end');
    assert.ok(!relayed.includes('\ufffd'), 'no broken character');
    const echo = await sender.expect(is('PRIVMSG'));
    assert.equal(echo.params[1], relayed);
    sender.send('CHATHISTORY LATEST #fit * 1');
    const stored = (await sender.sync()).find(is('PRIVMSG'))!;
    assert.equal(stored.params[1], relayed);

    // The same for other relayed text: a PART reason, and a topic (kept as it was sent).
    const topic = 'y'.repeat(390);
    sender.send(`TOPIC #fit :${topic}`);
    const topicLine = await reader.expect(is('TOPIC'));
    assert.ok(untaggedBytes(reader.lines.find((l) => l.includes(' TOPIC #fit '))!) <= 512);
    reader.send('TOPIC #fit');
    const current = await reader.expect(is('332'));
    assert.equal(current.params[2], topicLine.params[1]);
    sender.send(`PART #fit :${'z'.repeat(480)}`);
    await reader.expect(is('PART'));
    assert.ok(untaggedBytes(reader.lines.find((l) => l.includes(' PART #fit '))!) <= 512);
    // Every line the reader got fits.
    for (const l of reader.lines) assert.ok(untaggedBytes(l) <= 512, l);
    sender.close();
    reader.close();
  });

  it('WebSocket: the first subprotocol the client lists that the server speaks', async () => {
    const url = `ws://127.0.0.1:${server.http!.port}/`;
    const chosen = async (protocols: string[]) => {
      const ws = new WebSocket(url, protocols);
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      const protocol = ws.protocol;
      ws.close();
      return protocol;
    };
    assert.equal(await chosen(['text.ircv3.net', 'binary.ircv3.net']), 'text.ircv3.net');
    assert.equal(await chosen(['binary.ircv3.net', 'text.ircv3.net']), 'binary.ircv3.net');
    assert.equal(await chosen(['x-unknown', 'text.ircv3.net']), 'text.ircv3.net');
    assert.equal(await chosen([]), '');
  });

  it('the account tag on INVITE (and JOIN, NICK) from a logged-in user', async () => {
    await registerAccount(server.port, 'tagger', 'tagger-password');
    const inviter = await loginClient(server.port, 'tagger', 'tagger', 'tagger-password');
    const guest = await RawClient.register(server.port, 'tagguest', ['account-tag']);
    const watcher = await RawClient.register(server.port, 'tagwatch', ['account-tag']);
    watcher.send('JOIN #tags');
    await watcher.expectCommand('366');
    inviter.send('JOIN #tags');
    const join = await watcher.expect((m) => m.command === 'JOIN' && m.source?.startsWith('tagger!') === true);
    assert.equal(join.tags?.account, 'tagger');
    inviter.send('INVITE tagguest #tags');
    const invite = await guest.expect(is('INVITE'));
    assert.equal(invite.tags?.account, 'tagger');
    assert.deepEqual(invite.params, ['tagguest', '#tags']);
    inviter.send('NICK tagger_');
    assert.equal((await watcher.expect(is('NICK'))).tags?.account, 'tagger');
    // Without the cap, no tag.
    const plain = await RawClient.register(server.port, 'tagplain');
    inviter.send('INVITE tagplain #tags');
    assert.equal((await plain.expect(is('INVITE'))).tags, undefined);
    for (const c of [inviter, guest, watcher, plain]) c.close();
  });
});
