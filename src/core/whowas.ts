import { foldCase } from '../protocol/index.js';

/** One nick that stopped being used: who held it, as WHOWAS shows them. */
export interface WhowasEntry {
  nick: string;
  user: string;
  host: string;
  realname: string;
  account: string | null;
  /** The server the user was on (one name per node in scale-out). */
  server: string;
  /** When the nick was given up (milliseconds since the epoch). */
  at: number;
}

/**
 * The nick history WHOWAS reads (modern.ircdocs.horse WHOWAS). Owned by the Server
 * (`server.whowas`); a cluster passes in one that every node shares.
 *
 * Contract: `record` is fire-and-forget and never throws (it runs on a nick change or a quit,
 * which never wait for it). `lookup` matches the nick exactly under casemapping `ascii`, no
 * wildcards, and returns the newest entries first, at most `limit` (`Infinity` for all kept). A
 * shared implementation may answer with a promise; the in-memory one answers at once. Entries
 * are kept in bounded memory: older ones are forgotten first, so WHOWAS may miss a nick from
 * long ago.
 */
export interface NickHistory {
  record(entry: WhowasEntry): void;
  lookup(nick: string, limit: number): readonly WhowasEntry[] | Promise<readonly WhowasEntry[]>;
}

/** At most this many entries in all: the most recent nick changes and quits. @default 4096 */
export const WHOWAS_CAPACITY = 4096;
/** At most this many entries per nick, so one busy nick cannot push the others out. @default 8 */
export const WHOWAS_PER_NICK = 8;

/**
 * The in-memory nick history for one process. A ring of the last `capacity` entries in the
 * order they were recorded, and per folded nick its entries oldest first (at most `perNick`).
 * Memory is bounded by `capacity` entries whatever the traffic; `record` and `lookup` cost
 * O(perNick).
 */
export class MemoryNickHistory implements NickHistory {
  private readonly ring: (WhowasEntry | undefined)[];
  private next = 0;
  private readonly byNick = new Map<string, WhowasEntry[]>();

  constructor(
    private readonly capacity = WHOWAS_CAPACITY,
    private readonly perNick = WHOWAS_PER_NICK,
  ) {
    this.ring = new Array<WhowasEntry | undefined>(capacity);
  }

  record(entry: WhowasEntry): void {
    if (this.capacity === 0 || this.perNick === 0) return;
    const evicted = this.ring[this.next];
    if (evicted) this.remove(evicted);
    this.ring[this.next] = entry;
    this.next = (this.next + 1) % this.capacity;
    const key = foldCase(entry.nick);
    const list = this.byNick.get(key);
    if (!list) {
      this.byNick.set(key, [entry]);
      return;
    }
    list.push(entry);
    // The oldest of this nick goes; its ring slot is left to be overwritten (remove finds nothing).
    if (list.length > this.perNick) list.shift();
  }

  lookup(nick: string, limit: number): readonly WhowasEntry[] {
    const list = this.byNick.get(foldCase(nick));
    if (!list) return [];
    const newestFirst = list.slice().reverse();
    return limit < newestFirst.length ? newestFirst.slice(0, limit) : newestFirst;
  }

  /** How many entries are kept (for tests). */
  get size(): number {
    let size = 0;
    for (const list of this.byNick.values()) size += list.length;
    return size;
  }

  private remove(entry: WhowasEntry): void {
    const key = foldCase(entry.nick);
    const list = this.byNick.get(key);
    // The ring is in recording order, so an evicted entry is the oldest of its nick, if still kept.
    if (!list || list[0] !== entry) return;
    list.shift();
    if (list.length === 0) this.byNick.delete(key);
  }
}
