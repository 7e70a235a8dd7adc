/**
 * SharedState in one process, over a MemoryNetwork. Each method runs in one synchronous block
 * (atomic like its Lua script in redis/lua/) and resolves afterwards.
 */
import { foldCase } from '../../protocol/index.js';
import type { ClusterEvent, Stamp } from '../events.js';
import type { IdSource } from '../ids.js';
import { checkFields, checkUid, segment } from '../keys.js';
import type {
  Actor, ChangeResult, JoinOptions, JoinResult, LeaveOptions, LeaveResult, ListedRoom, Membership,
  NetworkCounts, NickResult, RenameOptions, RenameResult, RoomChange, RoomSnapshot, MemberDetails, SharedState, UserFields, UserRecord,
} from '../state.js';
import { changeFlags, createdTime } from '../state.js';
import type { MemoryNetwork, MemoryRoom } from './network.js';

/** What state and bus need of their node: its id, its counters, its fence. */
export interface MemoryNodeHandle {
  readonly id: string;
  readonly ids: IdSource;
  readonly maxLen: number;
  /** Throws FencedError unless the lease is held. */
  check(): void;
}

/** A folded name, checked as keys.ts `segment` checks it (same refusals as Redis). */
export function fold(name: string, what: string): string {
  const folded = foldCase(name);
  segment(folded, what);
  return folded;
}

export class MemoryState implements SharedState {
  constructor(private readonly net: MemoryNetwork, private readonly node: MemoryNodeHandle) {}

  private async atomic<T>(work: () => T): Promise<T> {
    this.node.check();
    return work();
  }

  /** The user's rooms get `event`, each in its own log (lib.lua announce_rooms). */
  private announceRooms(uid: string, event: ClusterEvent | undefined): Stamp[] {
    if (!event) return [];
    const suffix = this.node.ids.suffix();
    return [...(this.net.userRooms.get(uid) ?? [])].map((room, i) =>
      this.net.sequence(`r:${room}`, event, `${suffix}-${i}`, this.node.maxLen));
  }

  private owned(uid: string): UserRecord | 'no-such-user' | 'not-owner' {
    const user = this.net.users.get(uid);
    if (!user) return 'no-such-user';
    return user.node === this.node.id ? user : 'not-owner';
  }

  async addUser(user: UserRecord): Promise<NickResult> {
    const key = fold(user.nick, 'nick');
    checkUid(user.uid);
    return this.atomic(() => {
      const holder = this.net.nicks.get(key);
      if (holder !== undefined) return { ok: false, reason: 'in-use', holder };
      if (this.net.users.has(user.uid)) return { ok: false, reason: 'in-use', holder: user.uid };
      this.net.nicks.set(key, user.uid);
      this.net.users.set(user.uid, { ...user, node: this.node.id });
      indexModes(this.net, user.uid, user.modes);
      let mine = this.net.nodeUsers.get(this.node.id);
      if (!mine) this.net.nodeUsers.set(this.node.id, (mine = new Set()));
      mine.add(user.uid);
      return { ok: true, stamps: [] };
    });
  }

  async renameUser(uid: string, nick: string, announce?: ClusterEvent): Promise<NickResult> {
    const key = fold(nick, 'nick');
    checkUid(uid);
    return this.atomic((): NickResult => {
      const user = this.owned(uid);
      if (typeof user === 'string') return { ok: false, reason: user };
      const old = foldCase(user.nick);
      if (key !== old) {
        const holder = this.net.nicks.get(key);
        if (holder !== undefined) return { ok: false, reason: 'in-use', holder };
        this.net.nicks.delete(old);
        this.net.nicks.set(key, uid);
      }
      user.nick = nick;
      return { ok: true, stamps: this.announceRooms(uid, announce) };
    });
  }

  async updateUser(uid: string, fields: Omit<UserFields, 'nick'>, announce?: ClusterEvent): Promise<NickResult> {
    checkUid(uid);
    return this.atomic((): NickResult => {
      const user = this.owned(uid);
      if (typeof user === 'string') return { ok: false, reason: user };
      for (const name of ['user', 'host', 'realname', 'account', 'away'] as const) {
        if (name in fields) (user as unknown as Record<string, unknown>)[name] = fields[name] ?? null;
      }
      if ('modes' in fields) {
        user.modes = fields.modes ?? '';
        indexModes(this.net, uid, user.modes);
      }
      return { ok: true, stamps: this.announceRooms(uid, announce) };
    });
  }

