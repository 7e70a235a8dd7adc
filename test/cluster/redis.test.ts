// The cluster contract suites on Redis (127.0.0.1:6379, or PARLEY_TEST_REDIS_URL), each run
// under its own key prefix; plus what only Redis has: a dropped subscriber connection, a
// flushed script cache.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { Cluster } from '../../src/cluster/cluster.js';
import { segment } from '../../src/cluster/keys.js';
import { openRedisCluster, type RedisCluster } from '../../src/cluster/redis/cluster.js';
import { foldCase } from '../../src/protocol/index.js';
import { collect, FAST, message, texts, unique, waitFor, type ClusterBackend } from '../contract/cluster-backend.js';
import { clusterBusContract } from '../contract/cluster-bus.contract.js';
import { clusterNodesContract } from '../contract/cluster-nodes.contract.js';
import { clusterStateContract } from '../contract/cluster-state.contract.js';
import { dropPrefix, randomPrefix, redisSkipReason, TEST_REDIS_URL } from './redis-helpers.js';

const skip = await redisSkipReason();

async function redisBackend(): Promise<ClusterBackend> {
  const prefix = randomPrefix('contract');
  const admin = new Redis(TEST_REDIS_URL);
  const opened: Cluster[] = [];
  return {
    async open(options = {}) {
      const c = await openRedisCluster({ ...options, url: TEST_REDIS_URL, prefix });
      opened.push(c);
      return c;
    },
    async expireLease(node) {
      await admin.del(`${prefix}lease:${node}`);
    },
    async logLength(room) {
      return admin.xlen(`${prefix}r:log:${segment(foldCase(room))}`);
    },
    async cleanup() {
      for (const c of opened) await c.abandon();
      await dropPrefix(TEST_REDIS_URL, prefix);
      admin.disconnect();
    },
  };
}

clusterNodesContract('redis', redisBackend, skip);
clusterStateContract('redis', redisBackend, skip);
clusterBusContract('redis', redisBackend, skip);

describe('Redis cluster connections', { skip }, () => {
  const prefix = randomPrefix('conn');
  let a: RedisCluster;
  let b: RedisCluster;
  before(async () => {
    a = await openRedisCluster({ ...FAST, url: TEST_REDIS_URL, prefix });
    b = await openRedisCluster({ ...FAST, url: TEST_REDIS_URL, prefix });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await dropPrefix(TEST_REDIS_URL, prefix);
  });

  it('catches up after its subscriber connection dropped: the notices missed meanwhile are read from the stream', async () => {
    const room = unique('#drop');
    const got = collect(b);
    await b.bus.follow(room);
    await a.bus.publish(room, message(a, room, 'm0'));
    await waitFor(() => texts(got, room).length === 1, 3000, 'first');
    const back = new Promise<void>((resolve) => b.connections.sub.onReconnect(resolve));
    b.connections.sub.redis.disconnect(true);
    for (let i = 1; i <= 20; i++) await a.bus.publish(room, message(a, room, `m${i}`));
    await back;
    await waitFor(() => texts(got, room).length === 21, 5000, 'catch-up');
    await a.bus.publish(room, message(a, room, 'm21'));
    await waitFor(() => texts(got, room).length === 22, 3000, 'live again');
    assert.deepEqual(texts(got, room), Array.from({ length: 22 }, (_, i) => `m${i}`));
    assert.equal(got.some((d) => d.type === 'gap'), false);
  });

  it('runs its scripts again after Redis forgot them (NOSCRIPT)', async () => {
    const admin = new Redis(TEST_REDIS_URL);
    // Only this test's scripts are affected in practice: every client falls back the same way.
    await admin.script('FLUSH');
    admin.disconnect();
    const stamp = await a.bus.publish(unique('#noscript'), message(a, '#x', 'x'));
    assert.equal(stamp.seq, 1);
  });

  it('uses separate connections for publishing and notices', async () => {
    assert.notEqual(a.connections.cmd.redis, a.connections.sub.redis);
    const admin = new Redis(TEST_REDIS_URL);
    const list = (await admin.client('LIST')) as string;
    admin.disconnect();
    assert.match(list, /name=parley-cmd/);
    assert.match(list, /name=parley-sub .*cmd=subscribe|name=parley-sub/);
  });
});
