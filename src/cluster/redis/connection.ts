/**
 * Redis connections for the cluster, on ioredis.
 *
 * Why ioredis (6.0.0) and not node-redis (`redis` 6.3.1): measured on the bus path, the
 * sequencer script (publish.lua) by EVALSHA from one connection on loopback, 7 s and 10 s per
 * run, two rounds each, on this 2-core machine while other work ran (load 4-5):
 *   128 in flight:  ioredis 25.8k-46.2k/s (median 35k), node-redis 20.6k-27.1k/s (median 24k);
 *                   ioredis with auto-pipelining 24.7k-27.6k/s (its per-tick batching adds nothing
 *                   when commands already go out back to back).
 *   one at a time:  ioredis 4.0k-7.4k/s, node-redis 3.7k-6.3k/s: one round trip each, the same.
 * The bus keeps many publishes in flight on one connection, so the pipelined figure is the one
 * that counts. ioredis also reports reconnects plainly ('close', 'reconnecting', 'ready'), which
 * the restart handling below relies on.
 *
 * Settings and why:
 * - No offline queue and no resend of unanswered commands: a command while disconnected fails
 *   at once (the core answers the client), and a script that may have run is never run twice
 *   (a publish is at most once; the follower catches up on what did run).
 * - Our own resubscription (bus.ts) instead of ioredis's, so every followed room is
 *   re-read from its position after the channels are back.
 * - `commandTimeout`: a Redis that stopped answering without closing fails commands instead
 *   of holding them; the lease's own clock fences the node meanwhile.
 */
import { Redis } from 'ioredis';
import type { Logger } from '../../observability/logger.js';

export interface ConnectionOptions {
  url: string;
  /** CLIENT SETNAME, to tell the connections apart in CLIENT LIST. */
  name: string;
  commandTimeoutMs: number;
  logger: Logger;
}

/** One ioredis connection that says when it came back after a loss. */
export class RedisConnection {
  readonly redis: Redis;
  private down = false;
  private readonly reconnectHandlers: (() => void)[] = [];

  constructor(private readonly options: ConnectionOptions) {
    this.redis = new Redis(options.url, {
      lazyConnect: true,
      connectionName: options.name,
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      autoResubscribe: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs,
      // Back-off up to 1 s: a restarted Redis is found within about a second.
      retryStrategy: (times: number) => Math.min(50 * times, 1000),
    });
    this.redis.on('error', (err: Error) => {
      if (!this.down) options.logger.warn('cluster: redis connection error', { name: options.name, err: err.message });
      this.down = true;
    });
    this.redis.on('close', () => {
      this.down = true;
    });
    this.redis.on('ready', () => {
      if (!this.down) return;
      this.down = false;
      options.logger.info('cluster: redis connection back', { name: options.name });
      for (const handler of this.reconnectHandlers) handler();
    });
  }

  async connect(): Promise<void> {
    await this.redis.connect();
  }

  get ready(): boolean {
    return this.redis.status === 'ready';
  }

  /** Called each time the connection is ready again after an error or a close. */
  onReconnect(handler: () => void): void {
    this.reconnectHandlers.push(handler);
  }

  async close(): Promise<void> {
    this.reconnectHandlers.length = 0;
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }
}
