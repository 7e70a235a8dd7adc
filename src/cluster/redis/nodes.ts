/**
 * NodeLease in Redis: register.lua takes the lease, renew.lua extends it (never re-creates
 * it), sweep.lua claims dead nodes, reap.lua cleans them up in batches. The node keeps its own
 * deadline (send time of the last good renewal + ttl, on the monotonic clock) and fences itself
 * when it passes, whether or not Redis answers.
 */
import type { Logger } from '../../observability/logger.js';
import { IdSource, newNodeId, newToken } from '../ids.js';
import { unsegment } from '../keys.js';
import { emitNodeEvent, FencedError, LEASE_DEFAULTS, REAP_QUIT_REASON, type LeaseOptions, type NodeEvent, type NodeLease, type ReapedUser } from '../nodes.js';
import type { RedisConnection } from './connection.js';
import type { Scripts } from './scripts.js';
import { toStamp } from './stamps.js';

const now = (): number => performance.now();

export class RedisNodeLease implements NodeLease {
  readonly ids: IdSource;
  private readonly token = newToken();
  private readonly options: Required<LeaseOptions>;
  private handler: ((event: NodeEvent) => void) | null = null;
  private fencedReason: string | null = null;
  private validUntil = 0;
  private epoch = '';
  private readonly timers: NodeJS.Timeout[] = [];
  private renewing: Promise<'ok' | 'lost' | 'fenced' | 'error'> | null = null;
  private sweeping: Promise<string[]> | null = null;

  private constructor(
    readonly id: string,
    private readonly prefix: string,
    private readonly conn: RedisConnection,
    private readonly scripts: Scripts,
    options: LeaseOptions,
    /** The bus's stream cap, for the QUITs a reap sequences. */
    readonly maxLen: number,
    private readonly logger: Logger,
  ) {
    this.ids = new IdSource(id);
    this.options = { ...LEASE_DEFAULTS, ...options };
  }

