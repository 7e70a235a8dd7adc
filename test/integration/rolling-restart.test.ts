/**
 * Issue 15, a rolling restart: three `parley serve` nodes (dist/) on one Redis prefix and one
 * PostgreSQL schema, 24 clients of our engine spread over them in one room, three of them
 * sending steadily. Each node in turn gets SIGTERM (it drains: its clients are told to
 * reconnect, one by one over shutdown_drain_seconds), exits, and a new node takes its place.
 * The clients come back on the live nodes (rotatingTransport) and catch up with CHATHISTORY
 * AFTER: every message whose sender saw it echoed reaches every client exactly once.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { IrcClient } from '../../src/client/client.js';
import { nodeTransport } from '../../src/client/node-transport.js';
import { rotatingTransport } from '../../src/client/rotating-transport.js';
import type { CliServer } from '../helpers/cli-server.js';
import { cliNetwork } from '../helpers/cli-network.js';
import { connected, engineClient, nextEvent } from '../helpers/engine.js';
import { pgSkipReason } from '../helpers/postgres.js';
import { redisSkipReason } from '../cluster/redis-helpers.js';

const skip = (await redisSkipReason()) || (await pgSkipReason());

const CLIENTS = 24;
const SENDERS = 3;
const ROOM = '#rolling';

describe('rolling restart of three parley serve nodes', { skip }, () => {
  const network = cliNetwork('rolling', 3, { PARLEY_SHUTDOWN_DRAIN_SECONDS: '1' });
  const live: CliServer[] = [];
  const clients: IrcClient[] = [];
  const startNode = network.start;
  network.closeAfter(() => clients.forEach((c) => c.close()));
  before(() => {
    live.push(...network.first);
  });

  it('every echoed message reaches every client exactly once while each node is restarted in turn', { timeout: 120_000 }, async () => {
    // Client i starts on node i % 3 and, on each reconnect, goes on to the next live node.
    const got: Map<string, number>[] = [];
    const echoed = new Set<string>();
    for (let i = 0; i < CLIENTS; i++) {
      const nick = `roller${i}`;
      const client = engineClient(0, nick, {
        transport: rotatingTransport(() => rotated(live, i).map((n) => nodeTransport({ host: '127.0.0.1', port: n.port }))),
        rooms: [ROOM],
        reconnect: { minDelayMs: 100, maxDelayMs: 1000, jitter: 0.5 },
      });
      const counts = new Map<string, number>();
      got.push(counts);
      const count = (msgid: string | undefined, sender: string) => {
        assert.ok(msgid, 'every room message has a msgid');
        counts.set(msgid, (counts.get(msgid) ?? 0) + 1);
        if (sender === nick) echoed.add(msgid);
      };
      client.on('message', (m) => m.conversation === ROOM && count(m.msgid, m.sender));
      client.on('history', (h) => {
        for (const m of h.messages) if (m.conversation === ROOM) count(m.msgid, m.sender);
      });
      clients.push(client);
      const joined = nextEvent(client, 'join', (e) => e.isSelf && e.room === ROOM, 10_000);
      await connected(client, 10_000);
      await joined;
    }

    // The steady flow: each sender says something every 50 ms while it is connected.
    let sent = 0;
    const flow = setInterval(() => {
      for (const sender of clients.slice(0, SENDERS)) if (sender.status === 'ready') sender.say(ROOM, `line ${sent++}`);
    }, 50);
    const reconnects = clients.map(() => 0);
    clients.forEach((c, i) => c.on('connected', (e) => e.reconnected && reconnects[i]!++));
    // Why each was disconnected: the drain's ERROR, not a connection cut without a word.
    const reasons = new Set<string>();
    clients.forEach((c) => c.on('disconnected', () => reasons.add(c.serverError ?? '(none)')));
    try {
      for (let round = 0; round < 3; round++) {
        const old = live.shift()!;
        old.child.kill('SIGTERM');
        await old.exited;
        assert.equal(old.child.exitCode, 0, `node ${round} exited cleanly: ${old.output().stderr}`);
        live.push(await startNode());
        // Everyone is back (in the room) before the next node goes.
        await Promise.all(clients.map((c) => (c.status === 'ready' && c.state.room(ROOM) ? null : nextEvent(c, 'join', (e) => e.isSelf && e.room === ROOM, 20_000))));
      }
    } finally {
      clearInterval(flow);
    }
    assert.ok(reconnects.every((n) => n >= 1), `every client was moved at least once: ${reconnects.join(',')}`);
    assert.deepEqual([...reasons].map((r) => r.replace(/^Closing Link: \S+ /, '')), ['(Server restarting, please reconnect)']);
    // The last lines may still be on their way: wait until each client has them or time runs out.
    const deadline = Date.now() + 15_000;
    const missing = () => got.map((counts) => [...echoed].filter((id) => !counts.has(id)).length);
    while (missing().some((n) => n > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(echoed.size >= 100, `a steady flow: ${echoed.size} messages echoed`);
    assert.deepEqual(missing(), clients.map(() => 0), 'no client missed a message');
    for (const [i, counts] of got.entries()) {
      const twice = [...counts].filter(([, n]) => n > 1);
      assert.deepEqual(twice, [], `client ${i} got none twice`);
    }
  });
});

/** `nodes` starting at index `i % length`, so clients spread over the nodes. */
function rotated<T>(nodes: readonly T[], i: number): T[] {
  const k = i % Math.max(1, nodes.length);
  return [...nodes.slice(k), ...nodes.slice(0, k)];
}
