import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { IrcClient } from '../../src/client/client.js';
import type { ClientEvents } from '../../src/client/events.js';
import { connected, engineClient, nextEvent, sync } from '../helpers/engine.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** A fake server: registers whoever connects, then runs `script` with a line writer. */
function fakeServer(script: (write: (line: string) => void, socket: net.Socket) => void): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    const write = (line: string) => socket.write(`${line}\r\n`);
    let registered = false;
    socket.on('data', (chunk) => {
      if (registered || !chunk.toString().includes('USER')) return;
      registered = true;
      write(':fake 001 me :Welcome');
      write(':fake 422 me :No MOTD');
      script(write, socket);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      resolve({
        port,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

describe('client engine: reconnecting', () => {
  const clients: IrcClient[] = [];
  after(() => {
    for (const client of clients) client.close();
  });

  it('reconnects after the server restarts on the same port, rejoins, and catches up', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'parley-reconnect-'));
    let server: TestServer = await startTestServer({ data_dir: dataDir, accounts: { scrypt_log_n: 10 } });
    const port = server.port;
    try {
      // Alice comes back on her own, quickly; Bob's back-off is long, so the test decides when he returns.
      const alice = engineClient(port, 'alice', { rooms: ['#r'], reconnect: { minDelayMs: 50, maxDelayMs: 200, jitter: 0 } });
      const bob = engineClient(port, 'bob', { rooms: ['#r'], reconnect: { minDelayMs: 60_000, maxDelayMs: 60_000, jitter: 0 } });
      clients.push(alice, bob);
      await connected(alice);
      await connected(bob);
      await sync(alice);
      const seen = nextEvent(bob, 'message', (m) => m.text === 'before');
      alice.say('#r', 'before');
      await seen;

      const aliceDown = nextEvent(alice, 'disconnected');
      const bobWaiting = nextEvent(bob, 'reconnecting');
      await server.stop();
      assert.equal((await aliceDown).willReconnect, true);
      assert.equal((await bobWaiting).delayMs, 60_000);
      assert.equal(bob.status, 'waiting');
      assert.equal(bob.state.room('#r')?.joined, false);

      const aliceBack = nextEvent(alice, 'connected', (c) => c.reconnected, 10_000);
      const aliceRejoined = nextEvent(alice, 'join', (j) => j.isSelf && j.room === '#r', 10_000);
      server = await startTestServer({ data_dir: dataDir, listen: [`127.0.0.1:${port}`], accounts: { scrypt_log_n: 10 } });
      await aliceBack;
      await aliceRejoined;
      await sync(alice);
      alice.say('#r', 'while bob was away');
      alice.say('#r', 'and another');
      await sync(alice);

      const catchUp = nextEvent(bob, 'history', (h) => h.reason === 'catch-up');
      const bobBack = nextEvent(bob, 'connected', (c) => c.reconnected);
      bob.connect();
      await bobBack;
      const missed = await catchUp;
      assert.equal(missed.target, '#r');
      assert.deepEqual(missed.messages.map((m) => m.text), ['while bob was away', 'and another']);
      assert.equal(bob.state.room('#r')?.joined, true);
      assert.deepEqual(bob.wantedRooms, ['#r']);
    } finally {
      await server.stop();
    }
  });

  it('gives up after maxAttempts, and close() cancels a pending reconnect', async () => {
    const closed = await fakeServer(() => {});
    const port = closed.port;
    await closed.close();
    const client = engineClient(port, 'nobody', { reconnect: { minDelayMs: 10, maxDelayMs: 20, maxAttempts: 2 } });
    clients.push(client);
    const events: string[] = [];
    client.on('disconnected', (d) => events.push(`disconnected:${d.willReconnect}`));
    client.on('reconnecting', (r) => events.push(`reconnecting:${r.attempt}`));
    const final = nextEvent(client, 'disconnected', (d) => !d.willReconnect);
    client.connect();
    await final;
    assert.deepEqual(events, ['disconnected:true', 'reconnecting:1', 'disconnected:true', 'reconnecting:2', 'disconnected:false']);

    const patient = engineClient(port, 'patient', { reconnect: { minDelayMs: 50, jitter: 0 } });
    clients.push(patient);
    const waiting = nextEvent(patient, 'reconnecting');
    patient.connect();
    await waiting;
    patient.close();
    assert.equal(patient.status, 'closed');
    let attempts = 0;
    patient.on('disconnected', () => attempts++);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(attempts, 0);
  });

  it('treats a server that stops answering as gone (liveness PING)', async () => {
    const silent = await fakeServer(() => {});
    try {
      const client = engineClient(silent.port, 'me', { liveness: { idleMs: 100, timeoutMs: 100 } });
      clients.push(client);
      await connected(client);
      const gone = await nextEvent(client, 'disconnected', () => true, 3000);
      assert.match(gone.reason, /no answer from the server/);
    } finally {
      await silent.close();
    }
  });

  it('survives whatever the server sends', async () => {
    const hostile = await fakeServer((write, socket) => {
      for (const line of [
        '@@@',
        ':only-a-source',
        '@a=b',
        ':fake 353',
        ':fake 366',
        'BATCH -never-opened',
        'BATCH +open chathistory',
        '@batch=open :x!y@z PRIVMSG',
        ':fake 005 me CHANTYPES PREFIX=(ov CASEMAPPING= CHATHISTORY=abc :are supported',
        ':x!y@z JOIN',
        ':x!y@z MODE #r +ooo',
        ':fake CAP me ACK',
        ':fake CAP me NEW',
        'AUTHENTICATE ***',
        ':fake 900',
        ':fake MARKREAD',
        'FAIL',
        '@time=not-a-time :x!y@z PRIVMSG me :\x01',
        ':x!y@z PRIVMSG me :\x01VERSION\x01',
        ':x!y@z TOPIC',
        ':fake 333 me #nowhere x notanumber',
      ]) {
        write(line);
      }
      socket.write(Buffer.from([0xff, 0xfe, 0x0d, 0x0a]));
      socket.write(`${'x'.repeat(70_000)}\r\n`);
      write(':friend!f@h PRIVMSG me :still here');
    });
    try {
      const client = engineClient(hostile.port, 'me');
      clients.push(client);
      const errors: ClientEvents['error'][] = [];
      client.on('error', (e) => errors.push(e));
      const survived = nextEvent(client, 'message', (m) => m.text === 'still here');
      await connected(client);
      const message = await survived;
      assert.equal(message.conversation, 'friend');
      assert.ok(errors.some((e) => e.kind === 'protocol'));
      assert.equal(client.connected, true);
    } finally {
      await hostile.close();
    }
  });
});
