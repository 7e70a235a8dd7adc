/**
 * The Bus in Redis. Publishing is publish.lua (lib.lua `sequence`) on the command connection;
 * notices ('<seq>:<epoch>') arrive on channels `P r:<seg>` (rooms) and `P n:<node>` (inboxes)
 * on a second connection that only subscribes (a subscribed connection can send nothing else,
 * and a slow read must not hold up publishing). Followers read with read.lua (XRANGE from
 * their position).
 *
 * Streams: `P r:log:<seg>` / `P n:log:<node>`, entry id '<seq>-0', fields e (event JSON),
 * t (time), m (msgid), v (room version, for state changes); counters `P r:seq:<seg>` /
 * `P n:seq:<node>` (seq, time, epoch).
 *
 * After the subscriber connection comes back every channel is subscribed again and every
 * follower reads from its position; after the command connection comes back, every follower
 * reads too (a read may have failed meanwhile).
 */
import { foldCase } from '../../protocol/index.js';
import type { Logger } from '../../observability/logger.js';
import type { Bus } from '../bus.js';
import type { ClusterEvent, Delivery, LogName, Stamp } from '../events.js';
import { followerLag, LogFollower, type LogEntry, type LogSource } from '../follower.js';
import { segment } from '../keys.js';
import type { RedisConnection } from './connection.js';
import type { RedisNodeLease } from './nodes.js';
import type { Scripts } from './scripts.js';
import { toStamp } from './stamps.js';

interface Followed {
  follower: LogFollower;
  channel: string;
}

/** Between reads of a log's end while Redis does not answer (`caughtUp`). */
const CAUGHT_UP_RETRY_MS = 100;

export class RedisBus implements Bus {
  private handler: ((delivery: Delivery) => void) | null = null;
  private readonly P: string;
  private readonly rooms = new Map<string, Followed>();
  private readonly byChannel = new Map<string, LogFollower>();
  /** Notices that came while a follow was being set up, replayed once it is. */
  private readonly early = new Map<string, string[]>();
  private readonly starting = new Map<string, Promise<number>>();
  private readonly left = new Map<string, { pos: number; epoch: string | null }>();
  private inbox: Followed | null = null;
  private closed = false;

  constructor(
    private readonly cmd: RedisConnection,
    private readonly sub: RedisConnection,
    private readonly scripts: Scripts,
    private readonly node: RedisNodeLease,
    private readonly readBatch: number,
    private readonly logger: Logger,
  ) {
    this.P = node.fenceArgs[0];
    sub.redis.on('message', (channel: string, message: string) => this.onNotice(channel, message));
    sub.onReconnect(() => void this.resubscribe());
    cmd.onReconnect(() => this.catchUpAll());
  }

  /** Follows this node's inbox; called once by openRedisCluster. */
  async start(): Promise<void> {
    this.inbox = await this.setUp('n', this.node.id, { node: this.node.id }, undefined);
  }

  onDelivery(handler: (delivery: Delivery) => void): void {
    this.handler = handler;
  }

  async publish(room: string, event: ClusterEvent): Promise<Stamp> {
    const key = foldCase(room);
    const stamp = await this.sequence('r', segment(key, 'room'), event);
    this.rooms.get(key)?.follower.published({ event, stamp });
    return stamp;
  }

  async send(node: string, event: ClusterEvent): Promise<Stamp> {
    const stamp = await this.sequence('n', segment(node, 'node'), event);
    if (node === this.node.id) this.inbox?.follower.published({ event, stamp });
    return stamp;
  }

  private async sequence(kind: 'r' | 'n', seg: string, event: ClusterEvent): Promise<Stamp> {
    this.node.check();
    const suffix = this.node.ids.suffix();
    const reply = (await this.scripts.run('publish', [
      ...this.node.fenceArgs, kind, seg, JSON.stringify(event), suffix, suffix, this.node.maxLen,
    ], this.node.id)) as unknown[];
    return toStamp(reply);
  }

  follow(room: string, after?: number): Promise<number> {
    const key = foldCase(room);
    const seg = segment(key, 'room');
    const existing = this.rooms.get(key);
    if (existing) return Promise.resolve(existing.follower.position);
    let pending = this.starting.get(key);
    if (!pending) {
      pending = this.setUp('r', seg, { room: key }, after)
        .then((followed) => {
          this.rooms.set(key, followed);
          this.left.delete(key);
          return followed.follower.position;
        })
        .finally(() => this.starting.delete(key));
      this.starting.set(key, pending);
    }
    return pending;
  }