  async removeUser(uid: string, announce?: ClusterEvent): Promise<{ rooms: string[]; stamps: Stamp[] } | null> {
    checkUid(uid);
    return this.atomic(() => {
      const user = this.owned(uid);
      if (typeof user === 'string') return null;
      const stamps = this.announceRooms(uid, announce);
      const rooms = dropUser(this.net, user);
      return { rooms, stamps };
    });
  }

  async user(uid: string): Promise<UserRecord | null> {
    checkUid(uid);
    const user = this.net.users.get(uid);
    return user ? { ...user } : null;
  }

  async userByNick(nick: string): Promise<UserRecord | null> {
    const uid = this.net.nicks.get(fold(nick, 'nick'));
    return uid === undefined ? null : this.user(uid);
  }

  async listUsers(after: string | null, limit: number): Promise<{ users: UserRecord[]; next: string | null }> {
    const uids = [...this.net.users.keys()].filter((uid) => after === null || uid > after).sort();
    const users = uids.slice(0, Math.max(0, limit)).map((uid) => ({ ...this.net.users.get(uid)! }));
    return { users, next: uids.length > users.length && users.length > 0 ? users[users.length - 1]!.uid : null };
  }

  async countUsers(): Promise<number> {
    return this.net.users.size;
  }

  async modesOf(uids: readonly string[]): Promise<Map<string, string>> {
    for (const uid of uids) checkUid(uid);
    const modes = new Map<string, string>();
    for (const uid of uids) {
      const user = this.net.users.get(uid);
      if (user) modes.set(uid, user.modes);
    }
    return modes;
  }

  async counts(): Promise<NetworkCounts> {
    return { users: this.net.users.size, invisible: this.net.invisible.size, opers: this.net.opers.size, rooms: this.net.rooms.size };
  }

  async memberships(uid: string): Promise<Membership[]> {
    checkUid(uid);
    const rooms = [...(this.net.userRooms.get(uid) ?? [])].flatMap((key) => {
      const room = this.net.rooms.get(key);
      return room ? [{ name: room.name, flags: room.members.get(uid) ?? 0, modes: room.fields.get('modes') ?? '' }] : [];
    });
    return rooms.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  }

  async roomsOf(uid: string): Promise<string[]> {
    checkUid(uid);
    return [...(this.net.userRooms.get(uid) ?? [])].map((key) => this.net.rooms.get(key)?.name ?? key).sort();
  }

  async room(name: string, options: { details?: boolean } = {}): Promise<RoomSnapshot | null> {
    const room = this.net.rooms.get(fold(name, 'room'));
    return room ? snapshot(this.net, fold(name, 'room'), room, options.details !== false) : null;
  }

  async join(name: string, uid: string, options: JoinOptions): Promise<JoinResult> {
    const key = fold(name, 'room');
    checkUid(uid);
    if (options.create) checkFields(Object.keys(options.create.fields));
    if (options.del) checkFields(options.del);
    return this.atomic((): JoinResult => {
      let room = this.net.rooms.get(key);
      if (options.expectVersion !== undefined && (room?.version ?? null) !== options.expectVersion) {
        return { ok: false, reason: 'stale', room: room ? snapshot(this.net, key, room) : null };
      }
      let created = false;
      let flags = options.flags;
      if (!room) {
        const moved = this.net.redirect(key);
        if (moved) return { ok: false, reason: 'renamed', name: moved.name };
        if (!options.create) return { ok: false, reason: 'absent' };
        room = { name, version: 1, fields: new Map(Object.entries(options.create.fields).map(([k, v]) => [k, String(v)])), members: new Map() };
        room.fields.set('name', name);
        this.net.rooms.set(key, room);
        this.net.roomOrder = null;
        created = true;
        flags = options.create.flags;
      } else {
        if (room.members.has(uid)) return { ok: false, reason: 'already-member' };
        const limit = Number(room.fields.get('limit'));
        if (!options.ignoreLimit && room.fields.has('limit') && room.members.size >= limit) {
          return { ok: false, reason: 'full', count: room.members.size };
        }
      }
      room.members.set(uid, flags);
      let rooms = this.net.userRooms.get(uid);
      if (!rooms) this.net.userRooms.set(uid, (rooms = new Set()));
      rooms.add(key);
      let deleted = false;
      for (const field of options.del ?? []) if (field !== 'name' && room.fields.delete(field)) deleted = true;
      if (deleted) room.version++;
      const result: JoinResult = { ok: true, created, version: room.version, count: room.members.size, flags };
      if (options.announce) result.stamp = this.net.sequence(`r:${key}`, options.announce, this.node.ids.suffix(), this.node.maxLen, deleted ? room.version : undefined);
      return result;
    });
  }

