/**
 * Issue 14 step 2, wiring: cluster.url / --cluster / env, the node's lease from start to stop,
 * and /healthz and /readyz seeing the cluster.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { parseServeArgs } from '../../src/cli/serve-args.js';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { startTestServer } from '../helpers/server.js';
import { dropPrefix, PrivateRedis, randomPrefix, redisSkipReason, TEST_REDIS_URL } from '../cluster/redis-helpers.js';

const skip = await redisSkipReason();

describe('cluster configuration', () => {
  it('defaults to no URL (one process, in memory) and the prefix parley:', () => {
    const config = loadConfig({ env: {} });
    assert.equal(config.cluster.url, null);
    assert.equal(config.cluster.prefix, 'parley:');
  });

  it('takes --cluster, PARLEY_CLUSTER__URL and the file; flags win', () => {
    assert.deepEqual(parseServeArgs(['--cluster', 'redis://127.0.0.1:6379/0']).overrides, { cluster: { url: 'redis://127.0.0.1:6379/0' } });
    const fromEnv = loadConfig({ env: { PARLEY_CLUSTER__URL: 'redis://10.0.0.1:6379/2', PARLEY_CLUSTER__PREFIX: 'net-a:' } });
    assert.equal(fromEnv.cluster.url, 'redis://10.0.0.1:6379/2');
    assert.equal(fromEnv.cluster.prefix, 'net-a:');
    const both = loadConfig({ env: { PARLEY_CLUSTER__URL: 'redis://10.0.0.1:6379/2' }, overrides: parseServeArgs(['--cluster=rediss://r.example:6380/0']).overrides });
    assert.equal(both.cluster.url, 'rediss://r.example:6380/0');
  });

  it('refuses what is not a Redis URL, and a prefix with a key pattern in it, naming the key', () => {
    assert.throws(() => loadConfig({ env: { PARLEY_CLUSTER__URL: 'postgres://127.0.0.1/x' } }), (err: unknown) => err instanceof ConfigError && /cluster\.url/.test(err.message));
    assert.throws(() => loadConfig({ env: { PARLEY_CLUSTER__PREFIX: 'a*' } }), (err: unknown) => err instanceof ConfigError && /cluster\.prefix/.test(err.message));
    assert.throws(() => parseServeArgs(['--cluster']), /needs a value/);
  });
});

describe('a server and its cluster', () => {
  it('runs on the in-memory cluster without a URL; /healthz and /readyz include it', async () => {
    const server = await startTestServer({ http: { listen: '127.0.0.1:0' } });
    try {
      const health = (await (await fetch(`http://127.0.0.1:${server.http!.port}/healthz`)).json()) as { status: string; cluster: { status: string; node: string; live: boolean } };
      assert.equal(health.status, 'ok');
      assert.equal(health.cluster.status, 'ok');
      assert.equal(health.cluster.live, true);
      assert.equal(health.cluster.node, server.server.cluster.nodes.id);
      const ready = (await (await fetch(`http://127.0.0.1:${server.http!.port}/readyz`)).json()) as { checks: Record<string, string> };
      assert.equal(ready.checks.cluster, 'ok');
    } finally {
      await server.stop();
    }
  });

  describe('on Redis', { skip }, () => {
    const prefixes: string[] = [];
    after(async () => {
      for (const prefix of prefixes) await dropPrefix(TEST_REDIS_URL, prefix);
    });

    it('registers its lease at start and leaves at stop', async () => {
      const prefix = randomPrefix('wiring');
      prefixes.push(prefix);
      const redis = new Redis(TEST_REDIS_URL);
      try {
        const server = await startTestServer({ http: { listen: '127.0.0.1:0' }, cluster: { url: TEST_REDIS_URL, prefix } });
        const node = server.server.cluster.nodes.id;
        let stopped = false;
        try {
          assert.ok(await redis.exists(`${prefix}lease:${node}`));
          assert.deepEqual(await redis.smembers(`${prefix}nodes`), [node]);
          const health = (await (await fetch(`http://127.0.0.1:${server.http!.port}/healthz`)).json()) as { cluster: { status: string; node: string; ping_ms: number } };
          assert.equal(health.cluster.status, 'ok');
          assert.equal(health.cluster.node, node);
          assert.equal(typeof health.cluster.ping_ms, 'number');
          await server.stop();
          stopped = true;
          assert.equal(await redis.exists(`${prefix}lease:${node}`), 0);
          assert.deepEqual(await redis.smembers(`${prefix}nodes`), []);
        } finally {
          if (!stopped) await server.stop();
        }
      } finally {
        redis.disconnect();
      }
    });

    it('turns /healthz and /readyz to 503 while Redis is down, and back once it answers', async () => {
      const redis = await PrivateRedis.start();
      const server = await startTestServer({ http: { listen: '127.0.0.1:0' }, cluster: { url: redis.url } });
      try {
        const port = server.http!.port;
        const status = async (path: string) => (await fetch(`http://127.0.0.1:${port}${path}`)).status;
        assert.equal(await status('/readyz'), 200);
        await redis.down();
        // The health timer pings every second; bounded wait.
        let unready = false;
        for (let i = 0; i < 50 && !unready; i++) {
          unready = (await status('/readyz')) === 503;
          if (!unready) await new Promise((r) => setTimeout(r, 100));
        }
        assert.ok(unready, '/readyz stayed 200 with Redis down');
        assert.equal(await status('/healthz'), 503);
        const body = (await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()) as { problems: string[] };
        assert.ok(body.problems.some((p) => p.startsWith('cluster: ')), JSON.stringify(body));
        // Back within the lease's ttl: the node registers again (Redis came back empty) and is ready.
        await redis.up();
        let ready = false;
        for (let i = 0; i < 50 && !ready; i++) {
          ready = (await status('/readyz')) === 200;
          if (!ready) await new Promise((r) => setTimeout(r, 100));
        }
        assert.ok(ready, '/readyz stayed 503 after Redis came back');
        assert.equal(await status('/healthz'), 200);
      } finally {
        await server.stop();
        await redis.stop();
      }
    });

    it('does not start when Redis is unreachable, and says so without the password', async () => {
      await assert.rejects(
        startTestServer({ cluster: { url: 'redis://user:hunter2@127.0.0.1:1/0' } }),
        (err: Error) => /cluster\.url redis:\/\/user@127\.0\.0\.1:1\/0/.test(err.message) && !err.message.includes('hunter2'),
      );
    });
  });
});
