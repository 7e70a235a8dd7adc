/**
 * This node's copies of rooms (core/room.ts), kept in step with the network.
 *
 * The shared state (cluster/state.ts) decides every change of a room; each change is sequenced
 * into the room's log in the same atomic step (`announce`), and a copy changes only when the
 * log delivers it (room-events.ts), own changes included. So every node's copy of a room goes
 * through the same states in the same order, and a command's reply (the JOIN echo, the MODE line)
 * comes from the delivery, in its place among the messages.
 *
 * A node keeps a copy while it has local members, and follows the room's log meanwhile:
 * - the first local member's join starts it: from the snapshot its JOIN checked against
 *   (state, members and the log's sequence read together); or, for a room the join created,
 *   empty, from the join's own sequence minus one;
 * - a copy from a snapshot follows the log from SNAPSHOT_LOOKBACK entries before the snapshot's
 *   sequence: another node's message sequenced there may not be stored yet, and a joiner told
 *   "joined" before it is would find it neither live (the copy began after it) nor in history
 *   (CHATHISTORY AFTER on a reconnect). Those entries are not delivered; their messages hold
 *   the log, the join included, until their `stored` notices come (room-log.ts);
 * - when the last local member has left (and no local join is under way) the copy is dropped
 *   and the log no longer followed.
 * Commands wait for their own change to be applied (`applied`), so a client's later commands
 * see it, and labeled-response captures the reply.
 */
import { foldCase } from '../protocol/index.js';
import type { RoomSnapshot } from '../cluster/state.js';
import { fieldsOf, resetFields, roomFromSnapshot } from './room-fields.js';
import { line } from './room-events.js';
import { Room } from './room.js';
import type { Server } from './server.js';
import type { Session } from './session.js';

/**
 * Entries before a snapshot that a new copy reads again to wait for their messages' commits.
 * A message still unstored this far back (its node's commit slower than this many entries of
 * the room) is the one a joiner could still miss.
 */
export const SNAPSHOT_LOOKBACK = 256;

interface Waiter {
  seq: number;
  resolve: () => void;
}

export class RoomCopies {
  /** Local joins under way, by folded name: the copy stays while any is. */
  private readonly joining = new Map<string, number>();
  /** Copies being started (follow under way), by folded name. */
  private readonly starting = new Map<string, Promise<void>>();
  /** Logs being unfollowed, by folded name: a new copy waits for it. */
  private readonly stopping = new Map<string, Promise<void>>();
  private readonly waiters = new Map<string, Waiter[]>();

  constructor(private readonly server: Server) {}

  /** A local JOIN began; `end` must follow (the copy is kept until then). */
  beginJoin(key: string): void {
    this.joining.set(key, (this.joining.get(key) ?? 0) + 1);
  }

  endJoin(key: string): void {
    const left = (this.joining.get(key) ?? 1) - 1;
    if (left > 0) this.joining.set(key, left);
    else this.joining.delete(key);
    this.dropIfUnused(key);
  }

  /**
   * A local user's join succeeded in the shared state at `seq`: make sure this node has a copy
   * and follows the log, then wait until the join is applied. `snapshot` is what the join was
   * checked against (null: the join created the room, from `created`). Resolves with the copy,
   * and whether the join was delivered (false: another local join's snapshot already held it,
   * so the joiner was not welcomed by the delivery).
   */
  async joined(name: string, seq: number, snapshot: RoomSnapshot | null, created: Room | null): Promise<{ room: Room | undefined; delivered: boolean }> {
    const key = foldCase(name);
    const start = this.starting.get(key);
    if (start) await start;
    if (!this.server.rooms.has(key)) {
      const starting = this.start(key, seq, snapshot, created);
      this.starting.set(key, starting);
      try {
        await starting;
      } finally {
        this.starting.delete(key);
      }
    }
    await this.applied(key, seq);
    const room = this.server.rooms.get(key);
    return { room, delivered: !room || room.base < seq };
  }

