// Redis restarted under a running network (a private redis-server on a free loopback port):
// nodes see the reconnect, register again if Redis lost their data, and publishing resumes;
// a node that could not renew for longer than its lease is fenced instead.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Delivery } from '../../src/cluster/events.js';
import type { NodeEvent } from '../../src/cluster/nodes.js';
import { openRedisCluster, type RedisCluster } from '../../src/cluster/redis/cluster.js';
import { collect, message, texts, waitFor } from '../contract/cluster-backend.js';
import { PrivateRedis } from './redis-helpers.js';

const skip = (await import('node:child_process')).spawnSync('redis-server', ['--version']).status === 0 ? false : 'redis-server is not installed';

describe('Redis restart', { skip }, () => {
  const servers: PrivateRedis[] = [];
  const clusters: RedisCluster[] = [];
  after(async () => {
    for (const c of clusters) await c.abandon();
    for (const s of servers) await s.stop();
  });

  async function network(extra: string[], ttlMs: number) {
    const redis = await PrivateRedis.start(extra);
    servers.push(redis);
    const open = () => openRedisCluster({ url: redis.url, prefix: 'p:', renewMs: 100, ttlMs, sweepMs: 100, commandTimeoutMs: 1000 });
    const [a, b] = [await open(), await open()];
    clusters.push(a, b);
    const events: NodeEvent[] = [];
    a.nodes.onEvent((e) => events.push(e));
    return { redis, a, b, events };
  }

  it('after a restart that lost everything: reconnected (lost), registered again, chat resumes in a new epoch', async () => {
    const { redis, a, b, events } = await network([], 5000);
    const got: Delivery[] = collect(b);
    await b.bus.follow('#chat');
    await a.bus.publish('#chat', message(a, '#chat', 'before'));
    await waitFor(() => texts(got, '#chat').length === 1, 3000, 'before');
    await redis.down();
    await redis.up();
    await waitFor(() => events.some((e) => e.type === 'reconnected'), 8000, 'reconnected');
    assert.deepEqual(events.find((e) => e.type === 'reconnected'), { type: 'reconnected', lost: true });
    assert.equal(a.nodes.live, true);
    // b's own renewal sees the loss too; both are peers again.
    await waitFor(async () => (await a.nodes.peers()).length === 2, 5000, 'both registered again');
    const stamp = await a.bus.publish('#chat', message(a, '#chat', 'after'));
    assert.equal(stamp.seq, 1, 'the log began again');
    await waitFor(() => texts(got, '#chat').length === 2, 5000, 'after');
    assert.deepEqual(texts(got, '#chat'), ['before', 'after']);
    const gap = got.find((d) => d.type === 'gap');
    assert.equal(gap?.type === 'gap' && gap.reason, 'restarted');
  });

  it('after a restart that kept the data (appendonly, fsync always): reconnected (not lost), nothing repeated', async () => {
    const { redis, a, b, events } = await network(['--appendonly', 'yes', '--appendfsync', 'always'], 5000);
    const got = collect(b);
    await b.bus.follow('#kept');
    for (let i = 0; i < 3; i++) await a.bus.publish('#kept', message(a, '#kept', `m${i}`));
    await waitFor(() => texts(got, '#kept').length === 3, 3000, 'first three');
    await redis.down();
    await redis.up();
    await waitFor(() => events.some((e) => e.type === 'reconnected'), 8000, 'reconnected');
    assert.deepEqual(events.find((e) => e.type === 'reconnected'), { type: 'reconnected', lost: false });
    const stamp = await a.bus.publish('#kept', message(a, '#kept', 'm3'));
    assert.equal(stamp.seq, 4);
    await waitFor(() => texts(got, '#kept').length === 4, 5000, 'resumed');
    assert.deepEqual(texts(got, '#kept'), ['m0', 'm1', 'm2', 'm3']);
    assert.equal(got.some((d) => d.type === 'gap'), false);
  });

  it('after Redis came back with an older copy of a log (the last second lost): a rewound gap, then the new entries in those sequences', async () => {
    const { redis, a, b } = await network([], 5000);
    const got = collect(b);
    await b.bus.follow('#rw');
    for (let i = 0; i < 5; i++) await a.bus.publish('#rw', message(a, '#rw', `m${i}`));
    await waitFor(() => texts(got, '#rw').length === 5, 3000, 'first five');
    // As an AOF restore that lost the last two writes: the stream and its counter back at 3.
    const { Redis } = await import('ioredis');
    const probe = new Redis(redis.url);
    try {
      const log = 'p:r:log:#rw';
      const kept = (await probe.xrange(log, '-', '3-0')) as [string, string[]][];
      await probe.del(log);
      for (const [id, fields] of kept) await probe.xadd(log, id, ...fields);
      const time = kept[2]![1][kept[2]![1].indexOf('t') + 1]!;
      await probe.hset('p:r:seq:#rw', 'seq', '3', 'time', time);
      // New messages take sequences 4 and 5; b, past 5 already, skips their notices...
      for (const text of ['n3', 'n4']) assert.ok([4, 5].includes((await a.bus.publish('#rw', message(a, '#rw', text))).seq));
      // ...until its connections come back, as they do after a restart, and it reads again.
      await probe.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
      await probe.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      await waitFor(() => texts(got, '#rw').length === 7, 8000, 'the new entries');
    } finally {
      probe.disconnect();
    }
    assert.deepEqual(texts(got, '#rw'), ['m0', 'm1', 'm2', 'm3', 'm4', 'n3', 'n4']);
    const gap = got.find((d) => d.type === 'gap');
    assert.deepEqual(gap?.type === 'gap' && [gap.reason, gap.from, gap.to], ['rewound', 4, 5]);
    await a.bus.publish('#rw', message(a, '#rw', 'n5'));
    await waitFor(() => texts(got, '#rw').length === 8, 5000, 'on from there');
    assert.equal(got.filter((d) => d.type === 'gap').length, 1);
  });

  it('fences a node that could not renew for longer than its lease while Redis was away', async () => {
    const { redis, a, events } = await network([], 600);
    await redis.down();
    await waitFor(() => events.some((e) => e.type === 'fenced'), 5000, 'fenced');
    await redis.up();
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(a.nodes.live, false);
    await assert.rejects(a.bus.publish('#x', message(a, '#x', 'x')), { name: 'FencedError' });
    assert.equal(events.some((e) => e.type === 'reconnected'), false);
  });
});
