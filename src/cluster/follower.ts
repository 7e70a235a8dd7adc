/**
 * Following one log: the part of the bus both implementations share, so memory and Redis
 * deliver the same way. A follower remembers the last sequence delivered (`pos`) and the log's
 * epoch; notices and own publishes only raise what it knows exists (`known`); one pump at a
 * time reads what lies between and delivers it in order, so a burst of notices costs one read
 * per batch, a lost notice is made up by the next one or a catch-up, and nothing is delivered
 * twice (entries at or below `pos` are skipped).
 *
 * Redis may come back from a crash with an older copy of a log (appendfsync everysec loses up
 * to a second): its counter goes back and new entries take sequences this follower delivered
 * already. Each read also returns the msgid at `pos`; when it is not the one delivered there
 * (or the log ends before `pos`), the follower finds where the old and the new entries part
 * (times only rise within a log, so the new ones are those newer than the entry it delivered
 * at `pos`), reports a `rewound` gap and delivers the new entries.
 */
import type { Logger } from '../observability/logger.js';
import { isKnownEvent, type ClusterEvent, type Delivery, type LogName, type Stamp } from './events.js';

export interface LogEntry {
  event: ClusterEvent;
  stamp: Stamp;
}

/** Where a follower reads: the stream of one log. */
export interface LogSource {
  /**
   * Entries with sequence > after, ascending, at most `count`; the log's epoch and last
   * sequence; and (count > 0) the msgid of the entry at `after`, null when there is none.
   */
  read(after: number, count: number): Promise<{ epoch: string | null; last: number; entries: LogEntry[]; at: string | null }>;
}

/** How often `reached` looks at the position (a rare path: after a publish of unknown outcome). */
const REACHED_POLL_MS = 20;

export class LogFollower {
  private pos: number;
  /** The entry delivered at `pos` (null: none delivered yet, following from a given position). */
  private posEntry: { msgid: string; time: number } | null = null;
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

  /** Sequences this follower knows exist but has not delivered yet (bus lag, for metrics). */
  get lag(): number {
    return Math.max(0, this.known - this.pos);
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

  /**
   * Resolves true once everything up to `head` (the log's end as just read from its source)
   * has been delivered, false at `deadline` (ms since the epoch) or when stopped first.
   */
  async reached(head: { last: number; epoch: string | null }, deadline: number): Promise<boolean> {
    this.catchUp();
    for (;;) {
      if (!this.active) return false;
      if (this.epoch === head.epoch && this.pos >= head.last) return true;
      if (head.epoch === null && head.last === 0) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, REACHED_POLL_MS));
    }
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
        // Whatever was known before the read was published before it: the read must see it.
        const knownAtRead = this.known;
        const { epoch, last, entries, at } = await this.source.read(this.pos, this.batch);
        if (!this.active) break;
        if (epoch !== null && this.epoch !== null && epoch !== this.epoch) {
          // The log began again from 1 (Redis lost it): what this node had not read is gone.
          this.emit({ type: 'gap', log: this.log, from: this.pos + 1, to: null, reason: 'restarted' });
          this.epoch = epoch;
          this.pos = 0;
          this.posEntry = null;
          this.known = last;
          for (const [seq, entry] of this.own) if (entry.stamp.epoch !== epoch) this.own.delete(seq);
          this.forced = true;
          continue;
        }
        if (this.epoch === null) this.epoch = epoch;
        // Same epoch only: a log Redis lost altogether has none until its next entry (then 'restarted').
        if (this.posEntry !== null && epoch !== null && epoch === this.epoch && (last < this.pos || (at !== null && at !== this.posEntry.msgid))) {
          await this.rewind(last);
          continue;
        }
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
        const counted = Math.max(last, knownAtRead);
        if (entries.length === 0 && counted > this.pos) {
          // Counted but no longer stored (trimmed past, or the stream expired). Not what a notice
          // raised `known` to while the read was out: that entry may be newer than the read.
          this.emit({ type: 'gap', log: this.log, from: this.pos + 1, to: counted, reason: 'trimmed' });
          this.pos = counted;
          this.posEntry = null;
        }
      }
    } catch (err) {
      // Redis is away: the reconnect handler calls catchUp() for every follower.
      this.logger.warn('cluster: reading a log failed', { log: this.log, err });
    } finally {
      this.running = false;
    }
  }

  /**
   * The log went back (module comment): the last entry at or before min(pos, last) that is not
   * newer than the one delivered at `pos` is where old and new part; delivery goes on after it.
   */
  private async rewind(last: number): Promise<void> {
    const delivered = this.posEntry!;
    let high = Math.min(this.pos, last);
    let restore = 0;
    while (high > 0) {
      const from = Math.max(0, high - this.batch);
      const { entries } = await this.source.read(from, high - from);
      const old = entries.filter((e) => e.stamp.seq <= high && e.stamp.time <= delivered.time);
      if (old.length > 0) {
        restore = old[old.length - 1]!.stamp.seq;
        break;
      }
      // Trimmed below what was read: nothing older is left to tell; go on from there.
      if (entries.length === 0 || entries[0]!.stamp.seq > from + 1) {
        restore = entries.length === 0 ? from : entries[0]!.stamp.seq - 1;
        break;
      }
      high = from;
    }
    this.emit({ type: 'gap', log: this.log, from: restore + 1, to: this.pos, reason: 'rewound' });
    this.pos = restore;
    this.known = Math.max(restore, last);
    // Own events were numbered by either copy of the log: the stream says which stand.
    this.own.clear();
    this.posEntry = null;
    this.forced = true;
  }

  private hand(entry: LogEntry): void {
    this.pos = entry.stamp.seq;
    this.posEntry = { msgid: entry.stamp.msgid, time: entry.stamp.time };
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

/** Bus.lag over some followers (a bus's rooms and its inbox). */
export function followerLag(followers: Iterable<LogFollower>, inbox: LogFollower | null | undefined): { max: number; total: number } {
  let max = 0;
  let total = 0;
  for (const follower of inbox ? [...followers, inbox] : followers) {
    const lag = follower.lag;
    total += lag;
    if (lag > max) max = lag;
  }
  return { max, total };
}
