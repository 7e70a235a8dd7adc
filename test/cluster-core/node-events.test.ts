/**
 * Issue 14 step 2, node events in the core: a fenced node drops its clients and admits no one;
 * after Redis restarted empty, local users are announced again (their nicks claimed anew).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer } from '../helpers/server.js';
import { dropPrefix, PrivateRedis, randomPrefix, redisSkipReason, TEST_REDIS_URL } from '../cluster/redis-helpers.js';

const skip = await redisSkipReason();

describe('node events', { skip }, () => {
  const prefixes: string[] = [];
  after(async () => {
    for (const prefix of prefixes) await dropPrefix(TEST_REDIS_URL, prefix);
  });

  it('fenced (its lease taken away): every client gets ERROR and is dropped, new connections are refused', async () => {
    const prefix = randomPrefix('fence');
    prefixes.push(prefix);
    const server = await startTestServer({ cluster: { url: TEST_REDIS_URL, prefix } });
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const alice = await RawClient.register(server.port, 'alice');
      const pending = await RawClient.connect({ port: server.port });
      // As if the lease had expired and a peer had reaped the node: the next renewal fails.
      await redis.del(`${prefix}lease:${server.server.cluster.nodes.id}`);
      const error = await alice.expect((m) => m.command === 'ERROR', 5000);
      assert.match(error.params[0]!, /Server fenced/);
      await alice.closedByServer();
      await pending.closedByServer();
      assert.equal(server.server.cluster.nodes.live, false);
      const late = await RawClient.connect({ port: server.port });
      const refused = await late.expect((m) => m.command === 'ERROR');
      assert.match(refused.params[0]!, /Server fenced/);
      await late.closedByServer();
    } finally {
      redis.disconnect();
      await server.stop();
    }
  });

  it('Redis restarted empty: local users are announced again and keep their nicks', async () => {
    const redis = await PrivateRedis.start();
    const server = await startTestServer({ cluster: { url: redis.url } });
    try {
      const alice = await RawClient.register(server.port, 'alice');
      alice.answerPings = true;
      await redis.down();
      await redis.up();
      const probe = new Redis(redis.url);
      try {
        let holder: string | null = null;
        for (let i = 0; i < 100 && holder === null; i++) {
          holder = await probe.get('parley:nick:alice').catch(() => null);
          if (holder === null) await new Promise((r) => setTimeout(r, 50));
        }
        assert.equal(holder, [...server.server.sessions][0]!.uid);
      } finally {
        probe.disconnect();
      }
      // Still connected and served.
      await alice.sync();
      assert.equal(alice.closed, false);
    } finally {
      await server.stop();
      await redis.stop();
    }
  });
});
