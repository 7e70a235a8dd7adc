/**
 * Bringing a room's copy back in line with the shared state when its log cannot say what
 * changed: entries trimmed from the stream before this node read them (a `gap`), or Redis
 * restarted empty and the rooms were announced again (node-events.ts). The copy is compared
 * with a fresh snapshot and its local members are shown the difference the way a server shows
 * a healed netsplit: JOIN and PART (QUIT for a user gone from the network) for members, one
 * MODE line per few changes for modes, key, limit, bans and member flags, TOPIC for the topic.
 *
 * room-log.ts runs it in the log's order (a queue entry that waits for its read), so what
 * members see before and after it is the log's order; the snapshot's sequence tells which
 * later state changes it already holds (`Room.stateSeq`).
 */
import type { RoomSnapshot } from '../cluster/state.js';
import { formatChanges, MAX_PARAM_MODES, type ModeChange } from './commands/modes.js';
import { welcomeToRoom } from './commands/rooms.js';
import { rememberLeaving } from './history/seen.js';
import { addLocal, removeLocal } from './room-copies.js';
import { line } from './room-events.js';
import { fieldsOf, resetFields, roomFromSnapshot } from './room-fields.js';
import { MEMBER_OP, MEMBER_VOICE, ROOM_FLAG_MODES, type RemoteMember, type Room } from './room.js';
import { MASK_LIST_MODES } from './room-masks.js';
import type { Server } from './server.js';
import type { Session } from './session.js';

/** What a reconcile needs, read before its turn comes. */
export interface ResyncRead {
  snapshot: RoomSnapshot | null;
  /** Members of the copy missing from the snapshot whose user is gone from the network: QUIT, not PART. */
  gone: Set<string>;
}

export const RESYNC_PART_REASON = 'Left while this server was out of step with the network';
export const RESYNC_QUIT_REASON = 'Server went away';

/** Reads the snapshot (with members' details) and which absent members left the network. */
export async function readForResync(server: Server, room: Room): Promise<ResyncRead> {
  const { state } = server.cluster;
  const snapshot = await state.room(room.key);
  const absent = [...room.remote.keys()].filter((uid) => !snapshot?.members.has(uid));
  const gone = new Set<string>();
  for (const uid of absent) if ((await state.user(uid)) === null) gone.add(uid);
  return { snapshot, gone };
}

/**
 * Makes the copy what `read` says and shows local members the difference. `keepAbsent`: members
 * of other nodes missing from the snapshot stay (right after Redis came back empty, their nodes
 * may not have announced them again yet; a later reconcile without it removes those still missing).
 */
export function reconcile(server: Server, room: Room, read: ResyncRead, keepAbsent: boolean): void {
  const { snapshot } = read;
  const time = Date.now();
  if (!snapshot) {
    for (const session of [...room.members.keys()]) partLocal(server, room, session, time);
    if (!keepAbsent) room.remote.clear();
    return;
  }
  const target = roomFromSnapshot(snapshot, () => undefined, () => {});
  const changes = fieldModeChanges(room, target);
  const topicChanged = JSON.stringify(room.topic) !== JSON.stringify(target.topic);
  resetFields(room, fieldsOf(target));
  room.version = snapshot.version;
  room.stateSeq = snapshot.seq;

  for (const [session, flags] of [...room.members]) {
    const now = snapshot.members.get(session.uid);
    if (now === undefined) partLocal(server, room, session, time);
    else if (now !== flags) {
      room.members.set(session, now);
      changes.push(...flagChanges(flags, now, session.nick));
    }
  }
  for (const [uid, member] of [...room.remote]) {
    const now = target.remote.get(uid);
    if (now) {
      if (now.flags !== member.flags) changes.push(...flagChanges(member.flags, now.flags, member.nick));
      member.flags = now.flags;
    } else if (!keepAbsent) {
      room.remote.delete(uid);
      showLeaving(server, room, member, read.gone.has(uid), time);
    }
  }
  for (const [uid, member] of target.remote) {
    if (room.remote.has(uid)) continue;
    const session = server.users.localByUid(uid);
    if (session) {
      if (room.members.has(session)) continue;
      addLocal(room, session, member.flags);
      showJoin(room, session.prefix, member, time, session);
      welcomeToRoom(server, session, room);
    } else {
      room.remote.set(uid, member);
      showJoin(room, `${member.nick}!${member.user}@${member.host}`, member, time);
    }
    changes.push(...flagChanges(0, member.flags, member.nick));
  }

  for (let i = 0; i < changes.length; i += MAX_PARAM_MODES) {
    const out = serverLine(server, 'MODE', [room.name, ...formatChanges(changes.slice(i, i + MAX_PARAM_MODES))], time);
    for (const member of room.members.keys()) member.deliver(out);
  }
  if (topicChanged) {
    const out = serverLine(server, 'TOPIC', [room.name, room.topic?.text ?? ''], time);
    for (const member of room.members.keys()) member.deliver(out);
  }
}

