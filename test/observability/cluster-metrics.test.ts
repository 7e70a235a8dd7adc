/**
 * The cluster metrics on real nodes (Redis, a key prefix of this run): gaps the bus delivers
 * by reason, publish times, reaps, bus lag, fenced and the node's info, as /metrics renders
 * them (src/observability/prometheus.ts through instrumentCluster, wired as app.ts does).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Cluster } from '../../src/cluster/cluster.js';
import { openCluster } from '../../src/cluster/open.js';
import { instrumentCluster } from '../../src/observability/cluster-metrics.js';
import { Metrics } from '../../src/observability/prometheus.js';
import { FAST, message, waitFor } from '../contract/cluster-backend.js';
import { dropPrefix, randomPrefix, redisSkipReason, TEST_REDIS_URL } from '../cluster/redis-helpers.js';

const skip = await redisSkipReason();

/** A node as app.ts makes one: its Metrics read the cluster, and the cluster is instrumented. */
async function node(prefix: string, options: Parameters<typeof openCluster>[0] = {}): Promise<{ cluster: Cluster; metrics: Metrics }> {
  const cluster = await openCluster({ ...FAST, ttlMs: 2000, ...options, url: TEST_REDIS_URL, prefix });
  const metrics = new Metrics({ version: 'test', node: 'test.local', clusterNode: cluster.nodes.id, processMetrics: false });
  instrumentCluster(cluster, metrics);
  metrics.setSource({
    connections: () => ({}),
    registeredUsers: () => 0,
    rooms: () => 0,
    storeFailing: () => false,
    cluster: () => ({ fenced: !cluster.nodes.live, lag: cluster.bus.lag(), heldRoomMessages: 0 }),
  });
  // The Server registers handlers; these stand in for them.
  cluster.bus.onDelivery(() => {});
  cluster.nodes.onEvent(() => {});
  return { cluster, metrics };
}

const sample = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('cluster metrics', { skip }, () => {
  const prefix = randomPrefix('metrics');
  const open: Cluster[] = [];
  /** Every live node's metrics: any of them may be the one that reaps. */
  const live: Metrics[] = [];
  after(async () => {
    for (const c of open) await c.close().catch(() => {});
    await dropPrefix(TEST_REDIS_URL, prefix);
  });

  it('a follower behind the stream cap counts a trimmed gap; publishes are timed; node info and fenced', async () => {
    const a = await node(prefix, { maxLen: 20 });
    const b = await node(prefix);
    open.push(a.cluster, b.cluster);
    live.push(a.metrics, b.metrics);
    const room = '#metrics-gap';
    for (let i = 0; i < 100; i++) await a.cluster.bus.publish(room, message(a.cluster, room, `m${i}`));
    await b.cluster.bus.follow(room, 0);
    await waitFor(() => b.cluster.bus.position(room) === 100, 3000, 'the tail read');
    const textB = await b.metrics.render();
    assert.equal(sample(textB, 'parley_cluster_gaps_total{reason="trimmed"}'), 1);
    assert.equal(sample(textB, 'parley_cluster_gaps_total{reason="restarted"}'), 0);
    assert.equal(sample(textB, 'parley_cluster_bus_lag'), 0);
    assert.equal(sample(textB, 'parley_cluster_bus_lag_max'), 0);
    assert.equal(sample(textB, `parley_cluster_node_info{node="${b.cluster.nodes.id}"}`), 1);
    assert.equal(sample(textB, 'parley_cluster_fenced'), 0);
    const textA = await a.metrics.render();
    assert.equal(sample(textA, 'parley_cluster_publish_seconds_count'), 100);
    assert.equal(sample(textA, 'parley_cluster_publish_seconds_bucket{le="+Inf"}'), 100);
    assert.equal(sample(textB, 'parley_cluster_publish_seconds_count'), 0);
  });

  it('a dead node is reaped once: the reaper counts it and its users; a fenced node says so', async () => {
    const survivor = await node(prefix);
    const doomed = await node(prefix);
    open.push(survivor.cluster);
    live.push(survivor.metrics);
    for (const nick of ['gone1', 'gone2']) {
      await doomed.cluster.state.addUser({ uid: doomed.cluster.nodes.newUid(), nick, node: doomed.cluster.nodes.id, user: 'u', host: 'h', realname: 'r', account: null, away: null, since: Date.now(), modes: '', secure: false });
    }
    await doomed.cluster.abandon();
    const total = async (series: string) => {
      let sum = 0;
      for (const m of live) sum += sample(await m.render(), series) ?? 0;
      return sum;
    };
    await waitFor(async () => (await total('parley_cluster_reaps_total')) === 1, 10_000, 'the reap');
    assert.equal(await total('parley_cluster_reaped_users_total'), 2);
    // The abandoned node's own lease lapsed on its clock: fenced.
    await waitFor(() => !doomed.cluster.nodes.live, 5000, 'fenced');
    assert.equal(sample(await doomed.metrics.render(), 'parley_cluster_fenced'), 1);
  });
});