  async caughtUp(room: string, timeoutMs: number): Promise<boolean> {
    const key = foldCase(room);
    const deadline = Date.now() + timeoutMs;
    const source = this.source('r', segment(key, 'room'));
    for (;;) {
      const followed = this.rooms.get(key);
      if (!followed) return false;
      try {
        const head = await source.read(Number.MAX_SAFE_INTEGER, 0);
        return await followed.follower.reached(head, deadline);
      } catch {
        // Redis not reachable yet (the reason the outcome was unknown): try again until the deadline.
        if (Date.now() >= deadline) return false;
        await new Promise((resolve) => setTimeout(resolve, CAUGHT_UP_RETRY_MS));
      }
    }
  }

  /** Subscribe first, then read the head: no notice after the head can be missed. */
  private async setUp(kind: 'r' | 'n', seg: string, log: LogName, after: number | undefined): Promise<Followed> {
    const channel = `${this.P}${kind}:${seg}`;
    this.early.set(channel, []);
    try {
      if (this.sub.ready) await this.sub.redis.subscribe(channel);
      let start: { pos: number; epoch: string | null };
      if (after === undefined) {
        const head = await this.source(kind, seg).read(Number.MAX_SAFE_INTEGER, 0);
        start = { pos: head.last, epoch: head.epoch };
      } else {
        start = { pos: after, epoch: 'room' in log ? this.left.get(log.room)?.epoch ?? null : null };
      }
      const follower = new LogFollower(log, this.source(kind, seg), this.node.id, (d) => this.handler?.(d), this.readBatch, this.logger, start);
      this.byChannel.set(channel, follower);
      // Taken out first: onNotice would put them back in the list while it is walked.
      const early = this.early.get(channel) ?? [];
      this.early.delete(channel);
      for (const notice of early) this.onNotice(channel, notice);
      if (after !== undefined) follower.catchUp();
      return { follower, channel };
    } catch (err) {
      if (!this.byChannel.has(channel) && this.sub.ready) await this.sub.redis.unsubscribe(channel).catch(() => {});
      throw err;
    } finally {
      this.early.delete(channel);
    }
  }

  private source(kind: 'r' | 'n', seg: string): LogSource {
    return {
      read: async (after, count) => {
        const [epoch, last, raw, at] = (await this.scripts.run('read', [this.P, kind, seg, after, count])) as [string | null, number, [string, string[]][], string | null];
        const entries: LogEntry[] = [];
        for (const [id, flat] of raw) {
          const f: Record<string, string> = {};
          for (let i = 0; i + 1 < flat.length; i += 2) f[flat[i]!] = flat[i + 1]!;
          let event: unknown;
          try {
            event = JSON.parse(f.e ?? 'null');
          } catch {
            event = null;
          }
          const stamp = toStamp([Number.parseInt(id, 10), f.t, f.m, epoch], f.v === undefined ? undefined : Number(f.v));
          entries.push({ event: event as ClusterEvent, stamp });
        }
        return { epoch: epoch ?? null, last: Number(last), entries, at: at || null };
      },
    };
  }

  private onNotice(channel: string, message: string): void {
    const early = this.early.get(channel);
    if (early) {
      early.push(message);
      return;
    }
    const follower = this.byChannel.get(channel);
    if (!follower) return;
    const colon = message.indexOf(':');
    follower.notice(Number(message.slice(0, colon)), message.slice(colon + 1));
  }

  async unfollow(room: string): Promise<number> {
    const key = foldCase(room);
    await this.starting.get(key)?.catch(() => {});
    const followed = this.rooms.get(key);
    if (!followed) return this.left.get(key)?.pos ?? 0;
    this.rooms.delete(key);
    this.byChannel.delete(followed.channel);
    followed.follower.stop();
    const pos = followed.follower.position;
    this.left.set(key, { pos, epoch: followed.follower.currentEpoch });
    if (this.sub.ready) await this.sub.redis.unsubscribe(followed.channel).catch(() => {});
    return pos;
  }

  position(room: string): number | undefined {
    return this.rooms.get(foldCase(room))?.follower.position;
  }

  following(): string[] {
    return [...this.rooms.keys()].sort();
  }

  lag(): { max: number; total: number } {
    return followerLag([...this.rooms.values()].map((f) => f.follower), this.inbox?.follower);
  }

  /** The subscriber connection is back: channels again, then read what was missed. */
  private async resubscribe(): Promise<void> {
    const channels = [...this.byChannel.keys()];
    try {
      for (let i = 0; i < channels.length; i += 500) await this.sub.redis.subscribe(...channels.slice(i, i + 500));
    } catch (err) {
      this.logger.warn('cluster: resubscribing failed', { err: (err as Error).message });
    }
    this.catchUpAll();
  }

  private catchUpAll(): void {
    if (this.closed) return;
    for (const follower of this.byChannel.values()) follower.catchUp();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const follower of this.byChannel.values()) follower.stop();
    this.byChannel.clear();
    this.rooms.clear();
  }
}