/** Flag modes, key, limit and mask list entries that differ, as MODE changes. */
function fieldModeChanges(from: Room, to: Room): ModeChange[] {
  const changes: ModeChange[] = [];
  for (const mode of ROOM_FLAG_MODES) {
    if (from.flags.has(mode) !== to.flags.has(mode)) changes.push({ adding: to.flags.has(mode), mode });
  }
  if (from.password !== to.password) changes.push(to.password === null ? { adding: false, mode: 'k', param: '*' } : { adding: true, mode: 'k', param: to.password });
  if (from.limit !== to.limit) changes.push(to.limit === null ? { adding: false, mode: 'l' } : { adding: true, mode: 'l', param: String(to.limit) });
  for (const mode of MASK_LIST_MODES) {
    const now = new Set(to.list(mode).map((entry) => entry.folded));
    const had = new Set(from.list(mode).map((entry) => entry.folded));
    for (const entry of from.list(mode)) if (!now.has(entry.folded)) changes.push({ adding: false, mode, param: entry.mask });
    for (const entry of to.list(mode)) if (!had.has(entry.folded)) changes.push({ adding: true, mode, param: entry.mask });
  }
  return changes;
}

function flagChanges(from: number, to: number, nick: string): ModeChange[] {
  const changes: ModeChange[] = [];
  for (const [bit, mode] of [[MEMBER_OP, 'o'], [MEMBER_VOICE, 'v']] as const) {
    if ((from & bit) !== (to & bit)) changes.push({ adding: (to & bit) !== 0, mode, param: nick });
  }
  return changes;
}

/** A local member the network no longer has in the room: it and the others see it leave. */
function partLocal(server: Server, room: Room, session: Session, time: number): void {
  const out = line(session.prefix, 'PART', [room.name, RESYNC_PART_REASON], time, session.account);
  for (const member of room.members.keys()) member.deliver(out);
  removeLocal(room, session);
  rememberLeaving(session, room.key, time);
}

function showLeaving(server: Server, room: Room, member: RemoteMember, quit: boolean, time: number): void {
  const source = `${member.nick}!${member.user}@${member.host}`;
  const out = quit
    ? line(source, 'QUIT', [RESYNC_QUIT_REASON], time, member.account)
    : line(source, 'PART', [room.name, RESYNC_PART_REASON], time, member.account);
  // A user gone from the network quits once for a member sharing several rooms with it.
  const told = quit ? server.notified.of(`quit:${member.uid}`) : new Set<Session>();
  for (const local of room.members.keys()) {
    if (told.has(local)) continue;
    told.add(local);
    local.deliver(out);
  }
}

function showJoin(room: Room, source: string, member: RemoteMember, time: number, joiner?: Session): void {
  const plain = line(source, 'JOIN', [room.name], time, member.account);
  const extended = line(source, 'JOIN', [room.name, member.account ?? '*', member.realname], time, member.account);
  for (const local of room.members.keys()) local.deliverEither('extended-join', extended, plain);
  if (member.away === null) return;
  const away = line(source, 'AWAY', [member.away], time, member.account);
  for (const local of room.members.keys()) if (local !== joiner) local.deliverIf('away-notify', away);
}

function serverLine(server: Server, command: string, params: string[], time: number) {
  return line(server.name, command, params, time, null);
}
