import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { IrcMessage } from '../../src/protocol/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { manualClock, startTestServer, type TestServer } from '../helpers/server.js';

const is = (command: string) => (m: IrcMessage) => m.command === command;

/** Connect from `localAddress` and expect to be refused with `reason` in ERROR. */
async function expectRefused(port: number, localAddress: string, reason: string): Promise<void> {
  const client = await RawClient.connect({ port, localAddress });
  const error = await client.expect(is('ERROR'));
  assert.equal(error.params[0], `Closing Link: ${localAddress} (${reason})`);
  await client.closedByServer();
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited > 5000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('per-address connection limits', () => {
  const clock = manualClock();
  let server: TestServer;
  before(async () => {
    server = await startTestServer(
      { limits: { max_connections_per_address: 3, connections_per_address_per_minute: 6 } },
      { clock: clock.now },
    );
  });
  after(() => server.stop());

  it('refuses more than max_connections_per_address open at once; a closed one frees a place', async () => {
    const open = await Promise.all([1, 2, 3].map(() => RawClient.connect({ port: server.port, localAddress: '127.0.0.2' })));
    await expectRefused(server.port, '127.0.0.2', 'Too many connections from your address');
    // Other addresses are not affected; the exempt one is not counted at all.
    const other = await RawClient.register(server.port, 'other', [], { localAddress: '127.0.0.3' });
    const exempt = await Promise.all([1, 2, 3, 4, 5].map((i) => RawClient.register(server.port, `exempt${i}`)));

    open[0]!.close();
    await until(() => server.server.addressLimits.openCount('127.0.0.2') === 2, 'the server to see the close');
    const again = await RawClient.register(server.port, 'again', [], { localAddress: '127.0.0.2' });
    for (const client of [...open, other, again, ...exempt]) client.close();
  });

  it('refuses more than connections_per_address_per_minute new connections, until time passes', async () => {
    clock.advance(60_000);
    for (let i = 0; i < 6; i++) {
      const client = await RawClient.register(server.port, `quick${i}`, [], { localAddress: '127.0.0.4' });
      client.close();
      await until(() => server.server.addressLimits.openCount('127.0.0.4') === 0, 'the close');
    }
    await expectRefused(server.port, '127.0.0.4', 'Connecting too fast; try again later');
    await expectRefused(server.port, '127.0.0.4', 'Connecting too fast; try again later');
    clock.advance(10_000); // six per minute: one more every 10 s, refused attempts did not count
    const later = await RawClient.register(server.port, 'later', [], { localAddress: '127.0.0.4' });
    await expectRefused(server.port, '127.0.0.4', 'Connecting too fast; try again later');
    later.close();
  });
});

describe('loopback and per-address limits (limits.exempt_loopback, on by default)', () => {
  it('loopback connections are not limited per address, but flood control still applies', async () => {
    const server = await startTestServer({ limits: { max_connections_per_address: 2, exempt_loopback: true, command_burst: 2, commands_per_second: 1 } });
    try {
      const clients = await Promise.all([1, 2, 3, 4, 5].map((i) => RawClient.register(server.port, `loop${i}`, [], { localAddress: '127.0.0.2' })));
      assert.equal(server.server.addressLimits.openCount('127.0.0.2'), 0, 'loopback is not counted');
      // Fakelag: a burst of 2 lines, then 1 a second; the sixth of six PINGs waits seconds.
      const flooder = clients[0]!;
      flooder.send(Array.from({ length: 6 }, (_, i) => `PING :p${i}`).join('\r\n'));
      const pong = (token: string) => (m: IrcMessage) => m.command === 'PONG' && m.params.at(-1) === token;
      await flooder.expect(pong('p0'), 3000);
      await assert.rejects(flooder.expect(pong('p5'), 1000), /timed out/, 'the sixth PING waits for the bucket');
      for (const client of clients) client.close();
    } finally {
      await server.stop();
    }
  });
});

describe('slow writers and idle connections', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ limits: { incomplete_line_timeout_seconds: 0.3, registration_timeout_seconds: 0.5 } });
  });
  after(() => server.stop());

  it('a line dribbled byte by byte is cut off when it is not finished in time (slowloris)', async () => {
    const client = await RawClient.register(server.port, 'dribbler');
    const line = 'PRIVMSG dribbler :one byte at a time, never finished';
    let sent = 0;
    const timer = setInterval(() => client.sendRaw(line[sent++ % line.length]!), 20);
    try {
      const error = await client.expect(is('ERROR'));
      assert.match(error.params[0]!, /Incomplete line timed out/);
      await client.closedByServer();
      assert.ok(sent > 5, 'bytes kept arriving; the line itself was too slow');
    } finally {
      clearInterval(timer);
    }
  });

  it('lines that end in time are fine however they are split', async () => {
    const client = await RawClient.register(server.port, 'splitter');
    client.sendRaw('PING a');
    client.sendRaw('bc\r\nPING d');
    client.sendRaw('ef\r\n');
    await client.expect((m) => m.command === 'PONG' && m.params[1] === 'def');
    client.close();
  });

  it('a connection that never registers is closed at registration_timeout_seconds', async () => {
    const idle = await RawClient.connect({ port: server.port, localAddress: '127.0.0.2' });
    const error = await idle.expect(is('ERROR'));
    assert.match(error.params[0]!, /Registration timed out/);
    await idle.closedByServer();
    await until(() => server.server.addressLimits.openCount('127.0.0.2') === 0, 'its place to be freed');
  });
});

describe('account registrations per address', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ accounts: { scrypt_log_n: 10, max_registrations_per_address_per_hour: 2 } });
  });
  after(() => server.stop());

  async function register(nick: string, localAddress: string, password = 'long enough password'): Promise<IrcMessage> {
    const client = await RawClient.connect({ port: server.port, localAddress });
    client.send('CAP LS 302');
    client.send('CAP REQ :draft/account-registration');
    await client.expect((m) => m.command === 'CAP' && m.params[1] === 'ACK');
    client.send(`NICK ${nick}`);
    client.send(`REGISTER * * :${password}`);
    const reply = await client.expect((m) => m.command === 'REGISTER' || m.command === 'FAIL');
    client.close();
    return reply;
  }

  it('allows max_registrations_per_address_per_hour, then FAIL REGISTER TEMPORARILY_UNAVAILABLE', async () => {
    assert.equal((await register('first', '127.0.0.2', 'short')).params[1], 'WEAK_PASSWORD', 'a failed attempt does not count');
    assert.equal((await register('first', '127.0.0.2')).params[0], 'SUCCESS');
    assert.equal((await register('second', '127.0.0.2')).params[0], 'SUCCESS');
    const refused = await register('third', '127.0.0.2');
    assert.deepEqual(refused.params.slice(0, 3), ['REGISTER', 'TEMPORARILY_UNAVAILABLE', 'third']);
    assert.match(refused.params[3]!, /Too many accounts registered from your address; try again in \d+ minutes/);

    // NickServ REGISTER is the same limit.
    const viaNickServ = await RawClient.register(server.port, 'fourth', [], { localAddress: '127.0.0.2' });
    viaNickServ.send('PRIVMSG NickServ :REGISTER long-enough-password');
    const notice = await viaNickServ.expect(is('NOTICE'));
    assert.match(notice.params[1]!, /Too many accounts registered from your address/);
    viaNickServ.close();

    // Another address may still register.
    assert.equal((await register('elsewhere', '127.0.0.3')).params[0], 'SUCCESS');
  });
});
