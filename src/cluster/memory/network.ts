/**
 * The in-process stand-in for Redis: what every memory node of one network shares. One
 * `MemoryNetwork` per process is the single-process default (one node); tests put several
 * nodes on one network to run the contract suites. Each method here is one synchronous block,
 * so it is atomic as a Lua script is, and does what the matching script does (redis/lua/).
 * Leases expire lazily by the injected clock, as Redis keys do.
 */
import { time32 } from '../ids.js';
import type { ClusterEvent, Stamp } from '../events.js';
import type { LogEntry } from '../follower.js';
import { FencedError } from '../nodes.js';
import type { UserRecord } from '../state.js';

export interface MemoryLog {
  seq: number;
  time: number;
  epoch: string;
  entries: LogEntry[];
  /** Woken after each append, in a microtask (as a PUBLISH reaches subscribers later). */
  readonly listeners: Set<(seq: number, epoch: string) => void>;
}

export interface MemoryRoom {
  name: string;
  version: number;
  fields: Map<string, string>;
  members: Map<string, number>;
}

export class MemoryNetwork {
  readonly leases = new Map<string, { token: string; expires: number }>();
  readonly reapClaims = new Map<string, { by: string; expires: number }>();
  readonly nodes = new Set<string>();
  readonly users = new Map<string, UserRecord>();
  /** Folded nick -> uid. */
  readonly nicks = new Map<string, string>();
  readonly nodeUsers = new Map<string, Set<string>>();
  /** Uids with `i` and with `o` in their modes: LUSERS's counts without a walk (the Redis sets users:i, users:o). */
  readonly invisible = new Set<string>();
  readonly opers = new Set<string>();
  /** uid -> folded room names. */
  readonly userRooms = new Map<string, Set<string>>();
  /** Folded name -> room. */
  readonly rooms = new Map<string, MemoryRoom>();
  /** Folded old name of a renamed room -> its new name (display and folded), until `expires` (lua r:renamed:). */
  readonly redirects = new Map<string, { name: string; key: string; expires: number }>();
  /**
   * The rooms' key segments in listing order, built by the first listRooms after a room was
   * created or removed (null until then): a LIST reads page after page, and sorting every room
   * for each page would cost the single process O(rooms log rooms) per page.
   */
  roomOrder: string[] | null = null;
  /** 'r:<folded room>' or 'n:<node>' -> log. */
  readonly logs = new Map<string, MemoryLog>();
  /** address -> node -> count. */
  readonly addresses = new Map<string, Map<string, number>>();
  readonly nodeAddresses = new Map<string, Set<string>>();
  private epochs = 0;

  constructor(readonly now: () => number = Date.now) {}

  /** Throws FencedError unless `node` holds its lease with `token` (lib.lua fence). */
  fence(node: string, token: string): void {
    const lease = this.leases.get(node);
    if (!lease || lease.token !== token || lease.expires <= this.now()) throw new FencedError(node, 'lease not held');
  }

  /** The live redirect of a renamed room's old name, if any (expired ones go, as Redis keys do). */
  redirect(key: string): { name: string; key: string } | undefined {
    const entry = this.redirects.get(key);
    if (entry && entry.expires <= this.now()) this.redirects.delete(key);
    return this.redirects.get(key);
  }

  /** Sets a redirect; expired ones go first, so the map holds only live ones (as Redis keys expire). */
  setRedirect(key: string, to: { name: string; key: string }, seconds: number): void {
    const now = this.now();
    for (const [old, entry] of this.redirects) if (entry.expires <= now) this.redirects.delete(old);
    this.redirects.set(key, { ...to, expires: now + seconds * 1000 });
  }

  hasLease(node: string): boolean {
    const lease = this.leases.get(node);
    if (lease && lease.expires <= this.now()) this.leases.delete(node);
    return this.leases.has(node);
  }

  /** lib.lua `sequence`: the next place in a log, time clamped strictly above the last. */
  sequence(log: string, event: ClusterEvent, idsuffix: string, maxLen: number, version?: number): Stamp {
    let entry = this.logs.get(log);
    if (!entry) {
      entry = { seq: 0, time: 0, epoch: `m${++this.epochs}`, entries: [], listeners: new Set() };
      this.logs.set(log, entry);
    }
    const seq = ++entry.seq;
    const time = Math.max(this.now(), entry.time + 1);
    entry.time = time;
    const stamp: Stamp = { seq, time, msgid: time32(time) + idsuffix, epoch: entry.epoch };
    if (version !== undefined) stamp.version = version;
    entry.entries.push({ event, stamp });
    // Trimmed in steps, like Redis's MAXLEN ~: one splice per many appends, not a shift per append.
    if (entry.entries.length > maxLen + Math.max(64, maxLen >> 4)) entry.entries.splice(0, entry.entries.length - maxLen);
    const { epoch } = entry;
    for (const listener of entry.listeners) queueMicrotask(() => listener(seq, epoch));
    return stamp;
  }

  read(log: string, after: number, count: number): { epoch: string | null; last: number; entries: LogEntry[]; at: string | null } {
    const entry = this.logs.get(log);
    if (!entry) return { epoch: null, last: 0, entries: [], at: null };
    // Entries are in sequence order without holes except the trimmed head: index by offset.
    const first = entry.entries[0]?.stamp.seq ?? entry.seq + 1;
    const start = Math.max(0, after + 1 - first);
    const here = count > 0 ? entry.entries[start - 1] : undefined;
    const at = here?.stamp.seq === after ? here.stamp.msgid : null;
    return { epoch: entry.epoch, last: entry.seq, entries: entry.entries.slice(start, start + count), at };
  }

  listen(log: string, listener: (seq: number, epoch: string) => void): void {
    let entry = this.logs.get(log);
    if (!entry) {
      entry = { seq: 0, time: 0, epoch: `m${++this.epochs}`, entries: [], listeners: new Set() };
      this.logs.set(log, entry);
    }
    entry.listeners.add(listener);
  }

  unlisten(log: string, listener: (seq: number, epoch: string) => void): void {
    this.logs.get(log)?.listeners.delete(listener);
  }
}
