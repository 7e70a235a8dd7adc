import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Session } from '../../src/core/session.js';
import type { IrcMessage } from '../../src/protocol/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { manualClock, startTestServer, type TestServer } from '../helpers/server.js';

const is = (command: string) => (m: IrcMessage) => m.command === command;
const pong = (token: string) => (m: IrcMessage) => m.command === 'PONG' && m.params[1] === token;

function sessionOf(server: TestServer, nick: string): Session {
  const session = [...server.server.sessions].find((s) => s.nick === nick);
  assert.ok(session, `no session ${nick}`);
  return session;
}

// Flood control with a clock that only moves when the test says so: a client's lines beyond its
// burst wait for tokens that only time brings. Clients connect from 127.0.0.2 and up, which the
// test server does not exempt (127.0.0.1 is).
describe('flood control (fakelag, Excess flood)', () => {
  const clock = manualClock();
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ limits: { command_burst: 5, commands_per_second: 10, recvq_bytes: 8704 } }, { clock: clock.now });
  });
  after(() => server.stop());

  it('over the burst, lines wait (in order) until time brings tokens; other clients are not slowed', async () => {
    // Registration takes two tokens (NICK, USER): three are left.
    const flooder = await RawClient.register(server.port, 'flooder', [], { localAddress: '127.0.0.2' });
    const bystander = await RawClient.register(server.port, 'bystander', [], { localAddress: '127.0.0.3' });
    flooder.sendRaw(Array.from({ length: 10 }, (_, i) => `PING p${i}\r\n`).join(''));
    await flooder.expect(pong('p2'));
    const session = sessionOf(server, 'flooder');
    assert.equal(session.backlog.length, 7, 'seven lines wait for tokens');

    // Another client from another address has its own bucket and is answered at once.
    await bystander.sync();
    assert.equal(session.backlog.length, 7, 'the clock has not moved: the flooder is still waiting');
    assert.ok(!flooder.received.some(is('PONG')), 'nothing beyond the burst was answered');

    clock.advance(300); // three tokens at 10 per second
    await flooder.expect(pong('p5'));
    assert.equal(session.backlog.length, 4);
    clock.advance(1000);
    await flooder.expect(pong('p9'));
    assert.equal(session.backlog.length, 0);
    const order = flooder.lines.filter((l) => l.includes(' PONG ')).map((l) => l.split(' ').at(-1));
    assert.deepEqual(order, Array.from({ length: 10 }, (_, i) => `p${i}`));
    flooder.close();
    bystander.close();
  });

  it('a client that keeps flooding is disconnected with "Excess flood"; its room sees it go', async () => {
    clock.advance(10_000);
    const flooder = await RawClient.register(server.port, 'spammer', [], { localAddress: '127.0.0.4' });
    const member = await RawClient.register(server.port, 'member', [], { localAddress: '127.0.0.5' });
    for (const client of [flooder, member]) {
      client.send('JOIN #flood');
      await client.expect(is('366'));
    }
    // 40 KB at once: far over the 8704 bytes allowed to wait.
    flooder.sendRaw(Array.from({ length: 1000 }, (_, i) => `PRIVMSG #flood :spam ${i} ${'x'.repeat(20)}\r\n`).join(''));
    const quit = await member.expect((m) => m.command === 'QUIT' && m.source?.startsWith('spammer!') === true);
    assert.deepEqual(quit.params, ['Excess flood']);
    await flooder.closedByServer();
    assert.ok(flooder.lines.some((l) => l.startsWith('ERROR') && l.includes('Excess flood')), flooder.lines.slice(-3).join(' | '));
    const spam = member.lines.filter((l) => l.includes('PRIVMSG #flood'));
    assert.ok(spam.length <= 5, `only the burst got through (${spam.length})`);

    member.send('PRIVMSG #flood :still here');
    const other = await RawClient.register(server.port, 'other', [], { localAddress: '127.0.0.6' });
    other.send('JOIN #flood');
    await other.expect(is('366'));
    member.send('PRIVMSG #flood :hello other');
    await other.expect((m) => m.command === 'PRIVMSG' && m.params[1] === 'hello other');
    member.close();
    other.close();
  });

  it('a client under the limit is never slowed, and an exempt address has no limit at all', async () => {
    clock.advance(10_000);
    const exempt = await RawClient.register(server.port, 'exempt'); // 127.0.0.1
    exempt.sendRaw(Array.from({ length: 500 }, (_, i) => `PING e${i}\r\n`).join(''));
    await exempt.expect(pong('e499'));
    assert.equal(sessionOf(server, 'exempt').throttle, null);

    const polite = await RawClient.register(server.port, 'polite', [], { localAddress: '127.0.0.7' });
    for (let i = 0; i < 3; i++) {
      clock.advance(100);
      polite.send(`PING q${i}`);
      await polite.expect(pong(`q${i}`));
      assert.equal(sessionOf(server, 'polite').backlog.length, 0);
    }
    exempt.close();
    polite.close();
  });
});

describe('output back-pressure: a client that does not read its replies', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ limits: { sendq_bytes: 65536 } });
  });
  after(() => server.stop());

  it('gets no more replies queued once its unread output is over SendQ, and is read no further', async () => {
    const reader = await RawClient.register(server.port, 'lazy');
    const session = sessionOf(server, 'lazy');
    reader.socket.pause();
    const token = 't'.repeat(400);
    // Kernel buffers take a few MB of replies first; keep sending until the server holds back.
    let rounds = 0;
    for (; rounds < 200 && session.conn.queuedBytes <= 65536; rounds++) {
      reader.sendRaw(Array.from({ length: 500 }, (_, i) => `PING ${rounds}.${i}.${token}\r\n`).join(''));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.ok(session.conn.queuedBytes > 65536, `the server's queue filled after ${rounds} rounds`);
    // More input: it waits (reading pauses); the output queue never grows past SendQ by more
    // than the one reply that crossed it (the gate looks before every line).
    reader.sendRaw(Array.from({ length: 500 }, (_, i) => `PING more.${i}.${token}\r\n`).join(''));
    for (let i = 0; i < 10; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.ok(session.conn.queuedBytes <= 65536 + 1024, `output queue bounded (${session.conn.queuedBytes})`);
      assert.ok(session.backlog.length <= 64 + 200, `backlog bounded (${session.backlog.length})`);
    }

    reader.socket.resume();
    // Every reply arrives once it reads again, the last one last. (Polling the last line: thousands
    // of replies make expect()'s scan of everything received slow.)
    const last = `more.499.${token}`;
    for (let waited = 0; !reader.lines.at(-1)?.endsWith(last) && waited < 30_000; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(reader.lines.at(-1)?.endsWith(last), 'the last reply arrived');
    assert.equal(reader.lines.filter((l) => l.includes(' PONG ')).length, rounds * 500 + 500, 'no reply was lost');
    reader.close();
  });
});
