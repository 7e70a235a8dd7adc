// Multiclient (issue 11): several connections logged in to one account share its nick and are
// one user to everyone else (Ergo's multiclient, soju's model). Each test uses its own account
// and room so they cannot see one another.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import IRC from 'irc-framework';
import { parseMessage, type IrcMessage } from '../../src/protocol/index.js';
import { hashPassword } from '../../src/auth/password.js';
import { RawClient } from '../helpers/raw-client.js';
import { loginClient, loginUpToEnd, registerAccount } from '../helpers/accounts.js';
import { is, join } from '../helpers/fixture.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Log in to `account` with SASL PLAIN asking for `nick`, and return what registration ended with:
 * 001, or the 433 that came first (before SASL when multiclient is off, after it when on).
 */
async function loginExpectingRefusal(port: number, nick: string, account: string, password: string): Promise<{ client: RawClient; reply: IrcMessage }> {
  const client = await RawClient.connect({ port });
  await loginUpToEnd(client, nick, account, password);
  await client.sync();
  const line = client.lines.find((l) => / (001|433) /.test(l))!;
  return { client, reply: parseMessage(line)! };
}

const luserCount = async (client: RawClient) => {
  client.send('LUSERS');
  const lines = await client.sync();
  return lines.find(is('251'))!.params.at(-1)!;
};

const privmsgs = (lines: IrcMessage[]) => lines.filter(is('PRIVMSG')).map((m) => `${m.source!.split('!')[0]} ${m.params.join(' ')}`);