  async leave(name: string, uid: string, options: LeaveOptions = {}): Promise<LeaveResult> {
    const key = fold(name, 'room');
    checkUid(uid);
    if (options.by) checkUid(options.by.uid);
    return this.atomic((): LeaveResult => {
      const room = this.net.rooms.get(key);
      if (!room || !room.members.has(uid)) return { ok: false, reason: 'not-member' };
      if (options.by && !allowed(room, options.by)) return { ok: false, reason: 'not-allowed' };
      const result: LeaveResult = { ok: true, remaining: room.members.size - 1 };
      if (options.announce) result.stamp = this.net.sequence(`r:${key}`, options.announce, this.node.ids.suffix(), this.node.maxLen);
      removeMember(this.net, key, uid);
      return result;
    });
  }

  async changeRoom(name: string, change: RoomChange): Promise<ChangeResult> {
    const key = fold(name, 'room');
    checkFields([...Object.keys(change.set ?? {}), ...(change.del ?? [])]);
    if (change.by) checkUid(change.by.uid);
    for (const uid in change.members ?? {}) checkUid(uid);
    return this.atomic((): ChangeResult => {
      const room = this.net.rooms.get(key);
      if (!room) return { ok: false, reason: 'absent' };
      if (change.expectVersion !== undefined && room.version !== change.expectVersion) {
        return { ok: false, reason: 'stale', room: snapshot(this.net, key, room) };
      }
      if (change.by && !allowed(room, change.by)) return { ok: false, reason: 'not-allowed' };
      for (const field of change.del ?? []) if (field !== 'name') room.fields.delete(field);
      for (const [field, value] of Object.entries(change.set ?? {})) if (field !== 'name') room.fields.set(field, String(value));
      for (const [uid, bits] of Object.entries(change.members ?? {})) {
        const flags = room.members.get(uid);
        if (flags !== undefined) room.members.set(uid, changeFlags(flags, bits));
      }
      room.version += 1;
      const result: ChangeResult = { ok: true, version: room.version };
      if (change.announce) {
        result.stamp = this.net.sequence(`r:${key}`, change.announce, this.node.ids.suffix(), this.node.maxLen, room.version);
      }
      return result;
    });
  }

  async renameRoom(name: string, newName: string, options: RenameOptions): Promise<RenameResult> {
    const key = fold(name, 'room');
    const newKey = fold(newName, 'room');
    checkUid(options.by.uid);
    checkFields(Object.keys(options.set ?? {}));
    return this.atomic((): RenameResult => {
      const room = this.net.rooms.get(key);
      if (!room) return { ok: false, reason: 'absent' };
      if (!allowed(room, options.by)) return { ok: false, reason: 'not-allowed' };
      const moved = newKey !== key;
      // A redirect to this very room is no obstacle: renaming back to the name it had.
      const redirect = moved ? this.net.redirect(newKey) : undefined;
      if (moved && (this.net.rooms.has(newKey) || (redirect !== undefined && redirect.key !== key))) return { ok: false, reason: 'in-use' };
      for (const [field, value] of Object.entries(options.set ?? {})) if (field !== 'name') room.fields.set(field, String(value));
      room.name = newName;
      room.fields.set('name', newName);
      room.version += 1;
      // Nothing of the renamed room is in the new name's log before this position.
      const after = moved ? this.net.read(`r:${newKey}`, Number.MAX_SAFE_INTEGER, 0).last : 0;
      const event = moved ? { ...options.announce, after } : options.announce;
      const stamp = this.net.sequence(`r:${key}`, event, this.node.ids.suffix(), this.node.maxLen, room.version);
      if (moved) {
        this.net.rooms.delete(key);
        this.net.rooms.set(newKey, room);
        this.net.roomOrder = null;
        for (const uid of room.members.keys()) {
          const rooms = this.net.userRooms.get(uid);
          rooms?.delete(key);
          rooms?.add(newKey);
        }
        this.net.redirects.delete(newKey);
        if (options.redirectSeconds > 0) this.net.setRedirect(key, { name: newName, key: newKey }, options.redirectSeconds);
      }
      return { ok: true, version: room.version, stamp, after };
    });
  }

