import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import IRC from 'irc-framework';
import type { IrcMessage } from '../../src/protocol/index.js';
import { loginClient, registerAccount } from '../helpers/accounts.js';
import { RawClient } from '../helpers/raw-client.js';
import { manualClock, startTestServer, type TestServer } from '../helpers/server.js';

const RESERVED = 'Nickname is reserved by a different account';
const plain = (account: string, password: string) => Buffer.from(`${account}\0${account}\0${password}`).toString('base64');
const isWelcome = (m: IrcMessage) => m.command === '001';

/** Connect and send NICK/USER (and `before` lines first); registration is the test's to check. */
async function connectAs(port: number, nick: string, before: string[] = []): Promise<RawClient> {
  const client = await RawClient.connect({ port });
  for (const line of before) client.send(line);
  client.send(`NICK ${nick}`);
  client.send(`USER ${nick} 0 * :${nick}`);
  return client;
}

async function saslPlain(client: RawClient, account: string, password: string): Promise<void> {
  client.send('AUTHENTICATE PLAIN');
  await client.expect((m) => m.command === 'AUTHENTICATE' && m.params[0] === '+');
  client.send(`AUTHENTICATE ${plain(account, password)}`);
  await client.expectCommand('903');
}

describe('registered nicks, strict (the default)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ accounts: { scrypt_log_n: 10 }, limits: { ping_interval_seconds: 60 } });
    await registerAccount(server.port, 'nora', 'nora-password');
  });
  after(() => server.stop());

  it('is the default mode', () => {
    assert.equal(server.server.config.accounts.nick_protection, 'strict');
  });

  it('refuses NICK <registered> to a guest: 433 reserved, nothing seen or stored under that name', async () => {
    const watcher = await RawClient.register(server.port, 'watcher', ['draft/chathistory', 'batch', 'server-time', 'message-tags']);
    const guest = await RawClient.register(server.port, 'guest1');
    for (const c of [watcher, guest]) c.send('JOIN #nora-room');
    await watcher.expect((m) => m.command === 'JOIN' && m.source?.startsWith('guest1!') === true);
    await guest.expectCommand('366');

    guest.send('NICK nora');
    const refused = await guest.expectCommand('433');
    assert.deepEqual(refused.params, ['guest1', 'nora', RESERVED]);
    // irssi shows its own text for 433; a notice says what to do.
    const hint = await guest.expect((m) => m.command === 'NOTICE' && m.source?.startsWith('NickServ!') === true);
    assert.match(hint.params[1]!, /nora is a registered account: log in to use it .*IDENTIFY nora/);
    guest.send('NICK NORA');
    assert.deepEqual((await guest.expectCommand('433')).params, ['guest1', 'NORA', RESERVED]);
    guest.send('PRIVMSG #nora-room :hello, I am nora');
    await guest.sync();

    const seen = await watcher.sync();
    assert.ok(!seen.some((m) => m.command === 'NICK'), 'nobody saw a nick change');
    const said = seen.find((m) => m.command === 'PRIVMSG');
    assert.ok(said?.source?.startsWith('guest1!'), 'the message came from guest1');
    watcher.send('CHATHISTORY LATEST #nora-room * 50');
    const stored = (await watcher.sync()).filter((m) => m.command === 'PRIVMSG');
    assert.equal(stored.length, 1);
    assert.ok(stored.every((m) => m.source?.startsWith('guest1!')), 'history holds nothing under nora');
    for (const c of [watcher, guest]) c.close();
  });

  it('holds registration with a reserved nick until another nick is chosen', async () => {
    const client = await connectAs(server.port, 'nora');
    const refused = await client.expectCommand('433');
    assert.deepEqual(refused.params, ['*', 'nora', RESERVED]);
    assert.ok(!(await client.sync()).some(isWelcome), 'not registered');
    client.send('NICK nora_');
    const welcome = await client.expect(isWelcome);
    assert.equal(welcome.params[0], 'nora_');
    client.close();
  });

  it('grants the reserved nick after SASL, before CAP END or after the refusal', async () => {
    const early = await connectAs(server.port, 'nora', ['CAP LS 302', 'CAP REQ :sasl']);
    await saslPlain(early, 'nora', 'nora-password');
    early.send('CAP END');
    assert.equal((await early.expect(isWelcome)).params[0], 'nora');
    early.close();

    const late = await connectAs(server.port, 'nora', ['CAP LS 302', 'CAP REQ :sasl', 'CAP END']);
    assert.deepEqual((await late.expectCommand('433')).params, ['*', 'nora', RESERVED]);
    await saslPlain(late, 'nora', 'nora-password');
    late.send('NICK nora');
    assert.equal((await late.expect(isWelcome)).params[0], 'nora');
    late.close();
  });

  it('logs in with PASS account:password, or a bare PASS for the nick', async () => {
    const withName = await connectAs(server.port, 'nora', ['PASS nora:nora-password']);
    await withName.expectCommand('900');
    assert.equal((await withName.expect(isWelcome)).params[0], 'nora');
    withName.close();

    const bare = await connectAs(server.port, 'Nora', ['PASS :nora-password']);
    await bare.expectCommand('900');
    assert.equal((await bare.expect(isWelcome)).params[0], 'Nora');
    bare.close();

    // Logged in under another nick: the account's own nick can then be taken.
    const other = await connectAs(server.port, 'zed', ['PASS nora:nora-password']);
    await other.expectCommand('900');
    await other.expect(isWelcome);
    other.send('NICK nora');
    assert.equal((await other.expectCommand('NICK')).params[0], 'nora');
    other.close();
  });

  it('answers a wrong PASS with 464, then applies the nick rules (registration goes on)', async () => {
    const client = await connectAs(server.port, 'nora', ['PASS nora:wrong-password']);
    assert.match((await client.expectCommand('464')).params[1]!, /Password incorrect/);
    assert.deepEqual((await client.expectCommand('433')).params, ['*', 'nora', RESERVED]);
    client.send('NICK nora_guest');
    assert.equal((await client.expect(isWelcome)).params[0], 'nora_guest');
    client.send('WHOIS nora_guest');
    assert.ok(!(await client.sync()).some((m) => m.command === '330'), 'not logged in');
    client.close();
  });

  it('grants the nick after NickServ IDENTIFY; REGAIN takes it from another session', async () => {
    const client = await RawClient.register(server.port, 'nora_phone');
    client.send('NICK nora');
    await client.expectCommand('433');
    client.send('PRIVMSG NickServ :IDENTIFY nora nora-password');
    await client.expectCommand('900');
    client.send('NICK nora');
    assert.equal((await client.expectCommand('NICK')).params[0], 'nora');

    const laptop = await loginClient(server.port, 'nora_laptop', 'nora', 'nora-password');
    laptop.send('PRIVMSG NickServ :REGAIN nora');
    await client.closedByServer();
    assert.equal((await laptop.expectCommand('NICK')).params[0], 'nora');
    laptop.close();
  });

  it('keeps the services nicks refused', async () => {
    const client = await RawClient.register(server.port, 'svc');
    client.send('NICK NickServ');
    assert.equal((await client.expectCommand('432')).params[1], 'NickServ');
    client.close();
  });

  it('lets a nick go once its account is dropped (the holder keeps it)', async () => {
    await registerAccount(server.port, 'olga', 'olga-password');
    const owner = await loginClient(server.port, 'olga', 'olga', 'olga-password');
    owner.send('PRIVMSG NickServ :DROP olga-password');
    await owner.expectCommand('901');
    assert.ok(!(await owner.sync()).some((m) => m.command === 'NICK'), 'not renamed');
    owner.close();
    const next = await connectAs(server.port, 'olga');
    assert.equal((await next.expect(isWelcome)).params[0], 'olga');
    next.close();
  });

  it('registers once when lines arrive while the login is still being checked', async () => {
    const client = await RawClient.connect({ port: server.port });
    client.sendRaw('PASS nora:nora-password\r\nNICK nora\r\nUSER nora 0 * :n\r\nUSER again 0 * :a\r\nNICK nora_too\r\n');
    await client.expectCommand('462');
    const lines = await client.sync();
    assert.equal(client.lines.filter((l) => / 001 /.test(l)).length, 1);
    assert.equal(lines.find((m) => m.command === 'NICK')?.params[0], 'nora_too');
    client.close();
  });

  it('gives a nick two clients race for (with the password) to one of them', async () => {
    const [a, b] = await Promise.all([0, 1].map(() => connectAs(server.port, 'nora', ['PASS nora:nora-password'])));
    const outcomes = await Promise.all([a!, b!].map((c) => c.expect((m) => m.command === '001' || m.command === '433')));
    const codes = outcomes.map((m) => m.command).sort();
    // With multiclient (on by default) the later of the two logins may instead become a
    // further connection of the same user, when the first had registered before it got there.
    if (codes[1] === '001') {
      a!.send('WHO nora');
      const users = (await a!.sync()).filter((m) => m.command === '352');
      assert.equal(users.length, 1, 'one user holds the nick, on two connections');
    } else assert.deepEqual(codes, ['001', '433']);
    for (const c of [a!, b!]) c.close();
  });
});

