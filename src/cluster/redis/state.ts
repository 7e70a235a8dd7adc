/**
 * SharedState in Redis: each changing method is one fenced Lua script (lua/user-*.lua,
 * room-*.lua, conn-*.lua); reads are single commands or read-only scripts.
 *
 * Keys (P = the prefix; <seg> = keys.ts segment of a folded name):
 *   P u:<uid>            hash: nick, nk (nick segment), node, user, host, realname, account, away, since,
 *                        modes (user mode letters), secure ('1' over TLS)
 *   P users:i, users:o   sets of uids with mode i / o (LUSERS counts them), kept by the user scripts
 *   P u:rooms:<uid>      set of room segments
 *   P nick:<seg>         string: uid (the claim)
 *   P users              zset of uids, score 0 (listing in uid order)
 *   P n:users:<node>     set of the node's uids (what a reaper removes)
 *   P r:state:<seg>      hash: _v (version), name, and the core's fields
 *   P r:members:<seg>    hash: uid -> flags
 *   P rooms              zset of room segments, score 0
 *   P r:renamed:<seg>    hash: name, seg (the new name of a room renamed from <seg>; expires)
 *   P addr:<seg>         hash: node -> connections;  P n:addrs:<node>: set of address segments
 */
import { foldCase } from '../../protocol/index.js';
import type { ClusterEvent, Stamp } from '../events.js';
import { checkFields, checkUid, segment, unsegment } from '../keys.js';
import type {
  Actor, ChangeResult, JoinOptions, JoinResult, LeaveOptions, LeaveResult, ListedRoom, Membership,
  NetworkCounts, NickResult, RenameOptions, RenameResult, RoomChange, RoomSnapshot, MemberDetails, SharedState, UserFields, UserRecord,
} from '../state.js';
import type { RedisConnection } from './connection.js';
import { createdTime } from '../state.js';
import type { RedisNodeLease } from './nodes.js';
import type { ScriptName, Scripts } from './scripts.js';
import { pairs, roomStamps, toStamp } from './stamps.js';

const USER_FIELDS = ['user', 'host', 'realname', 'account', 'away', 'modes'] as const;

export class RedisState implements SharedState {
  private readonly P: string;

  constructor(private readonly conn: RedisConnection, private readonly scripts: Scripts, private readonly node: RedisNodeLease) {
    this.P = node.fenceArgs[0];
  }

  private get redis() {
    return this.conn.redis;
  }

  /** A fenced script: checks the node's own clock first, then Redis checks the token. */
  private run(name: ScriptName, args: (string | number)[]): Promise<unknown> {
    this.node.check();
    return this.scripts.run(name, [...this.node.fenceArgs, ...args], this.node.id);
  }

  /** The sequencer's arguments: payload ('' for none), msgid suffix, epoch candidate, maxlen. */
  private seq(event: ClusterEvent | undefined): (string | number)[] {
    if (!event) return ['', '', '', 0];
    const suffix = this.node.ids.suffix();
    return [JSON.stringify(event), suffix, suffix, this.node.maxLen];
  }

  private nickResult(reply: unknown[]): NickResult {
    const [status, ...rest] = reply as [string, ...unknown[]];
    if (status === 'ok') return { ok: true, stamps: roomStamps(rest) };
    if (status === 'in-use') return { ok: false, reason: 'in-use', holder: String(rest[0]) };
    return { ok: false, reason: status as 'no-such-user' | 'not-owner' };
  }

  async addUser(user: UserRecord): Promise<NickResult> {
    const nk = segment(foldCase(user.nick), 'nick');
    checkUid(user.uid);
    const record: Record<string, string | number | null> = { nick: user.nick, since: user.since };
    for (const field of USER_FIELDS) record[field] = user[field];
    record.secure = user.secure ? '1' : null;
    const [ok, holder] = (await this.run('user-add', [user.uid, nk, JSON.stringify(record)])) as [number, string?];
    return ok === 1 ? { ok: true, stamps: [] } : { ok: false, reason: 'in-use', holder: holder! };
  }

