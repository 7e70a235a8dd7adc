/**
 * How a room's state is written in the shared state's generic fields (cluster/state.ts
 * RoomSnapshot): `modes` (flag letters, sorted), `key`, `limit` (decimal), `topic` (JSON
 * `{ text, setBy, setAt }`), `created` (seconds), one `<list>:<folded mask>` per entry of a
 * mask list, `b:` bans, `e:` exceptions, `I:` invite exceptions (JSON `{ mask, setBy, setAt }`),
 * one `i:<uid>` per invitation (the time it was given, ms), and `renamed` (the last RENAME, ms).
 * Rooms are copied to nodes from these and changed through them.
 */
import type { RoomSnapshot } from '../cluster/state.js';
import { Room } from './room.js';
import { MASK_LIST_MODES, type MaskListMode } from './room-masks.js';

const INVITE = 'i:';

/** The mask list a field holds an entry of, if it does. */
function listOf(field: string): MaskListMode | null {
  if (field[1] !== ':') return null;
  const mode = field[0] as MaskListMode;
  return MASK_LIST_MODES.includes(mode) ? mode : null;
}

/** Every field of `room`, for creating it in the shared state. */
export function fieldsOf(room: Room): Record<string, string> {
  const fields: Record<string, string> = {
    modes: [...room.flags].sort().join(''),
    created: String(room.createdAt),
  };
  if (room.password !== null) fields.key = room.password;
  if (room.limit !== null) fields.limit = String(room.limit);
  if (room.topic) fields.topic = JSON.stringify(room.topic);
  if (room.renamedAt > 0) fields.renamed = String(room.renamedAt);
  for (const mode of MASK_LIST_MODES) {
    for (const entry of room.list(mode)) fields[`${mode}:${entry.folded}`] = JSON.stringify({ mask: entry.mask, setBy: entry.setBy, setAt: entry.setAt });
  }
  for (const [uid, at] of room.invites) fields[INVITE + uid] = String(at);
  return fields;
}

/** Fields set and deleted, applied to a copy in the order a log delivered them. */
export function applyFields(room: Room, set: Record<string, string>, del: readonly string[]): void {
  for (const field of del) applyField(room, field, undefined);
  for (const field in set) applyField(room, field, set[field]);
}

function applyField(room: Room, field: string, value: string | undefined): void {
  const mode = listOf(field);
  if (mode !== null) {
    const list = room.list(mode);
    const folded = field.slice(2);
    const index = list.findIndex((entry) => entry.folded === folded);
    if (index !== -1) list.splice(index, 1);
    const entry = value === undefined ? null : parse<{ mask: string; setBy: string; setAt: number }>(value);
    if (entry) list.push({ mask: entry.mask, setBy: entry.setBy, setAt: entry.setAt, folded });
    return;
  }
  if (field.startsWith(INVITE)) {
    const uid = field.slice(INVITE.length);
    if (value === undefined) room.invites.delete(uid);
    else room.invites.set(uid, Number(value) || 0);
    return;
  }
  switch (field) {
    case 'modes':
      room.flags.clear();
      for (const flag of value ?? '') room.flags.add(flag);
      return;
    case 'key':
      room.password = value ?? null;
      return;
    case 'limit':
      room.limit = value === undefined ? null : Number(value);
      return;
    case 'topic':
      room.topic = value === undefined ? null : parse(value);
      return;
    case 'created':
      if (value !== undefined) room.createdAt = Number(value);
      return;
    case 'renamed':
      room.renamedAt = Number(value ?? 0) || 0;
      return;
  }
}

/** Replaces every field of `room` by `fields` (a room created again under an existing copy). */
export function resetFields(room: Room, fields: Record<string, string>): void {
  applyFields(room, {}, Object.keys(fieldsOf(room)));
  applyFields(room, fields, []);
}

/** A scratch copy of the room's fields and members, to try changes on (MODE). */
export function cloneRoom(room: Room): Room {
  const copy = new Room(room.name);
  resetFields(copy, fieldsOf(room));
  copy.version = room.version;
  for (const [member, flags] of room.members) copy.members.set(member, flags);
  for (const [uid, member] of room.remote) copy.remote.set(uid, { ...member });
  return copy;
}

/** A copy of the room as the snapshot shows it; `local` finds this node's sessions by uid. */
export function roomFromSnapshot<S>(snapshot: RoomSnapshot, local: (uid: string) => S | undefined, add: (room: Room, session: S, flags: number) => void): Room {
  const room = new Room(snapshot.name);
  room.flags.clear();
  applyFields(room, snapshot.fields, []);
  room.version = snapshot.version;
  room.applied = snapshot.seq;
  for (const [uid, flags] of snapshot.members) {
    const session = local(uid);
    if (session !== undefined) {
      add(room, session, flags);
      continue;
    }
    const details = snapshot.users.get(uid);
    room.remote.set(uid, { uid, flags, nick: details?.nick ?? uid, user: details?.user ?? '', host: details?.host ?? '', realname: details?.realname ?? '', account: details?.account ?? null, away: details?.away ?? null });
  }
  return room;
}

/** The fields `before` -> `after` changed: what to set and what to delete. */
export function fieldChanges(before: Room, after: Room): { set: Record<string, string>; del: string[] } {
  const a = fieldsOf(before);
  const b = fieldsOf(after);
  const set: Record<string, string> = {};
  const del: string[] = [];
  for (const field in b) if (a[field] !== b[field]) set[field] = b[field]!;
  for (const field in a) if (!(field in b)) del.push(field);
  return { set, del };
}

/** The field of `uid`'s invitation to a room. */
export function inviteField(uid: string): string {
  return INVITE + uid;
}

/**
 * What an invitation of `uid` to `room` sets and deletes: the new one, and the oldest others
 * beyond `cap - 1`, so a room never holds more than `cap` (invited users who never came, or
 * left the network, would otherwise stay until the room ends).
 */
export function inviteChange(room: Room, uid: string, at: number, cap: number): { set: Record<string, string>; del: string[] } {
  const others = [...room.invites].filter(([other]) => other !== uid).sort((x, y) => x[1] - y[1]);
  const excess = others.length - (cap - 1);
  return { set: { [INVITE + uid]: String(at) }, del: excess > 0 ? others.slice(0, excess).map(([other]) => INVITE + other) : [] };
}

function parse<T>(value: string): T | null {
  try {
    return JSON.parse(value) as T;
  } catch {
    return null;
  }
}