describe('multiclient: one account, several connections, one nick', () => {
  let server: TestServer;
  const open: RawClient[] = [];
  const track = <T extends RawClient>(client: T) => (open.push(client), client);
  const login = async (nick: string, caps: string[] = []) => track(await loginClient(server.port, nick, nick, `${nick}-password`, caps));

  before(async () => {
    server = await startTestServer({
      accounts: { scrypt_log_n: 10, multiclient_max_connections: 3 },
      opers: [{ name: 'op', password_hash: await hashPassword('op-password', { N: 1024 }) }],
    });
    for (const name of ['mcann', 'mcbea', 'mccal', 'mcdee', 'mceve', 'mcfay', 'mcgus', 'mchal', 'mcivy']) {
      await registerAccount(server.port, name, `${name}-password`);
    }
  });
  after(async () => {
    for (const client of open) client.close();
    await server.stop();
  });

  it('a second login with the nick joins the user: the same nick, its rooms shown with JOIN, topic and NAMES; one user in LUSERS', async () => {
    const first = await login('mcann');
    const peer = track(await RawClient.register(server.port, 'mcpeer1'));
    await join(first, '#mc-burst');
    first.send('TOPIC #mc-burst :shared topic');
    first.send('AWAY :at lunch');
    await first.sync();
    await join(peer, '#mc-burst');
    const usersBefore = await luserCount(peer);

    const second = await login('mcann');
    assert.ok(second.lines.some((l) => / 253 mcann 0 /.test(l)), 'its own welcome does not count it as an unknown connection');
    const burst = await second.sync();
    const welcome = burst.find(is('JOIN'));
    assert.ok(welcome, 'the second connection is told about the room it is already in');
    assert.equal(welcome.source!.split('!')[0], 'mcann');
    assert.equal(welcome.params[0], '#mc-burst');
    assert.equal(burst.find(is('332'))?.params.at(-1), 'shared topic');
    const names = burst.find(is('353'))!.params.at(-1)!.split(' ');
    assert.deepEqual(names.map((n) => n.replace(/^[@+]/, '')).sort(), ['mcann', 'mcpeer1']);
    assert.ok(burst.some(is('306')), 'the away state is shown (306)');

    assert.equal(await luserCount(peer), usersBefore, 'LUSERS still counts one user');
    const peerSaw = await peer.sync();
    assert.equal(peerSaw.filter((m) => m.command === 'JOIN' || m.command === 'QUIT').length, 0, 'the peer sees no JOIN or QUIT');
    peer.send('WHOIS mcann');
    assert.equal((await peer.sync()).find(is('330'))?.params[2], 'mcann');
  });

  it('room and direct messages reach every connection; what one connection says the others see, the sender only with echo-message', async () => {
    const plain = await login('mcbea');
    const echoing = await login('mcbea', ['echo-message', 'labeled-response', 'batch']);
    const peer = track(await RawClient.register(server.port, 'mcpeer2'));
    await join(plain, '#mc-talk');
    await join(peer, '#mc-talk');
    await Promise.all([plain.sync(), echoing.sync()]);

    peer.send('PRIVMSG #mc-talk :hello both');
    peer.send('PRIVMSG mcbea :hello privately');
    await peer.sync();
    for (const client of [plain, echoing]) {
      await client.expect((m) => m.command === 'PRIVMSG' && m.params[1] === 'hello both');
      await client.expect((m) => m.command === 'PRIVMSG' && m.params[1] === 'hello privately');
    }

    plain.send('PRIVMSG #mc-talk :from the plain one');
    plain.send('PRIVMSG mcpeer2 :direct from plain');
    await plain.sync();
    await peer.expect((m) => m.params[1] === 'from the plain one');
    await peer.expect((m) => m.params[1] === 'direct from plain');
    const seenByEchoing = privmsgs(await echoing.sync());
    assert.deepEqual(seenByEchoing, ['mcbea #mc-talk from the plain one', 'mcbea mcpeer2 direct from plain']);
    assert.deepEqual(privmsgs(await plain.sync()), [], 'no echo without echo-message');

    echoing.send('@label=e1 PRIVMSG #mc-talk :from the echoing one');
    const echo = await echoing.expect(is('PRIVMSG'));
    assert.equal(echo.tags?.label, 'e1', 'the acting connection gets its echo as the labeled reply');
    await plain.expect((m) => m.command === 'PRIVMSG' && m.params[1] === 'from the echoing one' && m.tags?.label === undefined);
    await peer.expect((m) => m.params[1] === 'from the echoing one');
  });

  it('JOIN, PART and NICK on one connection are shown on the other', async () => {
    const first = await login('mccal');
    const second = await login('mccal');
    const peer = track(await RawClient.register(server.port, 'mcpeer3'));
    await join(peer, '#mc-moves');
    await second.sync();

    await join(first, '#mc-moves');
    const shown = await second.sync();
    assert.equal(shown.find(is('JOIN'))?.params[0], '#mc-moves');
    assert.ok(shown.some(is('353')) && shown.some(is('366')), 'the other connection gets NAMES too');
    assert.equal((await peer.sync()).filter(is('JOIN')).length, 1, 'the room sees one JOIN');

    second.send('NICK mccal_');
    await second.expect(is('NICK'));
    const renamed = await first.expect(is('NICK'));
    assert.deepEqual([renamed.source!.split('!')[0], renamed.params[0]], ['mccal', 'mccal_']);
    assert.equal((await peer.sync()).filter(is('NICK')).length, 1);
    peer.send('WHOIS mccal_');
    assert.equal((await peer.sync()).find(is('330'))?.params[2], 'mccal', 'the renamed user is still logged in');

    first.send('PART #mc-moves :bye');
    await first.expect(is('PART'));
    const parted = await second.expect(is('PART'));
    assert.deepEqual([parted.source!.split('!')[0], parted.params[0]], ['mccal_', '#mc-moves']);
    const peerLines = await peer.sync();
    assert.equal(peerLines.filter(is('PART')).length, 1);
  });

  it('a QUIT of one connection is not a QUIT for the others; the last one is, and frees the nick', async () => {
    const first = await login('mcdee');
    const second = await login('mcdee');
    const peer = track(await RawClient.register(server.port, 'mcpeer4'));
    await join(first, '#mc-quit');
    await join(peer, '#mc-quit');
    await second.sync();

    first.send('QUIT :switching devices');
    await first.closedByServer();
    peer.send('PRIVMSG #mc-quit :still there?');
    await second.expect((m) => m.params[1] === 'still there?');
    assert.equal((await peer.sync()).filter(is('QUIT')).length, 0, 'the room sees no QUIT');
    second.send('PRIVMSG #mc-quit :yes');
    await peer.expect((m) => m.params[1] === 'yes');

    second.send('QUIT :gone for good');
    const quit = await peer.expect(is('QUIT'));
    assert.deepEqual([quit.source!.split('!')[0], quit.params[0]], ['mcdee', 'Quit: gone for good']);
    peer.send('WHOIS mcdee');
    assert.ok((await peer.sync()).some(is('401')), 'the nick is free once the last connection left');
  });

  it('the user lives on when its first connection closes, and a new connection still joins it', async () => {
    const first = await login('mceve');
    const second = await login('mceve');
    const peer = track(await RawClient.register(server.port, 'mcpeer5'));
    await join(first, '#mc-first');
    await join(peer, '#mc-first');
    first.close();
    await second.sync();
    peer.send('PRIVMSG mceve :are you there');
    await second.expect((m) => m.params[1] === 'are you there');

    const third = await login('mceve');
    assert.equal((await third.sync()).find(is('JOIN'))?.params[0], '#mc-first');
    second.close();
    peer.send('PRIVMSG #mc-first :and now');
    await third.expect((m) => m.params[1] === 'and now');
    assert.equal((await peer.sync()).filter(is('QUIT')).length, 0);
    third.close();
    const quit = await peer.expect(is('QUIT'));
    assert.equal(quit.source!.split('!')[0], 'mceve');
  });

  it('refuses with 433 a connection not logged in, one of another account, one over the limit', async () => {
    const owner = await login('mcfay');
    const anonymous = track(await RawClient.connect({ port: server.port }));
    anonymous.send('NICK mcfay');
    anonymous.send('USER x 0 * :x');
    const refused = await anonymous.expect(is('433'));
    assert.equal(refused.params[1], 'mcfay');

    const other = await loginExpectingRefusal(server.port, 'mcfay', 'mcgus', 'mcgus-password');
    track(other.client);
    assert.equal(other.reply.command, '433', 'another account cannot take the nick');
    other.client.send('NICK mcgus');
    await other.client.expect(is('001'));

    await login('mcfay');
    await login('mcfay');
    const over = await loginExpectingRefusal(server.port, 'mcfay', 'mcfay', 'mcfay-password');
    track(over.client);
    assert.equal(over.reply.command, '433');
    assert.match(over.reply.params.at(-1)!, /on 3 connections, the most allowed/);
    owner.send('PING still-fine');
    await owner.expect(is('PONG'));
  });

  it('MARKREAD on one connection moves the marker on the others', async () => {
    const first = await login('mchal', ['draft/read-marker']);
    const second = await login('mchal', ['draft/read-marker']);
    await join(first, '#mc-read');
    await second.sync();
    first.send('MARKREAD #mc-read timestamp=2026-01-01T00:00:00.000Z');
    await first.expect(is('MARKREAD'));
    const moved = await second.expect(is('MARKREAD'));
    assert.deepEqual(moved.params, ['#mc-read', 'timestamp=2026-01-01T00:00:00.000Z']);
  });

  it('KILL ends every connection; SASL re-authentication is refused while several are connected', async () => {
    const first = await login('mcivy');
    const second = await login('mcivy');
    second.send('AUTHENTICATE PLAIN');
    assert.equal((await second.expect((m) => m.command === '904' || m.command === 'AUTHENTICATE')).command, '904');

    const oper = track(await RawClient.register(server.port, 'mcoper'));
    oper.send('OPER op op-password');
    await oper.expect(is('381'));
    oper.send('KILL mcivy :enough');
    await Promise.all([first.closedByServer(), second.closedByServer()]);
    oper.send('WHOIS mcivy');
    assert.ok((await oper.sync()).some(is('401')), 'the user is gone');
  });
});