  async listRooms(after: string | null, limit: number): Promise<{ rooms: ListedRoom[]; next: string | null }> {
    const order = (this.net.roomOrder ??= [...this.net.rooms.keys()].map((key) => segment(key)).sort());
    const start = after === null ? 0 : firstAfter(order, after);
    const page = order.slice(start, start + Math.max(0, Math.floor(limit)));
    const rooms = page.map((seg) => {
      const room = this.net.rooms.get(decodeURIComponent(seg))!;
      return { name: room.name, count: room.members.size, modes: room.fields.get('modes') ?? '', topic: room.fields.get('topic') ?? null, created: createdTime(room.fields.get('created')) };
    });
    return { rooms, next: start + page.length < order.length && page.length > 0 ? page[page.length - 1]! : null };
  }

  async addConnection(address: string, limit?: number): Promise<{ ok: boolean; count: number }> {
    segment(address, 'address');
    return this.atomic(() => {
      const counts = this.net.addresses.get(address) ?? new Map<string, number>();
      const count = total(counts);
      if (limit !== undefined && count >= limit) return { ok: false, count };
      counts.set(this.node.id, (counts.get(this.node.id) ?? 0) + 1);
      this.net.addresses.set(address, counts);
      let mine = this.net.nodeAddresses.get(this.node.id);
      if (!mine) this.net.nodeAddresses.set(this.node.id, (mine = new Set()));
      mine.add(address);
      return { ok: true, count: count + 1 };
    });
  }

  async removeConnection(address: string): Promise<number> {
    segment(address, 'address');
    return this.atomic(() => {
      const counts = this.net.addresses.get(address);
      if (!counts) return 0;
      const mine = (counts.get(this.node.id) ?? 0) - 1;
      if (mine > 0) counts.set(this.node.id, mine);
      else {
        counts.delete(this.node.id);
        this.net.nodeAddresses.get(this.node.id)?.delete(address);
      }
      if (counts.size === 0) this.net.addresses.delete(address);
      return total(counts);
    });
  }

  async connections(address: string): Promise<number> {
    segment(address, 'address');
    return total(this.net.addresses.get(address) ?? new Map());
  }
}

/** Index of the first entry of a sorted list strictly after `after` (binary search). */
function firstAfter(sorted: readonly string[], after: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function total(counts: Map<string, number>): number {
  let sum = 0;
  for (const n of counts.values()) sum += n;
  return sum;
}

function allowed(room: MemoryRoom, by: Actor): boolean {
  return ((room.members.get(by.uid) ?? 0) & by.anyOf) !== 0;
}

function snapshot(net: MemoryNetwork, key: string, room: MemoryRoom, details = true): RoomSnapshot {
  const users = new Map<string, MemberDetails>();
  for (const uid of details ? room.members.keys() : []) {
    const u = net.users.get(uid);
    users.set(uid, { nick: u?.nick ?? '', user: u?.user ?? '', host: u?.host ?? '', realname: u?.realname ?? '', account: u?.account ?? null, away: u?.away ?? null });
  }
  const seq = net.read(`r:${key}`, Number.MAX_SAFE_INTEGER, 0).last;
  return { name: room.name, version: room.version, fields: Object.fromEntries(room.fields), members: new Map(room.members), users, seq };
}

/** Keeps the network's invisible and operator sets in step with a user's modes. */
function indexModes(net: MemoryNetwork, uid: string, modes: string): void {
  if (modes.includes('i')) net.invisible.add(uid);
  else net.invisible.delete(uid);
  if (modes.includes('o')) net.opers.add(uid);
  else net.opers.delete(uid);
}

/** Drops one membership; an emptied room is removed (its log stays). */
export function removeMember(net: MemoryNetwork, key: string, uid: string): void {
  const room = net.rooms.get(key);
  room?.members.delete(uid);
  if (room && room.members.size === 0) {
    net.rooms.delete(key);
    net.roomOrder = null;
  }
  net.userRooms.get(uid)?.delete(key);
}

/** Forgets a user: nick, memberships, record. Resolves with the names of its rooms. */
export function dropUser(net: MemoryNetwork, user: UserRecord): string[] {
  const keys = [...(net.userRooms.get(user.uid) ?? [])];
  const names = keys.map((key) => net.rooms.get(key)?.name ?? key);
  for (const key of keys) removeMember(net, key, user.uid);
  net.userRooms.delete(user.uid);
  const nick = foldCase(user.nick);
  if (net.nicks.get(nick) === user.uid) net.nicks.delete(nick);
  net.users.delete(user.uid);
  net.invisible.delete(user.uid);
  net.opers.delete(user.uid);
  net.nodeUsers.get(user.node)?.delete(user.uid);
  return names.sort();
}
