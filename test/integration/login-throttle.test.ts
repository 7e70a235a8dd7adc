import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ScramClient } from '../../src/auth/scram.js';
import { b64, connectWithSasl, registerAccount, saslPlainReply, scramUpToProof } from '../helpers/accounts.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** A registered-but-idle SASL-capable connection from `localAddress`. */
async function saslClient(port: number, nick: string, localAddress: string): Promise<RawClient> {
  return connectWithSasl(port, nick, async () => {}, { localAddress });
}

async function scramReply(client: RawClient, account: string, password: string) {
  await scramUpToProof(client, new ScramClient(account, password));
  return client.expect((m) => ['903', '904'].includes(m.command) || (m.command === 'AUTHENTICATE' && m.params[0] !== '+'));
}

const throttled = (reply: { command: string; params: string[] }) => reply.command === '904' && /too many failed attempts/.test(reply.params[1]!);

describe('login throttle (issue 10)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      // The shipped limits: 5 per account, 20 per address, in 300 s.
      accounts: { scrypt_log_n: 10, max_failed_logins: 5, max_failed_logins_per_address: 20 },
      limits: { ping_interval_seconds: 60 },
    });
    for (const name of ['scarlet', 'target', 'owner']) await registerAccount(server.port, name, `${name} password`);
  });
  after(() => server.stop());

  it('keys SCRAM failures to the account named, not to one shared key', async () => {
    // Five wrong SCRAM logins for made-up names used to lock SCRAM out for everyone.
    const guesser = await saslClient(server.port, 'guesser', '127.0.0.20');
    for (let i = 0; i < 5; i++) {
      const reply = await scramReply(guesser, `nobody${i}`, 'wrong');
      assert.equal(reply.command, '904');
      assert.ok(!throttled(reply), 'one failure per made-up name is not throttled');
    }
    guesser.close();
    const owner = await saslClient(server.port, 'scarlet', '127.0.0.21');
    const reply = await scramReply(owner, 'scarlet', 'scarlet password');
    assert.equal(reply.command, 'AUTHENTICATE', 'the real user still gets the server signature');
    owner.close();
  });

  it('counts SCRAM guesses against the account they target', async () => {
    const guesser = await saslClient(server.port, 'guesser2', '127.0.0.22');
    for (let i = 0; i < 5; i++) assert.equal((await scramReply(guesser, 'target', `guess ${i}`)).command, '904');
    // The sixth, even with the right password and from PLAIN, is refused: the account is locked
    // for addresses that never logged in to it.
    const other = await saslClient(server.port, 'other', '127.0.0.23');
    assert.ok(throttled(await saslPlainReply(other, 'target', 'target password')));
    guesser.close();
    other.close();
  });

  it('evaluates at most the limit of parallel guesses from many addresses', async () => {
    await registerAccount(server.port, 'victim', 'victim password');
    const clients = await Promise.all(Array.from({ length: 48 }, (_, i) => saslClient(server.port, `p${i}`, `127.0.1.${i + 1}`)));
    // All 48 PLAIN guesses are on the wire before any scrypt verification can finish.
    for (const client of clients) {
      client.send('AUTHENTICATE PLAIN');
    }
    await Promise.all(clients.map((c) => c.expect((m) => m.command === 'AUTHENTICATE')));
    for (const [i, client] of clients.entries()) client.send(`AUTHENTICATE ${b64(`victim\0victim\0guess ${i}`)}`);
    const replies = await Promise.all(clients.map((c) => c.expect((m) => m.command === '903' || m.command === '904')));
    const evaluated = replies.filter((r) => !throttled(r)).length;
    assert.equal(evaluated, 5, `${evaluated} of 48 parallel guesses were checked`);
    for (const client of clients) client.close();
  });

  it('does not lock the owner out from an address that logged in before', async () => {
    const home = '127.0.0.30';
    const first = await saslClient(server.port, 'owner', home);
    assert.equal((await saslPlainReply(first, 'owner', 'owner password')).command, '903');
    first.close();
    // An attacker elsewhere uses up the account's failures.
    const attacker = await saslClient(server.port, 'attacker', '127.0.0.31');
    for (let i = 0; i < 5; i++) assert.ok(!throttled(await saslPlainReply(attacker, 'owner', `guess ${i}`)));
    assert.ok(throttled(await saslPlainReply(attacker, 'owner', 'owner password')), 'the attacker is locked out');
    attacker.close();
    // A new address is refused too; the owner's known address is not.
    const stranger = await saslClient(server.port, 'stranger', '127.0.0.32');
    assert.ok(throttled(await saslPlainReply(stranger, 'owner', 'owner password')));
    stranger.close();
    const again = await saslClient(server.port, 'owner2', home);
    assert.equal((await saslPlainReply(again, 'owner', 'owner password')).command, '903');
    again.close();
  });

  it('throttles the owner\'s known address on its own after its own failures', async () => {
    await registerAccount(server.port, 'typo', 'typo password');
    const home = '127.0.0.40';
    const first = await saslClient(server.port, 'typo', home);
    assert.equal((await saslPlainReply(first, 'typo', 'typo password')).command, '903');
    first.close();
    const clumsy = await saslClient(server.port, 'typo2', home);
    for (let i = 0; i < 5; i++) assert.ok(!throttled(await saslPlainReply(clumsy, 'typo', `typo ${i}`)));
    assert.ok(throttled(await saslPlainReply(clumsy, 'typo', 'typo password')));
    clumsy.close();
    // Another address has its own count for this account.
    const elsewhere = await saslClient(server.port, 'typo3', '127.0.0.41');
    assert.equal((await saslPlainReply(elsewhere, 'typo', 'typo password')).command, '903');
    elsewhere.close();
  });
});