  async renameUser(uid: string, nick: string, announce?: ClusterEvent): Promise<NickResult> {
    const nk = segment(foldCase(nick), 'nick');
    return this.nickResult((await this.run('user-rename', [checkUid(uid), nk, nick, ...this.seq(announce)])) as unknown[]);
  }

  async updateUser(uid: string, fields: Omit<UserFields, 'nick'>, announce?: ClusterEvent): Promise<NickResult> {
    const changes: Record<string, string | null> = {};
    for (const field of USER_FIELDS) if (field in fields) changes[field] = fields[field] ?? null;
    return this.nickResult((await this.run('user-update', [checkUid(uid), JSON.stringify(changes), ...this.seq(announce)])) as unknown[]);
  }

  async removeUser(uid: string, announce?: ClusterEvent): Promise<{ rooms: string[]; stamps: Stamp[] } | null> {
    const reply = (await this.run('user-remove', [checkUid(uid), ...this.seq(announce)])) as unknown[];
    if (reply[0] !== 'ok') return null;
    return { rooms: (reply[1] as string[]).slice().sort(), stamps: roomStamps(reply.slice(2)) };
  }

  async user(uid: string): Promise<UserRecord | null> {
    // ioredis answers HGETALL with an object (scripts answer with flat lists).
    return toUser(uid, await this.redis.hgetall(this.P + 'u:' + checkUid(uid)));
  }

  async userByNick(nick: string): Promise<UserRecord | null> {
    const flat = (await this.scripts.run('user-by-nick', [this.P, segment(foldCase(nick), 'nick')])) as unknown[];
    const fields = pairs(flat);
    return fields.uid ? toUser(fields.uid, fields) : null;
  }

  async listUsers(after: string | null, limit: number): Promise<{ users: UserRecord[]; next: string | null }> {
    const count = Math.max(0, Math.floor(limit));
    const start = after === null ? '-' : `(${checkUid(after)}`;
    const uids = count === 0 ? [] : await this.redis.zrangebylex(this.P + 'users', start, '+', 'LIMIT', 0, count + 1);
    const page = uids.slice(0, count);
    const pipeline = this.redis.pipeline();
    for (const uid of page) pipeline.hgetall(this.P + 'u:' + uid);
    const replies = page.length ? ((await pipeline.exec()) ?? []) : [];
    const users = page.flatMap((uid, i) => toUser(uid, (replies[i]?.[1] ?? {}) as Record<string, string>) ?? []);
    return { users, next: uids.length > page.length && page.length > 0 ? page[page.length - 1]! : null };
  }

  async countUsers(): Promise<number> {
    return this.redis.zcard(this.P + 'users');
  }

  async modesOf(uids: readonly string[]): Promise<Map<string, string>> {
    for (const uid of uids) checkUid(uid);
    const modes = new Map<string, string>();
    if (uids.length === 0) return modes;
    // node marks a record that exists: a user without modes has no modes field.
    const pipeline = this.redis.pipeline();
    for (const uid of uids) pipeline.hmget(this.P + 'u:' + uid, 'node', 'modes');
    const replies = (await pipeline.exec()) ?? [];
    uids.forEach((uid, i) => {
      const [node, letters] = (replies[i]?.[1] ?? []) as (string | null)[];
      if (node) modes.set(uid, letters ?? '');
    });
    return modes;
  }

  async counts(): Promise<NetworkCounts> {
    const [users, invisible, opers, rooms] = ((await this.scripts.run('counts', [this.P])) as number[]).map(Number) as [number, number, number, number];
    return { users, invisible, opers, rooms };
  }

  async memberships(uid: string): Promise<Membership[]> {
    const flat = (await this.scripts.run('user-rooms', [this.P, checkUid(uid)])) as unknown[];
    const rooms: Membership[] = [];
    for (let i = 0; i + 2 < flat.length; i += 3) rooms.push({ name: String(flat[i]), flags: Number(flat[i + 1]), modes: String(flat[i + 2]) });
    return rooms.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  }