// irc-framework ships no types; the parts used here.
interface FrameworkClient {
  user: { nick: string };
  connect(options: Record<string, unknown>): void;
  changeNick(nick: string): void;
  quit(message?: string): void;
  once(event: string, listener: (event: { nick?: string; reason?: string }) => void): void;
}

describe('registered nicks with irc-framework (an independent client)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ accounts: { scrypt_log_n: 10 } });
    await registerAccount(server.port, 'nina', 'nina-password');
  });
  after(() => server.stop());

  const connect = (options: Record<string, unknown>): FrameworkClient => {
    const client = new (IRC as unknown as { Client: new () => FrameworkClient }).Client();
    client.connect({ host: '127.0.0.1', port: server.port, username: 'fw', gecos: 'framework', auto_reconnect: false, ...options });
    return client;
  };
  const next = <T>(client: FrameworkClient, event: string) =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no '${event}' event`)), 5000);
      client.once(event, (e) => {
        clearTimeout(timer);
        resolve(e as T);
      });
    });

  it('is told the nick is reserved (433) and registers under another; with SASL it gets the nick', async () => {
    const guest = connect({ nick: 'nina' });
    const inUse = await next<{ nick: string; reason: string }>(guest, 'nick in use');
    assert.deepEqual(inUse, { nick: 'nina', reason: RESERVED, tags: {} });
    const registered = next<{ nick: string }>(guest, 'registered');
    guest.changeNick('nina_guest');
    assert.equal((await registered).nick, 'nina_guest');
    guest.quit();

    const owner = connect({ nick: 'nina', account: { account: 'nina', password: 'nina-password' } });
    assert.equal((await next<{ nick: string }>(owner, 'registered')).nick, 'nina');
    owner.quit();
  });
});

describe('registered nicks, timeout mode', () => {
  let server: TestServer;
  const clock = manualClock();
  before(async () => {
    server = await startTestServer(
      { accounts: { scrypt_log_n: 10, nick_protection: 'timeout', nick_protection_seconds: 0.2 }, limits: { ping_interval_seconds: 60 } },
      { clock: clock.now },
    );
    await registerAccount(server.port, 'fred', 'fred-password');
  });
  after(() => server.stop());

  it('renames a guest after the timeout, and it cannot take the nick back until it logs in', async () => {
    const squatter = await RawClient.register(server.port, 'fred');
    const warning = await squatter.expect((m) => m.command === 'NOTICE' && m.source?.startsWith('NickServ!') === true);
    assert.match(warning.params[1]!, /registered/);
    const rename = await squatter.expectCommand('NICK');
    assert.match(rename.params[0]!, /^Guest\d+$/);
    squatter.nick = rename.params[0]!;

    squatter.send('NICK fred');
    assert.deepEqual((await squatter.expectCommand('433')).params, [squatter.nick, 'fred', RESERVED]);

    // Reconnecting from the same address does not help either.
    const again = await connectAs(server.port, 'fred');
    assert.deepEqual((await again.expectCommand('433')).params, ['*', 'fred', RESERVED]);
    again.send('NICK fred2');
    await again.expect(isWelcome);
    again.close();

    // After the cool-down the renamed session still may not; a new one from its address may
    // (and is warned again).
    clock.advance(10 * 60_000 + 1);
    squatter.send('NICK fred');
    assert.equal((await squatter.expectCommand('433')).params[2], RESERVED);
    const later = await RawClient.register(server.port, 'fred');
    await later.expect((m) => m.command === 'NOTICE' && /registered/.test(m.params[1] ?? ''));
    await later.expectCommand('NICK');
    later.close();

    squatter.send('PRIVMSG NickServ :IDENTIFY fred fred-password');
    await squatter.expectCommand('900');
    squatter.send('NICK fred');
    assert.equal((await squatter.expectCommand('NICK')).params[0], 'fred');
    squatter.close();
  });

  it('keeps the cool-downs bounded and prunes them', () => {
    const protection = server.server.nickProtection;
    const fake = (i: number) => ({ lostNicks: null, conn: { remoteAddress: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` } });
    for (let i = 0; i < 10_050; i++) protection.renamedAway(fake(i) as never, 'fred');
    assert.equal(protection.cooldownCount, 10_000);
    clock.advance(10 * 60_000 + 1);
    protection.prune();
    assert.equal(protection.cooldownCount, 0);
  });
});

describe('registered nicks, off', () => {
  it('lets anyone hold a registered nick, without a warning', async () => {
    const server = await startTestServer({ accounts: { scrypt_log_n: 10, nick_protection: 'off', nick_protection_seconds: 0 } });
    try {
      await registerAccount(server.port, 'pia', 'pia-password');
      const client = await RawClient.register(server.port, 'pia');
      const after = await client.sync();
      assert.ok(!after.some((m) => m.command === 'NOTICE' && /registered/.test(m.params[1] ?? '')));
      client.close();
    } finally {
      await server.stop();
    }
  });
});
