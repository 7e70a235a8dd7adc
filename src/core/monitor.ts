/**
 * MONITOR's index on one node (ircv3.net/specs/extensions/monitor): folded nick -> the local
 * sessions watching it, so a sign-on, sign-off or nick change anywhere on the network (the
 * network log, network-log.ts) costs one map lookup here, not a walk over sessions. Each
 * session's own list (as the client spelled the nicks, for MONITOR L) is kept beside it.
 *
 * Memory is bounded by `limit` entries per session (limits.monitor_targets, ISUPPORT
 * MONITOR=<limit>); a session's entries go when it ends (`clear`, from Server).
 *
 * Every watcher remembers what it was told last about each nick ('online', 'offline', or
 * nothing yet while `MONITOR +`'s lookup runs), so it is told changes only: the answer of a
 * lookup that started before an event about the same nick arrived is dropped (`changes`), and
 * a duplicate event (a sign-on seen through the lookup and then through the log) says nothing.
 */
import { foldCase } from '../protocol/index.js';
import * as N from '../protocol/numerics.js';
import { Outgoing } from './outgoing.js';
import type { Session } from './session.js';

export type Told = 'online' | 'offline' | null;

interface Watched {
  watchers: Map<Session, Told>;
  /** Bumped by every event about this nick. */
  changes: number;
  /**
   * The uid last known to hold the nick, or null. A sign-off names its uid: one for an older
   * holder is stale (events of two nodes reach the log in the order they were published, so a
   * new holder's sign-on on one node can come before the old holder's sign-off from another).
   */
  holder: string | null;
}

export type AddResult = 'added' | 'present' | 'full';

export class MonitorIndex {
  private readonly byNick = new Map<string, Watched>();
  /** Per session: folded nick -> the spelling given. */
  private readonly lists = new Map<Session, Map<string, string>>();

  constructor(readonly limit: number) {}

  /** Adds `nick` (a valid nick) to the session's list, unless the list is full. */
  add(session: Session, nick: string): AddResult {
    const key = foldCase(nick);
    let list = this.lists.get(session);
    if (list?.has(key)) return 'present';
    if ((list?.size ?? 0) >= this.limit) return 'full';
    if (!list) this.lists.set(session, (list = new Map()));
    list.set(key, nick);
    let watched = this.byNick.get(key);
    if (!watched) this.byNick.set(key, (watched = { watchers: new Map(), changes: 0, holder: null }));
    watched.watchers.set(session, null);
    return 'added';
  }

  remove(session: Session, nick: string): void {
    const key = foldCase(nick);
    const list = this.lists.get(session);
    if (!list?.delete(key)) return;
    if (list.size === 0) this.lists.delete(session);
    this.unwatch(session, key);
  }

  /** MONITOR C, and a session that ended. */
  clear(session: Session): void {
    const list = this.lists.get(session);
    if (!list) return;
    this.lists.delete(session);
    for (const key of list.keys()) this.unwatch(session, key);
  }

  /** The session's list as given, in the order added. */
  list(session: Session): string[] {
    return [...(this.lists.get(session)?.values() ?? [])];
  }

  /** How many changes `nick` has seen: a lookup's answer counts only if this did not move meanwhile. */
  changesOf(nick: string): number {
    return this.byNick.get(foldCase(nick))?.changes ?? 0;
  }

  /** Whether `session` watches `nick` now (it may have removed it while a lookup ran). */
  watches(session: Session, nick: string): boolean {
    return this.byNick.get(foldCase(nick))?.watchers.has(session) ?? false;
  }

  /**
   * Records what `session` was told about `nick` from a lookup (`holder`: the uid found, or
   * null); false if it was told that already.
   */
  tell(session: Session, nick: string, holder: string | null): boolean {
    const watched = this.byNick.get(foldCase(nick));
    if (!watched?.watchers.has(session)) return false;
    watched.holder = holder;
    const told: Told = holder === null ? 'offline' : 'online';
    if (watched.watchers.get(session) === told) return false;
    watched.watchers.set(session, told);
    return true;
  }

  /** Folded nicks watched by anyone here (a gap's reconciliation asks about each). */
  nicks(): string[] {
    return [...this.byNick.keys()];
  }

  /** Entries in all (tests: the index is cleaned). */
  get size(): number {
    let size = 0;
    for (const watched of this.byNick.values()) size += watched.watchers.size;
    return size;
  }

  /**
   * `nick` came online (held by `uid`; `source` is its `nick!user@host`) or went offline (given
   * up by `uid`; null: no one holds it, as a lookup found): every watcher not told so already
   * gets 730 or 731. One lookup; nothing if no one here watches it, or if the sign-off is of a
   * user that no longer held the nick.
   */
  changed(serverName: string, nick: string, online: boolean, source: string, uid: string | null): void {
    const watched = this.byNick.get(foldCase(nick));
    if (!watched) return;
    if (!online && uid !== null && watched.holder !== null && watched.holder !== uid) return;
    watched.changes++;
    watched.holder = online ? uid : null;
    const told: Told = online ? 'online' : 'offline';
    for (const [watcher, before] of watched.watchers) {
      if (before === told) continue;
      watched.watchers.set(watcher, told);
      deliverNumeric(serverName, watcher, online ? N.RPL_MONONLINE : N.RPL_MONOFFLINE, online ? source : nick);
    }
  }

  /** The local sessions watching `nick` (extended-monitor's notifications), or none. */
  watchersOf(nick: string): Iterable<Session> {
    return this.byNick.get(foldCase(nick))?.watchers.keys() ?? [];
  }

  private unwatch(session: Session, key: string): void {
    const watched = this.byNick.get(key);
    if (!watched) return;
    watched.watchers.delete(session);
    if (watched.watchers.size === 0) this.byNick.delete(key);
  }
}

/** A MONITOR notification another user caused: counted against SendQ like any delivery. */
function deliverNumeric(serverName: string, watcher: Session, code: string, target: string): void {
  watcher.deliver(new Outgoing({ source: serverName, command: code, params: [watcher.nick, target] }));
}