  private async start(key: string, seq: number, snapshot: RoomSnapshot | null, created: Room | null): Promise<void> {
    const stopping = this.stopping.get(key);
    if (stopping) await stopping;
    const copiedAt = await this.storedUpTo(key);
    let base = snapshot;
    // Read without the members' details (this node had a copy then, gone since): read again,
    // with them; that snapshot may already hold this join (then `joined` welcomes the joiner).
    // A room renamed meanwhile reads as none: the first snapshot, its members' details read one
    // by one (its log holds the rename, which moves the copy).
    if (base && base.users.size < base.members.size) base = (await this.server.cluster.state.room(key)) ?? (await this.withDetails(base));
    let copy: Room;
    if (base) {
      copy = roomFromSnapshot(base, (uid) => this.server.users.localByUid(uid), addLocal);
      copy.base = copy.applied;
      copy.stateSeq = copy.base;
      copy.applied = Math.max(0, copy.base - SNAPSHOT_LOOKBACK);
    } else {
      // Created by this join: the room as created, and its log from just before the join.
      copy = created ?? new Room(snapshot?.name ?? key);
      copy.applied = seq - 1;
    }
    copy.copiedAt = copiedAt;
    this.server.rooms.set(key, copy);
    await this.server.cluster.bus.follow(key, copy.applied);
  }

  private async withDetails(snapshot: RoomSnapshot): Promise<RoomSnapshot> {
    const users = new Map(snapshot.users);
    const missing = [...snapshot.members.keys()].filter((uid) => !users.has(uid) && !this.server.users.localByUid(uid));
    const records = await Promise.all(missing.map((uid) => this.server.cluster.state.user(uid)));
    for (const record of records) if (record) users.set(record.uid, record);
    return { ...snapshot, users };
  }

  /**
   * Room.copiedAt for a copy starting now: the clock, or just past the newest stored message
   * if that is later (a burst's times run ahead of the clock; a log that began again, after a
   * restart, starts from the clock). A store that does not answer leaves the clock.
   */
  private async storedUpTo(key: string): Promise<number> {
    const newest = await this.server.history.store.latest(key, 1, undefined, { events: true }).catch(() => []);
    return Math.max(this.server.clock(), ...newest.map((message) => message.time + 1));
  }

  /**
   * RENAME to another key at its turn (room-rename.ts): a copy under the new name with the
   * room's fields and every member, following the new name's log from `after` (nothing of the
   * room is in it before). The old copy is left without members, to be dropped by the caller's
   * log turn like any emptied copy. Resolves to the copy and the members moved into it.
   *
   * This node may hold a copy under the new key already, because the two logs are delivered
   * independently:
   * - a local JOIN of the new name (the old name's redirect, say) started it from a snapshot
   *   taken after the rename: it is the renamed room, newer than the old copy, and is kept;
   * - an earlier room of the new name whose last members' leaving this node has not applied
   *   yet (the shared state let the rename take the name because that room was gone): its
   *   remaining entries are the earlier room's, before `after`, and are skipped; its local
   *   members have left it, so they are shown their PART here.
   */
  move(room: Room, name: string, after: number): { copy: Room; moved: Session[] } {
    const key = foldCase(name);
    const existing = this.server.rooms.get(key);
    if (existing && existing.stateSeq >= after) return { copy: existing, moved: this.moveInto(existing, room) };
    if (existing) this.closeEarlier(existing);
    const copy = new Room(name);
    resetFields(copy, fieldsOf(room));
    copy.version = room.version;
    const moved = [...room.members.keys()];
    for (const [session, flags] of [...room.members]) {
      removeLocal(room, session);
      addLocal(copy, session, flags);
    }
    for (const [uid, member] of room.remote) copy.remote.set(uid, member);
    room.remote.clear();
    copy.applied = copy.base = copy.stateSeq = after;
    copy.lastMessageTime = room.lastMessageTime;
    copy.appliedTime = room.appliedTime;
    copy.copiedAt = Math.max(this.server.clock(), room.lastMessageTime + 1);
    this.server.rooms.set(key, copy);
    // A copy of an earlier room of the new name may still be unfollowing its log.
    const starting = (this.stopping.get(key) ?? Promise.resolve())
      .then(() => this.server.cluster.bus.follow(key, after))
      .then(
        () => {},
        (err: unknown) => this.server.logger.warn('cluster: following a renamed room failed', { room: key, err }),
      );
    this.starting.set(key, starting);
    void starting.finally(() => {
      if (this.starting.get(key) === starting) this.starting.delete(key);
      this.dropIfUnused(key);
    });
    return { copy, moved };
  }

