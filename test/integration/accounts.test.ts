import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hashPassword } from '../../src/auth/password.js';
import { ScramClient } from '../../src/auth/scram.js';
import { b64, connectWithSasl, fromB64, registerAccount, saslPlain, scramUpToProof } from '../helpers/accounts.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('accounts', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      accounts: { scrypt_log_n: 10, max_failed_logins: 3, max_failed_logins_per_address: 100, nick_protection_seconds: 0.3 },
      limits: { ping_interval_seconds: 60 },
      opers: [{ name: 'admin', password_hash: await hashPassword('operpass', { N: 1024 }) }],
    });
  });
  after(() => server.stop());

  it('registers with REGISTER before connecting, then logs in with SASL PLAIN', async () => {
    await registerAccount(server.port, 'amy', 'correct horse');
    const client = await connectWithSasl(server.port, 'amy', async (c) => {
      assert.equal(await saslPlain(c, 'amy', 'correct horse'), '903');
    });
    client.send('CAP END');
    await client.expect((m) => m.command === '001');
    client.send('WHOIS amy');
    const whois = await client.expect((m) => m.command === '330');
    assert.deepEqual(whois.params.slice(1, 3), ['amy', 'amy']);
    client.close();
  });

  it('refuses a wrong password with 904 and keeps the connection usable', async () => {
    await registerAccount(server.port, 'ben', 'right password');
    const client = await connectWithSasl(server.port, 'ben', async (c) => {
      assert.equal(await saslPlain(c, 'ben', 'wrong password'), '904');
    });
    client.send('CAP END');
    // ben is registered and we are not logged in: the nick is refused, another one works.
    await client.expect((m) => m.command === '433' && m.params[1] === 'ben');
    client.send('NICK ben_');
    await client.expect((m) => m.command === '001');
    client.close();
  });

  it('logs in with SCRAM-SHA-256 and verifies the server signature', async () => {
    await registerAccount(server.port, 'cleo', 'scram secret');
    const client = await connectWithSasl(server.port, 'cleo', async (c) => {
      const scram = new ScramClient('cleo', 'scram secret');
      await scramUpToProof(c, scram);
      const serverFinal = await c.expectCommand('AUTHENTICATE');
      assert.ok(scram.verify(fromB64(serverFinal.params[0]!)), 'server proved it knows the credentials');
      c.send('AUTHENTICATE +');
      await c.expectCommand('900');
      await c.expectCommand('903');
    });
    client.send('CAP END');
    await client.expect((m) => m.command === '001');
    client.close();
  });

  it('fails SCRAM with a wrong password', async () => {
    await registerAccount(server.port, 'dora', 'dora secret');
    const client = await connectWithSasl(server.port, 'dora', async (c) => {
      await scramUpToProof(c, new ScramClient('dora', 'not the password'));
      await c.expectCommand('904');
    });
    client.close();
  });

  it('throttles repeated failures for an account', async () => {
    await registerAccount(server.port, 'eve', 'eve password');
    const client = await connectWithSasl(server.port, 'evex', async (c) => {
      for (let i = 0; i < 3; i++) assert.equal(await saslPlain(c, 'eve', `guess ${i}`), '904');
      c.send('AUTHENTICATE PLAIN');
      await c.expect((m) => m.command === 'AUTHENTICATE');
      c.send(`AUTHENTICATE ${b64('eve\0eve\0eve password')}`);
      const refused = await c.expectCommand('904');
      assert.match(refused.params[1]!, /too many failed attempts/);
    });
    client.close();
  });

  it('lets the owner GHOST a session holding the nick, and shows the account to others', async () => {
    await registerAccount(server.port, 'gina', 'gina-password');
    // Registered nicks are refused to others (nick-protection.test.ts), but a client that has
    // not finished registering holds the nick it asked for.
    const squatter = await RawClient.connect({ port: server.port });
    squatter.send('NICK gina');
    await squatter.sync();
    const owner = await RawClient.register(server.port, 'gina2', ['account-tag', 'extended-join', 'account-notify']);
    owner.send('PRIVMSG NickServ :IDENTIFY gina gina-password');
    await owner.expectCommand('900');
    owner.send('PRIVMSG NickServ :REGAIN gina');
    await squatter.closedByServer();
    const nick = await owner.expectCommand('NICK');
    assert.equal(nick.params[0], 'gina');

    const peer = await RawClient.register(server.port, 'hank', ['account-tag', 'extended-join']);
    peer.send('JOIN #acct');
    await peer.expectCommand('366');
    owner.send('JOIN #acct');
    const join = await peer.expect((m) => m.command === 'JOIN' && m.source?.startsWith('gina!') === true);
    assert.deepEqual(join.params.slice(0, 2), ['#acct', 'gina']);
    owner.send('PRIVMSG #acct :tagged');
    const message = await peer.expectCommand('PRIVMSG');
    assert.equal(message.tags?.account, 'gina');
    for (const c of [owner, peer]) c.close();
  });

  it('registers and identifies through NickServ', async () => {
    const client = await RawClient.register(server.port, 'ivan');
    client.send('PRIVMSG NickServ :REGISTER ivan-password');
    await client.expectCommand('900');
    const done = await client.expect((m) => m.command === 'NOTICE' && /registered/.test(m.params[1]!));
    assert.ok(done);
    client.close();
    const again = await RawClient.register(server.port, 'ivan_');
    again.send('PRIVMSG NickServ :IDENTIFY ivan wrong-password');
    await again.expect((m) => m.command === 'NOTICE' && /Invalid account or password/.test(m.params[1]!));
    again.send('PRIVMSG NickServ :IDENTIFY ivan ivan-password');
    await again.expectCommand('900');
    again.close();
  });

  it('changes a password and drops an account through NickServ', async () => {
    await registerAccount(server.port, 'lena', 'lena-first');
    const client = await connectWithSasl(server.port, 'lena', async (c) => {
      assert.equal(await saslPlain(c, 'lena', 'lena-first'), '903');
    });
    client.send('CAP END');
    await client.expectCommand('001');
    const fromNickServ = (text: RegExp) => (m: { command: string; params: string[] }) => m.command === 'NOTICE' && text.test(m.params[1] ?? '');
    client.send('PRIVMSG NickServ :SET PASSWORD lena-second');
    await client.expect(fromNickServ(/Password changed/));
    client.send('PRIVMSG NickServ :INFO');
    await client.expect(fromNickServ(/Account lena, registered/));
    client.send('PRIVMSG NickServ :DROP lena-first');
    await client.expect(fromNickServ(/Invalid account or password/));
    client.send('PRIVMSG NickServ :DROP lena-second');
    await client.expectCommand('901');
    await client.expect(fromNickServ(/has been dropped/));
    client.send('PRIVMSG NickServ :INFO lena');
    await client.expect(fromNickServ(/lena is not registered/));
    client.close();
  });

  it('refuses a weak password and a taken account with FAIL REGISTER', async () => {
    await registerAccount(server.port, 'jill', 'jill password');
    const client = await RawClient.register(server.port, 'jack', ['draft/account-registration']);
    client.send("REGISTER jill * another-password");
    const taken = await client.expectCommand('FAIL');
    assert.deepEqual(taken.params.slice(0, 2), ['REGISTER', 'ACCOUNT_EXISTS']);
    client.send('REGISTER * * short');
    const weak = await client.expectCommand('FAIL');
    assert.deepEqual(weak.params.slice(0, 2), ['REGISTER', 'WEAK_PASSWORD']);
    client.close();
  });

  it('throttles repeated failures from one address across accounts', async () => {
    const strict = await startTestServer({ accounts: { scrypt_log_n: 10, max_failed_logins_per_address: 2 } });
    try {
      const client = await connectWithSasl(strict.port, 'mallory', async (c) => {
        assert.equal(await saslPlain(c, 'nobody1', 'guess'), '904');
        assert.equal(await saslPlain(c, 'nobody2', 'guess'), '904');
        c.send('AUTHENTICATE PLAIN');
        await c.expect((m) => m.command === 'AUTHENTICATE');
        c.send(`AUTHENTICATE ${b64('nobody3\0nobody3\0guess')}`);
        assert.match((await c.expectCommand('904')).params[1]!, /too many failed attempts/);
      });
      client.close();
    } finally {
      await strict.stop();
    }
  });

  it('grants OPER for the configured hash only', async () => {
    const client = await RawClient.register(server.port, 'kate');
    client.send('OPER admin wrong');
    await client.expectCommand('464');
    client.send('OPER admin operpass');
    await client.expectCommand('381');
    client.close();
  });
});
