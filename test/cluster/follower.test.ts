// LogFollower against a scripted log source: the interleavings of reads and notices that a
// real bus only produces under load.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClusterEvent, Delivery } from '../../src/cluster/events.js';
import { LogFollower, type LogEntry, type LogSource } from '../../src/cluster/follower.js';
import { silentLogger } from '../../src/observability/logger.js';

const EPOCH = 'e1';

function entry(seq: number): LogEntry {
  const event: ClusterEvent = { v: 1, kind: 'message', origin: 'other', command: 'PRIVMSG', from: 'other000000', source: 'n!u@h', target: '#r', text: `m${seq}`, tags: {}, account: null };
  return { event, stamp: { seq, time: 1000 + seq, msgid: `id${seq}`, epoch: EPOCH } };
}

/** A log whose reads answer only when the test lets them, with the log as it was when sent. */
class HeldLog implements LogSource {
  readonly entries: LogEntry[] = [];
  /** Entries the log once held that are gone now (trimmed), counted in `last`. */
  trimmedTo = 0;
  private held: (() => void)[] = [];

  async read(after: number, count: number): Promise<{ epoch: string | null; last: number; entries: LogEntry[]; at: string | null }> {
    const last = Math.max(this.trimmedTo, this.entries.at(-1)?.stamp.seq ?? 0);
    const snapshot = {
      epoch: last === 0 ? null : EPOCH,
      last,
      entries: this.entries.filter((e) => e.stamp.seq > after).slice(0, count),
      at: this.entries.find((e) => e.stamp.seq === after)?.stamp.msgid ?? null,
    };
    await new Promise<void>((resolve) => this.held.push(resolve));
    return snapshot;
  }

  /** Answers the reads sent so far and lets their continuations run. */
  async answer(): Promise<void> {
    const held = this.held;
    this.held = [];
    for (const resolve of held) resolve();
    await new Promise((resolve) => setImmediate(resolve));
  }

  get waiting(): number {
    return this.held.length;
  }
}

function follow(log: HeldLog): { follower: LogFollower; got: Delivery[] } {
  const got: Delivery[] = [];
  const follower = new LogFollower({ room: '#r' }, log, 'self', (d) => got.push(d), 100, silentLogger, { pos: 0, epoch: null });
  return { follower, got };
}

describe('LogFollower', () => {
  it('a notice that arrives while an older read is out is read for, not taken as trimmed', async () => {
    const log = new HeldLog();
    const { follower, got } = follow(log);
    follower.catchUp(); // a read of the empty log goes out
    log.entries.push(entry(1));
    follower.notice(1, EPOCH); // published after that read was answered by the log
    await log.answer(); // the old read: nothing there
    assert.equal(log.waiting, 1, 'reads again for the noticed entry');
    await log.answer();
    assert.deepEqual(got.map((d) => (d.type === 'event' ? d.stamp.seq : d)), [1]);
    assert.equal(follower.position, 1);
  });

  it('what was counted before a read and is not in the log is a trimmed gap, and the pump stops', async () => {
    const log = new HeldLog();
    log.trimmedTo = 3;
    const { follower, got } = follow(log);
    follower.notice(3, EPOCH);
    await log.answer();
    assert.deepEqual(got, [{ type: 'gap', log: { room: '#r' }, from: 1, to: 3, reason: 'trimmed' }]);
    assert.equal(follower.position, 3);
    assert.equal(log.waiting, 0, 'no further read');
  });
});
