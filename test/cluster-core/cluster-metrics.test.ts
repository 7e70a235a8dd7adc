/**
 * The cluster gauges of real servers on two nodes (one Redis prefix, one SQLite file): a room
 * message of the other node held until its `stored` notice shows in
 * parley_cluster_held_room_messages until the notice comes; the bus lag is back to 0 once all
 * is delivered; publishes are timed. (Gaps and reaps: test/observability/cluster-metrics.test.ts.)
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { ClusterEvent, Stamp } from '../../src/cluster/events.js';
import type { IrcMessage } from '../../src/protocol/index.js';
import { waitFor } from '../contract/cluster-backend.js';
import { redisSkipReason } from '../cluster/redis-helpers.js';
import type { TestServer } from '../helpers/server.js';
import { twoNodes } from './two-nodes.js';

const skip = await redisSkipReason();
const CAPS = ['echo-message', 'message-tags', 'server-time'];
const said = (m: IrcMessage) => m.command === 'PRIVMSG';

const sample = async (server: TestServer, series: string) => {
  const line = (await server.metrics.render()).split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('cluster gauges on two nodes', { skip }, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-clmetrics-'));
  const nodes = twoNodes('clmetrics', { data_dir: dataDir });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it("another node's message held for its stored notice is counted until the notice comes", async () => {
    const dan = await nodes.register(nodes.a, 'dan', CAPS);
    const eve = await nodes.register(nodes.b, 'eve', CAPS);
    for (const c of [dan, eve]) {
      c.send('JOIN #gauges');
      await c.expect((m) => m.command === '366');
    }
    // Node A's `stored` notices wait until released (as in room-messages.test.ts).
    const bus = nodes.a.server.cluster.bus;
    const publish = bus.publish.bind(bus);
    const waiting: (() => void)[] = [];
    bus.publish = (room: string, event: ClusterEvent): Promise<Stamp> =>
      event.kind === 'stored' ? new Promise((resolve) => waiting.push(() => resolve(publish(room, event)))) : publish(room, event);
    dan.send('PRIVMSG #gauges :held');
    await dan.expect((m) => said(m) && m.params[1] === 'held');
    // Node B reads the bus on its own: the message reaches it some time after dan's echo.
    await waitFor(async () => (await sample(nodes.b, 'parley_cluster_held_room_messages')) === 1, 5000, 'node B to hold the message');
    assert.equal(await sample(nodes.a, 'parley_cluster_held_room_messages'), 0, 'its own node holds nothing');
    bus.publish = publish;
    for (const release of waiting.splice(0)) release();
    assert.equal((await eve.expect(said)).params[1], 'held');
    assert.equal(await sample(nodes.b, 'parley_cluster_held_room_messages'), 0);
    assert.equal(await sample(nodes.b, 'parley_cluster_bus_lag'), 0);
    assert.ok((await sample(nodes.a, 'parley_cluster_publish_seconds_count'))! >= 2, 'the JOIN and the message, timed');
    assert.equal(await sample(nodes.a, `parley_cluster_node_info{node="${nodes.a.node}"}`), 1);
  });
});
