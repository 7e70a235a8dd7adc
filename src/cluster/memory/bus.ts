/** The Bus in one process, over a MemoryNetwork: same sequencer rules, same follower. */
import { foldCase } from '../../protocol/index.js';
import type { Logger } from '../../observability/logger.js';
import type { Bus } from '../bus.js';
import type { ClusterEvent, Delivery, Stamp } from '../events.js';
import { followerLag, LogFollower } from '../follower.js';
import { segment } from '../keys.js';
import type { MemoryNetwork } from './network.js';
import type { MemoryNodeHandle } from './state.js';

interface Followed {
  follower: LogFollower;
  listener: (seq: number, epoch: string) => void;
}

export class MemoryBus implements Bus {
  private handler: ((delivery: Delivery) => void) | null = null;
  private readonly rooms = new Map<string, Followed>();
  /** Positions of rooms no longer followed, to resume from. */
  private readonly left = new Map<string, { pos: number; epoch: string | null }>();
  private readonly inbox: Followed;
  private closed = false;

  constructor(
    private readonly net: MemoryNetwork,
    private readonly node: MemoryNodeHandle,
    private readonly readBatch: number,
    private readonly logger: Logger,
  ) {
    const log = `n:${node.id}`;
    const head = net.read(log, Number.MAX_SAFE_INTEGER, 0);
    this.inbox = this.makeFollower(log, { node: node.id }, { pos: head.last, epoch: head.epoch });
  }

  onDelivery(handler: (delivery: Delivery) => void): void {
    this.handler = handler;
  }

  async publish(room: string, event: ClusterEvent): Promise<Stamp> {
    const key = foldCase(room);
    segment(key, 'room');
    this.node.check();
    const stamp = this.net.sequence(`r:${key}`, event, this.node.ids.suffix(), this.node.maxLen);
    this.rooms.get(key)?.follower.published({ event, stamp });
    return stamp;
  }

  async send(node: string, event: ClusterEvent): Promise<Stamp> {
    segment(node, 'node');
    this.node.check();
    const stamp = this.net.sequence(`n:${node}`, event, this.node.ids.suffix(), this.node.maxLen);
    if (node === this.node.id) this.inbox.follower.published({ event, stamp });
    return stamp;
  }

  async follow(room: string, after?: number): Promise<number> {
    const key = foldCase(room);
    segment(key, 'room');
    const existing = this.rooms.get(key);
    if (existing) return existing.follower.position;
    const log = `r:${key}`;
    const head = this.net.read(log, Number.MAX_SAFE_INTEGER, 0);
    const start = after === undefined
      ? { pos: head.last, epoch: head.epoch }
      : { pos: after, epoch: this.left.get(key)?.epoch ?? null };
    const followed = this.makeFollower(log, { room: key }, start);
    this.rooms.set(key, followed);
    this.left.delete(key);
    if (after !== undefined) followed.follower.catchUp();
    return start.pos;
  }

  async unfollow(room: string): Promise<number> {
    const key = foldCase(room);
    const followed = this.rooms.get(key);
    if (!followed) return this.left.get(key)?.pos ?? 0;
    this.rooms.delete(key);
    this.net.unlisten(`r:${key}`, followed.listener);
    followed.follower.stop();
    const pos = followed.follower.position;
    this.left.set(key, { pos, epoch: followed.follower.currentEpoch });
    return pos;
  }

  position(room: string): number | undefined {
    return this.rooms.get(foldCase(room))?.follower.position;
  }

  following(): string[] {
    return [...this.rooms.keys()].sort();
  }

  async caughtUp(room: string, timeoutMs: number): Promise<boolean> {
    const key = foldCase(room);
    const followed = this.rooms.get(key);
    if (!followed) return false;
    return followed.follower.reached(this.net.read(`r:${key}`, Number.MAX_SAFE_INTEGER, 0), Date.now() + timeoutMs);
  }

  lag(): { max: number; total: number } {
    return followerLag([...this.rooms.values()].map((f) => f.follower), this.inbox.follower);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const room of [...this.rooms.keys()]) await this.unfollow(room);
    this.net.unlisten(`n:${this.node.id}`, this.inbox.listener);
    this.inbox.follower.stop();
  }

  private makeFollower(log: string, name: Delivery['log'], start: { pos: number; epoch: string | null }): Followed {
    const source = { read: async (after: number, count: number) => this.net.read(log, after, count) };
    const follower = new LogFollower(name, source, this.node.id, (d) => this.handler?.(d), this.readBatch, this.logger, start);
    const listener = (seq: number, epoch: string) => follower.notice(seq, epoch);
    this.net.listen(log, listener);
    return { follower, listener };
  }
}
