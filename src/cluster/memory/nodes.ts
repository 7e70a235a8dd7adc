/** NodeLease over a MemoryNetwork: leases by the network's clock, sweep and reap as in Redis. */
import type { Logger } from '../../observability/logger.js';
import type { QuitEvent } from '../events.js';
import { IdSource, newNodeId, newToken } from '../ids.js';
import { emitNodeEvent, FencedError, LEASE_DEFAULTS, REAP_QUIT_REASON, type LeaseOptions, type NodeEvent, type NodeLease, type ReapedUser } from '../nodes.js';
import type { MemoryNetwork } from './network.js';
import { dropUser } from './state.js';

export class MemoryNodeLease implements NodeLease {
  readonly id: string;
  readonly token = newToken();
  readonly ids: IdSource;
  private readonly options: Required<LeaseOptions>;
  private handler: ((event: NodeEvent) => void) | null = null;
  private fencedReason: string | null = null;
  private validUntil: number;
  private readonly timers: NodeJS.Timeout[] = [];
  private sweeping: Promise<string[]> | null = null;

  constructor(
    private readonly net: MemoryNetwork,
    options: LeaseOptions,
    /** The bus's stream cap, for the QUITs a reap sequences. */
    readonly maxLen: number,
    private readonly logger: Logger,
  ) {
    this.options = { ...LEASE_DEFAULTS, ...options };
    let id = newNodeId();
    while (net.nodes.has(id) || net.leases.has(id)) id = newNodeId();
    this.id = id;
    this.ids = new IdSource(id);
    this.validUntil = net.now() + this.options.ttlMs;
    net.leases.set(id, { token: this.token, expires: this.validUntil });
    net.nodes.add(id);
    this.timers.push(setInterval(() => this.renew(), this.options.renewMs).unref());
    this.timers.push(setInterval(() => void this.sweep().catch(() => {}), this.options.sweepMs).unref());
  }

  get live(): boolean {
    if (this.fencedReason === null && this.net.now() >= this.validUntil) this.fence('lease expired');
    return this.fencedReason === null;
  }

  newUid(): string {
    return this.ids.uid();
  }

  onEvent(handler: (event: NodeEvent) => void): void {
    this.handler = handler;
  }

  async peers(): Promise<string[]> {
    return [...this.net.nodes].filter((node) => this.net.hasLease(node)).sort();
  }

  /** renew.lua: extend our lease if we still hold it; otherwise we are fenced. */
  renew(): void {
    if (!this.live) return;
    const lease = this.net.leases.get(this.id);
    if (!lease || lease.token !== this.token || lease.expires <= this.net.now()) {
      this.fence('lease lost');
      return;
    }
    this.validUntil = this.net.now() + this.options.ttlMs;
    lease.expires = this.validUntil;
  }

  sweep(): Promise<string[]> {
    // One sweep at a time per node: the timer and a caller share it.
    this.sweeping ??= this.sweepOnce().finally(() => (this.sweeping = null));
    return this.sweeping;
  }

  private async sweepOnce(): Promise<string[]> {
    this.check();
    const won: string[] = [];
    for (const node of [...this.net.nodes].sort()) {
      if (node === this.id || this.net.hasLease(node)) continue;
      const claim = this.net.reapClaims.get(node);
      if (claim && claim.by !== this.id && claim.expires > this.net.now()) continue;
      this.net.reapClaims.set(node, { by: this.id, expires: this.net.now() + this.options.reapClaimMs });
      won.push(node);
    }
    const reaped: string[] = [];
    for (const node of won) if (await this.reap(node)) reaped.push(node);
    return reaped;
  }

  /** reap.lua, one batch per turn: remove the dead node's users, announcing their QUITs. */
  private async reap(dead: string): Promise<boolean> {
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve));
      this.check();
      const claim = this.net.reapClaims.get(dead);
      if (!claim || claim.by !== this.id) return false;
      claim.expires = this.net.now() + this.options.reapClaimMs;
      const uids = [...(this.net.nodeUsers.get(dead) ?? [])].slice(0, this.options.reapBatch);
      const users: ReapedUser[] = [];
      for (const uid of uids) {
        const user = this.net.users.get(uid);
        this.net.nodeUsers.get(dead)?.delete(uid);
        if (!user) continue;
        const quit: QuitEvent = { v: 1, kind: 'quit', origin: this.id, uid, nick: user.nick, reason: REAP_QUIT_REASON };
        const suffix = this.ids.suffix();
        const rooms = [...(this.net.userRooms.get(uid) ?? [])].sort().map((key, i) => ({
          room: key,
          stamp: this.net.sequence(`r:${key}`, quit, `${suffix}-${i}`, this.maxLen),
        }));
        dropUser(this.net, user);
        users.push({ uid, nick: user.nick, user: user.user, host: user.host, realname: user.realname, account: user.account, rooms });
      }
      const done = (this.net.nodeUsers.get(dead)?.size ?? 0) === 0;
      if (done) {
        for (const address of this.net.nodeAddresses.get(dead) ?? []) {
          const counts = this.net.addresses.get(address);
          counts?.delete(dead);
          if (counts?.size === 0) this.net.addresses.delete(address);
        }
        this.net.nodeAddresses.delete(dead);
        this.net.nodeUsers.delete(dead);
        this.net.nodes.delete(dead);
      }
      this.emit({ type: 'reaped', node: dead, users, done });
      if (done) return true;
    }
  }

  /** Stop renewing and sweeping, without leaving (the lease lapses). */
  abandon(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers.length = 0;
    this.fencedReason ??= 'abandoned';
  }

  async leave(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.timers.length = 0;
    if (this.fencedReason !== null) return;
    this.fencedReason = 'left';
    if (this.net.leases.get(this.id)?.token === this.token) this.net.leases.delete(this.id);
    // Users still here are reaped by a peer; otherwise the node is forgotten at once.
    if ((this.net.nodeUsers.get(this.id)?.size ?? 0) === 0 && (this.net.nodeAddresses.get(this.id)?.size ?? 0) === 0) {
      this.net.nodes.delete(this.id);
    }
  }

  /** Throws FencedError unless the lease is held (by our clock and by the network). */
  check(): void {
    if (!this.live) throw new FencedError(this.id, this.fencedReason ?? 'lease lost');
    this.net.fence(this.id, this.token);
  }

  private fence(reason: string): void {
    if (this.fencedReason !== null) return;
    this.fencedReason = reason;
    for (const timer of this.timers) clearInterval(timer);
    this.timers.length = 0;
    this.logger.warn('cluster: node fenced', { node: this.id, reason });
    this.emit({ type: 'fenced', reason });
  }

  private emit(event: NodeEvent): void {
    emitNodeEvent(this.handler, event, this.logger);
  }
}