  /** Joins the network under a fresh id (a few tries if an id is taken). */
  static async register(prefix: string, conn: RedisConnection, scripts: Scripts, options: LeaseOptions, maxLen: number, logger: Logger): Promise<RedisNodeLease> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const lease = new RedisNodeLease(newNodeId(), prefix, conn, scripts, options, maxLen, logger);
      if (await lease.take()) {
        lease.start();
        return lease;
      }
    }
    throw new Error('cluster: could not register a node id (5 ids in use)');
  }

  /** '<P>', node, token: the first arguments of every fenced script. */
  get fenceArgs(): [string, string, string] {
    return [this.prefix, this.id, this.token];
  }

  get live(): boolean {
    if (this.fencedReason === null && now() >= this.validUntil) this.fence('lease expired (not renewed in time)');
    return this.fencedReason === null;
  }

  /** Throws FencedError unless the lease is held by this node's clock. */
  check(): void {
    if (!this.live) throw new FencedError(this.id, this.fencedReason ?? 'lease lost');
  }

  newUid(): string {
    return this.ids.uid();
  }

  onEvent(handler: (event: NodeEvent) => void): void {
    this.handler = handler;
  }

  async peers(): Promise<string[]> {
    return ((await this.scripts.run('peers', [this.prefix])) as string[]).sort();
  }

  private async take(): Promise<boolean> {
    const sent = now();
    const [ok, epoch] = (await this.scripts.run('register', [...this.fenceArgs, this.options.ttlMs, newToken()])) as [number, string];
    if (ok !== 1) return false;
    this.epoch = epoch;
    this.validUntil = sent + this.options.ttlMs;
    return true;
  }

  private start(): void {
    this.timers.push(setInterval(() => void this.renew(), this.options.renewMs).unref());
    this.timers.push(setInterval(() => void this.sweep().catch((err) => {
      if (!(err instanceof FencedError)) this.logger.warn('cluster: sweep failed', { err });
    }), this.options.sweepMs).unref());
  }

  /** One renewal (timer, or at once after a reconnect); one at a time. */
  renew(): Promise<'ok' | 'lost' | 'fenced' | 'error'> {
    this.renewing ??= this.renewOnce().finally(() => (this.renewing = null));
    return this.renewing;
  }

  private async renewOnce(): Promise<'ok' | 'lost' | 'fenced' | 'error'> {
    if (!this.live) return 'fenced';
    const sent = now();
    let answer: string;
    try {
      answer = (await this.scripts.run('renew', [...this.fenceArgs, this.options.ttlMs, this.epoch])) as string;
    } catch (err) {
      this.logger.warn('cluster: lease renewal failed', { node: this.id, err: (err as Error).message });
      this.live; // fences by the clock if the deadline passed meanwhile
      return 'error';
    }
    if (!this.live) return 'fenced';
    if (answer === 'OK') {
      this.validUntil = sent + this.options.ttlMs;
      return 'ok';
    }
    if (answer === 'LOST') {
      // Redis came back without our data (restarted empty): join again under the same id,
      // and let the core re-announce what it has.
      try {
        if (await this.take()) {
          this.emit({ type: 'reconnected', lost: true });
          return 'lost';
        }
      } catch (err) {
        this.logger.warn('cluster: registering again failed', { node: this.id, err: (err as Error).message });
        return 'error';
      }
      this.fence('node id taken after Redis lost its data');
      return 'fenced';
    }
    this.fence('lease expired in Redis');
    return 'fenced';
  }

  /** The command connection is back: renew now and say what it found. */
  async reconnected(): Promise<void> {
    const outcome = await this.renew();
    if (outcome === 'ok') this.emit({ type: 'reconnected', lost: false });
  }

  sweep(): Promise<string[]> {
    this.sweeping ??= this.sweepOnce().finally(() => (this.sweeping = null));
    return this.sweeping;
  }

  private async sweepOnce(): Promise<string[]> {
    this.check();
    const won = (await this.scripts.run('sweep', [...this.fenceArgs, this.options.reapClaimMs], this.id)) as string[];
    const reaped: string[] = [];
    for (const dead of won.sort()) if (await this.reap(dead)) reaped.push(dead);
    return reaped;
  }

  /** reap.lua until the dead node is gone; false if another node holds the claim. */
  private async reap(dead: string): Promise<boolean> {
    for (;;) {
      this.check();
      const suffix = this.ids.suffix();
      const reply = (await this.scripts.run('reap', [
        ...this.fenceArgs, dead, this.options.reapBatch, this.options.reapClaimMs, REAP_QUIT_REASON, suffix, suffix, this.maxLen,
      ], this.id)) as [number, ...unknown[][]];
      const [done, ...rows] = reply;
      if (done === -1) return false;
      const users: ReapedUser[] = rows.map((row) => {
        const [uid, nick, user, host, realname, account, ...rest] = (row as unknown[]).map(String);
        const rooms: ReapedUser['rooms'] = [];
        for (let i = 0; i < rest.length; i += 5) rooms.push({ room: unsegment(rest[i]!), stamp: toStamp(rest.slice(i + 1, i + 5)) });
        return { uid: uid!, nick: nick!, user: user!, host: host!, realname: realname!, account: account || null, rooms };
      });
      this.emit({ type: 'reaped', node: dead, users, done: done === 1 });
      if (done === 1) return true;
    }
  }

  /** Stop renewing and sweeping, without leaving (the lease lapses in Redis). */
  abandon(): void {
    this.stopTimers();
    this.fencedReason ??= 'abandoned';
  }

  async leave(): Promise<void> {
    this.stopTimers();
    if (this.fencedReason !== null) return;
    this.fencedReason = 'left';
    await this.scripts.run('leave', this.fenceArgs).catch((err) => this.logger.warn('cluster: leave failed', { err: (err as Error).message }));
  }

  private stopTimers(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers.length = 0;
  }

  private fence(reason: string): void {
    if (this.fencedReason !== null) return;
    this.fencedReason = reason;
    this.stopTimers();
    this.logger.warn('cluster: node fenced', { node: this.id, reason });
    this.emit({ type: 'fenced', reason });
  }

  private emit(event: NodeEvent): void {
    emitNodeEvent(this.handler, event, this.logger);
  }
}