  async roomsOf(uid: string): Promise<string[]> {
    const segs = await this.redis.smembers(this.P + 'u:rooms:' + checkUid(uid));
    const pipeline = this.redis.pipeline();
    for (const seg of segs) pipeline.hget(this.P + 'r:state:' + seg, 'name');
    const names = segs.length ? ((await pipeline.exec()) ?? []) : [];
    return segs.map((seg, i) => (names[i]?.[1] as string | null) ?? unsegment(seg)).sort();
  }

  async room(name: string, options: { details?: boolean } = {}): Promise<RoomSnapshot | null> {
    return toSnapshot((await this.scripts.run('room-get', [this.P, roomSeg(name), options.details === false ? '0' : '1'])) as unknown[][]);
  }

  async join(name: string, uid: string, options: JoinOptions): Promise<JoinResult> {
    const seg = roomSeg(name);
    if (options.create) checkFields(Object.keys(options.create.fields));
    if (options.del) checkFields(options.del);
    const expect = options.expectVersion === undefined ? '' : options.expectVersion === null ? 'none' : String(options.expectVersion);
    const create = options.create ? JSON.stringify({ fields: options.create.fields, flags: options.create.flags }) : '';
    const reply = (await this.run('room-join', [
      seg, checkUid(uid), options.flags, expect, create, options.ignoreLimit ? '1' : '0', name, ...this.seq(options.announce),
      JSON.stringify(options.del ?? []),
    ])) as unknown[];
    switch (reply[0]) {
      case 'ok': {
        const result: JoinResult = { ok: true, created: reply[1] === 1, version: Number(reply[2]), count: Number(reply[3]), flags: Number(reply[4]) };
        if (reply.length > 5) result.stamp = toStamp(reply.slice(5));
        return result;
      }
      case 'stale':
        return { ok: false, reason: 'stale', room: toSnapshot(reply[1] as unknown[][]) };
      case 'full':
        return { ok: false, reason: 'full', count: Number(reply[1]) };
      case 'renamed':
        return { ok: false, reason: 'renamed', name: String(reply[1]) };
      default:
        return { ok: false, reason: reply[0] as 'absent' | 'already-member' };
    }
  }

  async leave(name: string, uid: string, options: LeaveOptions = {}): Promise<LeaveResult> {
    const reply = (await this.run('room-leave', [roomSeg(name), checkUid(uid), ...actor(options.by), ...this.seq(options.announce)])) as unknown[];
    if (reply[0] !== 'ok') return { ok: false, reason: reply[0] as 'not-member' | 'not-allowed' };
    const result: LeaveResult = { ok: true, remaining: Number(reply[1]) };
    if (reply.length > 2) result.stamp = toStamp(reply.slice(2));
    return result;
  }

  async changeRoom(name: string, change: RoomChange): Promise<ChangeResult> {
    const seg = roomSeg(name);
    checkFields([...Object.keys(change.set ?? {}), ...(change.del ?? [])]);
    // [uid, add, remove] triples: a JSON array, since an empty Lua table encodes as {} either way.
    const members = Object.entries(change.members ?? {}).map(([uid, bits]) => [checkUid(uid), bits.add, bits.remove]);
    const reply = (await this.run('room-change', [
      seg, change.expectVersion === undefined ? '' : String(change.expectVersion), ...actor(change.by),
      JSON.stringify(change.set ?? {}), JSON.stringify(change.del ?? []), JSON.stringify(members), ...this.seq(change.announce),
    ])) as unknown[];
    switch (reply[0]) {
      case 'ok': {
        const version = Number(reply[1]);
        const result: ChangeResult = { ok: true, version };
        if (reply.length > 2) result.stamp = toStamp(reply.slice(2), version);
        return result;
      }
      case 'stale':
        return { ok: false, reason: 'stale', room: toSnapshot(reply[1] as unknown[][])! };
      default:
        return { ok: false, reason: reply[0] as 'absent' | 'not-allowed' };
    }
  }