describe('multiclient and flood control', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ accounts: { scrypt_log_n: 10 }, limits: { command_burst: 5, commands_per_second: 10, recvq_bytes: 8704 } });
    await registerAccount(server.port, 'mcjon', 'mcjon-password');
  });
  after(() => server.stop());

  // 127.0.0.1 is exempt from flood control in tests: these clients come from 127.0.0.2 and up.
  it('an excess flood on one connection drops only that connection', async () => {
    const calm = await loginClient(server.port, 'mcjon', 'mcjon', 'mcjon-password', [], { localAddress: '127.0.0.2' });
    const flooder = await loginClient(server.port, 'mcjon', 'mcjon', 'mcjon-password', [], { localAddress: '127.0.0.3' });
    const peer = await RawClient.register(server.port, 'mcpeer6', [], { localAddress: '127.0.0.4' });
    await join(calm, '#mc-flood');
    await join(peer, '#mc-flood');
    flooder.sendRaw(`PRIVMSG mcpeer6 :${'x'.repeat(30)}\r\n`.repeat(1000));
    await flooder.closedByServer();
    assert.ok(flooder.lines.some((l) => l.startsWith('ERROR') && l.includes('Excess flood')));
    peer.send('PRIVMSG #mc-flood :calm still here?');
    await calm.expect((m) => m.params[1] === 'calm still here?');
    const peerLines = await peer.sync();
    assert.equal(peerLines.filter(is('QUIT')).length, 0, 'the user did not leave');
    for (const client of [calm, peer]) client.close();
  });
});

