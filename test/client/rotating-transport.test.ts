/**
 * Issue 15, a graceful stop with a drain window: /readyz-style refusal of new sessions, every
 * client told "Server restarting, please reconnect" one after another over the window (not in
 * one burst), and our engine, given several servers (rotatingTransport), comes back on the
 * other one with its rooms.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import type { IrcClient } from '../../src/client/client.js';
import { nodeTransport } from '../../src/client/node-transport.js';
import { rotatingTransport } from '../../src/client/rotating-transport.js';
import { RESTART_REASON } from '../../src/app.js';
import { connected, engineClient, nextEvent } from '../helpers/engine.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('graceful stop with a drain, and the engine on several servers', () => {
  const clients: IrcClient[] = [];
  const servers: TestServer[] = [];
  after(async () => {
    for (const c of clients) c.close();
    await Promise.all(servers.map((s) => s.stop().catch(() => {})));
  });

  it('drains clients over the window with the restart reason; they reconnect to the other server and rejoin', async () => {
    const leaving = await startTestServer({ shutdown_drain_seconds: 1 });
    const staying = await startTestServer();
    servers.push(staying);
    const transports = [leaving, staying].map((s) => nodeTransport({ host: '127.0.0.1', port: s.port }));
    const count = 6;
    const disconnectedAt: number[] = [];
    for (let i = 0; i < count; i++) {
      const client = engineClient(0, `drained${i}`, {
        transport: rotatingTransport(transports),
        rooms: ['#stay'],
        reconnect: { minDelayMs: 20, maxDelayMs: 100, jitter: 0.5 },
      });
      clients.push(client);
      await connected(client);
    }
    assert.equal(leaving.server.sessions.size, count, 'all start on the first server');
    const back = clients.map((c) => nextEvent(c, 'connected', (e) => e.reconnected, 10_000));
    const rejoined = clients.map((c) => nextEvent(c, 'join', (e) => e.isSelf && e.room === '#stay', 10_000));
    const told = clients.map((c) => nextEvent(c, 'disconnected', () => true, 5000).then((e) => (disconnectedAt.push(Date.now()), { e, error: c.serverError })));
    const stopped = leaving.stop();
    // The drain has begun: no new session is admitted while the others are being told.
    assert.equal(leaving.server.refusesSessions, RESTART_REASON);
    const refused = await new Promise<string>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port: leaving.port });
      socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
      socket.on('data', (d) => resolve(d.toString()));
    });
    assert.ok(refused === 'ECONNREFUSED' || refused.includes(RESTART_REASON), refused);
    for (const { e, error } of await Promise.all(told)) {
      assert.equal(e.willReconnect, true);
      assert.match(error ?? '', /Server restarting, please reconnect/);
    }
    // Spread: six clients over one second are not all gone in the same instant.
    const spread = Math.max(...disconnectedAt) - Math.min(...disconnectedAt);
    assert.ok(spread >= 400, `disconnects spread over ${spread} ms`);
    await stopped;
    await Promise.all(back);
    await Promise.all(rejoined);
    assert.equal(staying.server.sessions.size, count, 'all are on the other server now');
    assert.ok(clients.every((c) => c.state.room('#stay') !== undefined), 'every client is back in its room');
  });

  it('without a cluster the default drain is 0: a single process stops at once as before', async () => {
    const alone = await startTestServer();
    const client = engineClient(alone.port, 'alone');
    clients.push(client);
    await connected(client);
    const gone = nextEvent(client, 'disconnected');
    const started = Date.now();
    await alone.stop();
    await gone;
    assert.match(client.serverError ?? '', /Server shutting down/);
    assert.ok(Date.now() - started < 4000);
  });
});