  async renameRoom(name: string, newName: string, options: RenameOptions): Promise<RenameResult> {
    checkFields(Object.keys(options.set ?? {}));
    const reply = (await this.run('room-rename', [
      roomSeg(name), roomSeg(newName), newName, ...actor(options.by), JSON.stringify(options.set ?? {}),
      Math.max(0, Math.floor(options.redirectSeconds)), ...this.seq(options.announce),
    ])) as unknown[];
    if (reply[0] !== 'ok') return { ok: false, reason: reply[0] as 'absent' | 'not-allowed' | 'in-use' };
    const version = Number(reply[1]);
    return { ok: true, version, after: Number(reply[2]), stamp: toStamp(reply.slice(3), version) };
  }

  async listRooms(after: string | null, limit: number): Promise<{ rooms: ListedRoom[]; next: string | null }> {
    const count = Math.max(0, Math.floor(limit));
    if (count === 0) return { rooms: [], next: null };
    const flat = (await this.scripts.run('room-list', [this.P, after === null ? '-' : `(${after}`, count])) as unknown[];
    const rooms: ListedRoom[] = [];
    let last: string | null = null;
    for (let i = 1; i + 6 < flat.length; i += 7) {
      last = String(flat[i]);
      rooms.push({ name: String(flat[i + 1]), count: Number(flat[i + 2]), modes: String(flat[i + 3]), topic: Number(flat[i + 5]) === 1 ? String(flat[i + 4]) : null, created: createdTime(String(flat[i + 6])) });
    }
    return { rooms, next: Number(flat[0]) === 1 ? last : null };
  }

  async addConnection(address: string, limit?: number): Promise<{ ok: boolean; count: number }> {
    const [ok, count] = (await this.run('conn-add', [segment(address, 'address'), limit === undefined ? '' : limit])) as [number, number];
    return { ok: ok === 1, count };
  }

  async removeConnection(address: string): Promise<number> {
    return Number(await this.run('conn-remove', [segment(address, 'address')]));
  }

  async connections(address: string): Promise<number> {
    const counts = await this.redis.hvals(this.P + 'addr:' + segment(address, 'address'));
    return counts.reduce((sum, n) => sum + Number(n), 0);
  }
}

function roomSeg(name: string): string {
  return segment(foldCase(name), 'room');
}

function actor(by: Actor | undefined): (string | number)[] {
  return by ? [checkUid(by.uid), by.anyOf] : ['', 0];
}

function toUser(uid: string, f: Record<string, string>): UserRecord | null {
  if (!f.node) return null;
  return {
    uid, nick: f.nick ?? '', node: f.node, user: f.user ?? '', host: f.host ?? '', realname: f.realname ?? '',
    account: f.account ?? null, away: f.away ?? null, since: Number(f.since ?? 0), modes: f.modes ?? '', secure: f.secure === '1',
  };
}

function toSnapshot([stateFlat, membersFlat, seqList, usersFlat]: unknown[][]): RoomSnapshot | null {
  const state = pairs(stateFlat ?? []);
  if (state._v === undefined) return null;
  const { _v, ...fields } = state;
  const members = new Map<string, number>();
  const users = new Map<string, MemberDetails>();
  const flat = membersFlat ?? [];
  const details = (usersFlat ?? []).map(String);
  // lib.lua marks a present account/away with a leading '=', so '' reads back as null.
  const optional = (value: string) => (value === '' ? null : value.slice(1));
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const uid = String(flat[i]);
    members.set(uid, Number(flat[i + 1]));
    const d = details.slice(3 * i, 3 * i + 6);
    if (d.length === 0) continue; // read without details
    users.set(uid, { nick: d[0] ?? '', user: d[1] ?? '', host: d[2] ?? '', realname: d[3] ?? '', account: optional(d[4] ?? ''), away: optional(d[5] ?? '') });
  }
  return { name: fields.name ?? '', version: Number(_v), fields, members, users, seq: Number(seqList?.[0] ?? 0) };
}