describe('multiclient turned off (accounts.multiclient: false)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ accounts: { scrypt_log_n: 10, multiclient: false } });
    await registerAccount(server.port, 'mcoff', 'mcoff-password');
  });
  after(() => server.stop());

  it('a second login of the account asking for its nick gets 433', async () => {
    const first = await loginClient(server.port, 'mcoff', 'mcoff', 'mcoff-password');
    const second = await loginExpectingRefusal(server.port, 'mcoff', 'mcoff', 'mcoff-password');
    assert.equal(second.reply.command, '433');
    assert.equal(second.reply.params.at(-1), 'Nickname is already in use');
    first.close();
    second.client.close();
  });
});

describe('multiclient with irc-framework as the second device', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ accounts: { scrypt_log_n: 10 } });
    await registerAccount(server.port, 'fwmulti', 'fwmulti-password');
  });
  after(() => server.stop());

  it('irc-framework logs in with SASL, gets the nick and the rooms, and hears the room', async () => {
    const first = await loginClient(server.port, 'fwmulti', 'fwmulti', 'fwmulti-password');
    const peer = await RawClient.register(server.port, 'fwpeer');
    await join(first, '#fw-multi');
    await join(peer, '#fw-multi');

    const framework = new IRC.Client() as {
      user: { nick: string };
      connect(options: Record<string, unknown>): void;
      on(event: string, listener: (event: { nick?: string; channel?: string; message?: string; target?: string }) => void): void;
      quit(message?: string): void;
    };
    const joined = new Promise<string>((resolve) => framework.on('join', (e) => resolve(e.channel!)));
    const heard = new Promise<string>((resolve) => framework.on('message', (e) => e.target === '#fw-multi' && resolve(`${e.nick}: ${e.message}`)));
    const registered = new Promise<void>((resolve) => framework.on('registered', () => resolve()));
    framework.connect({ host: '127.0.0.1', port: server.port, nick: 'fwmulti', username: 'fw', gecos: 'fw', auto_reconnect: false, account: { account: 'fwmulti', password: 'fwmulti-password' } });
    await registered;
    assert.equal(framework.user.nick, 'fwmulti', 'irc-framework keeps the shared nick');
    assert.equal(await joined, '#fw-multi');
    peer.send('PRIVMSG #fw-multi :hi framework');
    assert.equal(await heard, 'fwpeer: hi framework');
    framework.quit('bye');
    first.close();
    peer.close();
  });
});