  /** The old copy's members leave it; those the newer copy's snapshot holds are its members already. */
  private moveInto(copy: Room, old: Room): Session[] {
    const moved: Session[] = [];
    for (const session of [...old.members.keys()]) {
      removeLocal(old, session);
      if (copy.members.has(session)) moved.push(session);
    }
    old.remote.clear();
    return moved;
  }

  /** An earlier room's copy overtaken by a rename into its name: its members are told they left. */
  private closeEarlier(earlier: Room): void {
    this.server.logger.warn('cluster: a rename took the name of a room this node had not seen emptied', { room: earlier.key });
    const time = this.server.clock();
    for (const session of [...earlier.members.keys()]) {
      removeLocal(earlier, session);
      session.deliver(line(session.prefix, 'PART', [earlier.name], time, session.account));
    }
    this.server.roomLogs.delete(earlier);
    this.releaseWaiters(earlier);
  }
  /** Resolves once the log's entry `seq` is applied to the copy (or the copy is gone). */
  applied(key: string, seq: number): Promise<void> {
    const room = this.server.rooms.get(key);
    if (!room || room.applied >= seq) return Promise.resolve();
    return new Promise((resolve) => {
      let list = this.waiters.get(key);
      if (!list) this.waiters.set(key, (list = []));
      list.push({ seq, resolve });
    });
  }

  /** The copy of `key` has applied everything up to its `applied`: wake who waited for it. */
  advanced(room: Room): void {
    const list = this.waiters.get(room.key);
    if (!list) return;
    const still = list.filter((w) => w.seq > room.applied);
    for (const w of list) if (w.seq <= room.applied) w.resolve();
    if (still.length) this.waiters.set(room.key, still);
    else this.waiters.delete(room.key);
  }

  /** Wakes everyone waiting on the copy's log (it restarted: their sequences will not come). */
  releaseWaiters(room: Room): void {
    for (const w of this.waiters.get(room.key) ?? []) w.resolve();
    this.waiters.delete(room.key);
  }

  /** A change may have left the copy without local members: drop it unless a join is under way. */
  dropIfUnused(key: string): void {
    const room = this.server.rooms.get(key);
    if (!room || room.members.size > 0 || this.joining.has(key) || this.starting.has(key)) return;
    this.server.rooms.delete(key);
    this.server.roomLogs.delete(room);
    for (const w of this.waiters.get(key) ?? []) w.resolve();
    this.waiters.delete(key);
    const stopping = this.server.cluster.bus.unfollow(key).then(
      () => {},
      (err: unknown) => this.server.logger.warn('cluster: unfollowing a room failed', { room: key, err }),
    );
    this.stopping.set(key, stopping);
    void stopping.finally(() => {
      if (this.stopping.get(key) === stopping) this.stopping.delete(key);
    });
  }
}

/** A local member in a copy: both sides of the membership. */
export function addLocal(room: Room, session: Session, flags: number): void {
  room.members.set(session, flags);
  session.addRoom(room);
}

/** Removes a local member from its copy (both sides). */
export function removeLocal(room: Room, session: Session): void {
  room.members.delete(session);
  session.removeRoom(room);
}
