/**
 * Joins a network through Redis: two connections (commands, notices), the scripts, the lease,
 * the state and the bus. `prefix` keeps networks (and test runs) apart in one Redis.
 */
import { silentLogger } from '../../observability/logger.js';
import { BUS_DEFAULTS } from '../bus.js';
import type { Cluster, ClusterOptions } from '../cluster.js';
import { RedisBus } from './bus.js';
import { RedisConnection } from './connection.js';
import { RedisNodeLease } from './nodes.js';
import { Scripts } from './scripts.js';
import { RedisState } from './state.js';

export interface RedisClusterOptions extends ClusterOptions {
  /** redis://[user:password@]host:port[/db] */
  url: string;
  /** Prepended to every key and channel. @default "parley:" */
  prefix?: string;
  /** A command not answered in this time fails. @default 3000 */
  commandTimeoutMs?: number;
}

/** A Redis cluster node; `connections` are exposed for tests that drop one. */
export interface RedisCluster extends Cluster {
  readonly connections: { cmd: RedisConnection; sub: RedisConnection };
  readonly prefix: string;
}

export async function openRedisCluster(options: RedisClusterOptions): Promise<RedisCluster> {
  const logger = options.logger ?? silentLogger;
  const prefix = options.prefix ?? 'parley:';
  const commandTimeoutMs = options.commandTimeoutMs ?? 3000;
  const cmd = new RedisConnection({ url: options.url, name: 'parley-cmd', commandTimeoutMs, logger });
  const sub = new RedisConnection({ url: options.url, name: 'parley-sub', commandTimeoutMs, logger });
  try {
    await Promise.all([cmd.connect(), sub.connect()]);
    const scripts = new Scripts(cmd.redis);
    await scripts.loadAll();
    const maxLen = options.maxLen ?? BUS_DEFAULTS.maxLen;
    const nodes = await RedisNodeLease.register(prefix, cmd, scripts, options, maxLen, logger);
    cmd.onReconnect(() => void nodes.reconnected());
    const state = new RedisState(cmd, scripts, nodes);
    const bus = new RedisBus(cmd, sub, scripts, nodes, options.readBatch ?? BUS_DEFAULTS.readBatch, logger);
    await bus.start();
    let closed = false;
    return {
      nodes,
      state,
      bus,
      connections: { cmd, sub },
      prefix,
      async ping() {
        const start = performance.now();
        try {
          await cmd.redis.ping();
          return { ok: true, ms: performance.now() - start };
        } catch (err) {
          return { ok: false, ms: performance.now() - start, error: (err as Error).message };
        }
      },
      async close() {
        if (closed) return;
        closed = true;
        await bus.close();
        await nodes.leave();
        await Promise.all([cmd.close(), sub.close()]);
      },
      async abandon() {
        closed = true;
        nodes.abandon();
        await bus.close();
        cmd.redis.disconnect();
        sub.redis.disconnect();
      },
    };
  } catch (err) {
    cmd.redis.disconnect();
    sub.redis.disconnect();
    throw err;
  }
}
