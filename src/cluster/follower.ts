/**
 * Following one log: the part of the bus both implementations share, so memory and Redis
 * deliver the same way. A follower remembers the last sequence delivered (`pos`) and the log's
 * epoch; notices and own publishes only raise what it knows exists (`known`); one pump at a
 * time reads what lies between and delivers it in order, so a burst of notices costs one read
 * per batch, a lost notice is made up by the next one or a catch-up, and nothing is delivered
 * twice (entries at or below `pos` are skipped).
 */
import type { Logger } from '../observability/logger.js';
import { isKnownEvent, type ClusterEvent, type Delivery, type LogName, type Stamp } from './events.js';

export interface LogEntry {
  event: ClusterEvent;
  stamp: Stamp;
}

/** Where a follower reads: the stream of one log. */
export interface LogSource {
  /** Entries with sequence > after, ascending, at most `count`; the log's epoch and last sequence. */
  read(after: number, count: number): Promise<{ epoch: string | null; last: number; entries: LogEntry[] }>;
}

export class LogFollower {
  private pos: number;
  private epoch: string | null;
  private known: number;
  /** Own events by sequence, delivered without a read when their turn comes. */
  private readonly own = new Map<number, LogEntry>();
  private forced = false;
  private running = false;
  private active = true;

  constructor(
    private readonly log: LogName,
    private readonly source: LogSource,
    private readonly self: string,
    private readonly deliver: (delivery: Delivery) => void,
    private readonly batch: number,
    private readonly logger: Logger,
    start: { pos: number; epoch: string | null },
  ) {
    this.pos = start.pos;
    this.known = start.pos;
    this.epoch = start.epoch;
  }

  get position(): number {
    return this.pos;
  }

  get currentEpoch(): string | null {
    return this.epoch;
  }

  /** A notice said the log has reached `seq` (in `epoch`). */
  notice(seq: number, epoch: string): void {
    if (this.epoch !== null && epoch !== this.epoch) this.forced = true;
    else if (seq > this.known) this.known = seq;
    void this.pump();
  }

  /** This node published `entry` into the log. */
  published(entry: LogEntry): void {
    if (this.epoch !== null && entry.stamp.epoch !== this.epoch) {
      this.forced = true;
    } else if (entry.stamp.seq > this.pos) {
      this.own.set(entry.stamp.seq, entry);
      if (entry.stamp.seq > this.known) this.known = entry.stamp.seq;
    }
    void this.pump();
  }

  /** Read whatever is there (after a reconnect, or when following from an old position). */
  catchUp(): void {
    this.forced = true;
    void this.pump();
  }

  stop(): void {
    this.active = false;
    this.own.clear();
  }

  private async pump(): Promise<void> {
    if (this.running || !this.active) return;
    this.running = true;
    try {
      while (this.active) {
        for (let next = this.own.get(this.pos + 1); next; next = this.own.get(this.pos + 1)) {
          this.own.delete(this.pos + 1);
          this.hand(next);
        }
        if (!this.forced && this.known <= this.pos) break;
        this.forced = false;
        const { epoch, last, entries } = await this.source.read(this.pos, this.batch);
        if (!this.active) break;
        if (epoch !== null && this.epoch !== null && epoch !== this.epoch) {
          // The log began again from 1 (Redis lost it): what this node had not read is gone.
          this.emit({ type: 'gap', log: this.log, from: this.pos + 1, to: null, reason: 'restarted' });
          this.epoch = epoch;
          this.pos = 0;
          this.known = last;
          for (const [seq, entry] of this.own) if (entry.stamp.epoch !== epoch) this.own.delete(seq);
          this.forced = true;
          continue;
        }
        if (this.epoch === null) this.epoch = epoch;
        if (last > this.known) this.known = last;
        for (const entry of entries) {
          const { seq } = entry.stamp;
          if (seq <= this.pos) continue;
          if (seq > this.pos + 1) {
            this.emit({ type: 'gap', log: this.log, from: this.pos + 1, to: seq - 1, reason: 'trimmed' });
          }
          this.own.delete(seq);
          this.hand(entry);
        }
        if (entries.length === 0 && this.known > this.pos) {
          // Counted but no longer stored (trimmed past, or the stream expired).
          this.emit({ type: 'gap', log: this.log, from: this.pos + 1, to: this.known, reason: 'trimmed' });
          this.pos = this.known;
        }
      }
    } catch (err) {
      // Redis is away: the reconnect handler calls catchUp() for every follower.
      this.logger.warn('cluster: reading a log failed', { log: this.log, err });
    } finally {
      this.running = false;
    }
  }

  private hand(entry: LogEntry): void {
    this.pos = entry.stamp.seq;
    if (!isKnownEvent(entry.event)) {
      // A newer node's event (or a damaged entry): its place is taken, nothing delivered.
      this.logger.debug('cluster: unknown event skipped', { log: this.log, seq: entry.stamp.seq });
      return;
    }
    this.emit({ type: 'event', log: this.log, event: entry.event, stamp: entry.stamp, own: entry.event.origin === this.self });
  }

  private emit(delivery: Delivery): void {
    try {
      this.deliver(delivery);
    } catch (err) {
      this.logger.error('cluster: delivery handler threw', { log: delivery.log, err });
    }
  }
}
