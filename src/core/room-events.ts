/**
 * A room's state changes, applied to this node's copy (room-copies.ts) and shown to its local
 * members, in log order (room-log.ts calls these). The only place copies change: JOIN, PART, KICK, QUIT, MODE, TOPIC, RENAME (room-rename.ts), and other nodes'
 * users changing nick, away or account. A command's own reply (the JOIN echo, the MODE line)
 * comes from here too, in its place; `send` (a reply, inside the command's labeled-response
 * capture while the command waits for it) for the one who did it, `deliver` for the others.
 *
 * A user on another node in several of this node's rooms quits (or renames) once per room log;
 * a local member sharing two of those rooms is told once (`Notified`).
 */
import { fitLastParam } from '../protocol/index.js';
import type { ClusterEvent, Delivery, InviteEvent, JoinEvent, NickEvent, PartEvent, QuitEvent, RoomStateEvent, UserEvent } from '../cluster/events.js';
import { changeFlags, type MemberChange } from '../cluster/state.js';
import { Outgoing } from './outgoing.js';
import { addLocal, removeLocal } from './room-copies.js';
import { applyFields } from './room-fields.js';
import type { Room } from './room.js';
import type { Server } from './server.js';
import type { Session } from './session.js';
import { welcomeToRoom } from './commands/rooms.js';
import { rememberLeaving } from './history/seen.js';
import { isValidHost, showHostChange } from './host-change.js';
import { applyRename } from './room-rename.js';

type EventDelivery = Extract<Delivery, { type: 'event' }>;

/** A change of room state (any kind but messages) applied to the copy and shown; room-log.ts calls it in log order. */
export function applyEvent(server: Server, room: Room, event: ClusterEvent, delivery: EventDelivery): void {
  switch (event.kind) {
    case 'join':
      return applyJoin(server, room, event, delivery);
    case 'part':
      return applyPart(server, room, event, delivery);
    case 'quit':
      return applyQuit(server, room, event, delivery);
    case 'room':
      return applyState(server, room, event, delivery);
    case 'nick':
      return applyNick(server, room, event, delivery);
    case 'user':
      return applyUser(server, room, event, delivery);
    case 'invite':
      return applyInvite(room, event, delivery);
    case 'rename':
      return applyRename(server, room, event, delivery);
    default:
      return;
  }
}

/** An event as its recipients see it: the log's time, the actor's account. */
export function line(source: string, command: string, params: string[], time: number, account: string | null | undefined): Outgoing {
  const tags: Record<string, string> = { time: new Date(time).toISOString() };
  if (account) tags.account = account;
  return new Outgoing({ tags, source, command, params: fitLastParam(source, command, params) });
}

function applyJoin(server: Server, room: Room, event: JoinEvent, delivery: EventDelivery): void {
  if (event.del) applyFields(room, {}, event.del);
  if (delivery.stamp.version !== undefined) room.version = delivery.stamp.version;
  const joiner = event.origin === server.cluster.nodes.id ? server.users.localByUid(event.uid) : undefined;
  if (joiner) {
    if (room.members.has(joiner)) return;
    addLocal(room, joiner, event.flags);
  } else {
    if (room.remote.has(event.uid)) return;
    const [nick = '', userHost = ''] = event.source.split('!');
    const [user = '', host = ''] = userHost.split('@');
    room.remote.set(event.uid, { uid: event.uid, nick, user, host, realname: event.realname, account: event.account, away: event.away ?? null, flags: event.flags });
  }
  const { time } = delivery.stamp;
  const plain = line(event.source, 'JOIN', [room.name], time, event.account);
  const extended = line(event.source, 'JOIN', [room.name, event.account ?? '*', event.realname], time, event.account);
  for (const member of room.members.keys()) if (member !== joiner) member.deliverEither('extended-join', extended, plain);
  if (event.away) {
    const away = line(event.source, 'AWAY', [event.away], time, event.account);
    for (const member of room.members.keys()) if (member !== joiner) member.deliverIf('away-notify', away);
  }
  // The joiner's JOIN, topic and NAMES, on each of its connections (multiclient.ts).
  if (joiner) {
    joiner.eachConnection(() => {
      joiner.send(joiner.has('extended-join') ? extended : plain);
      welcomeToRoom(server, joiner, room);
    });
  }
}

function applyPart(server: Server, room: Room, event: PartEvent, delivery: EventDelivery): void {
  const local = room.localMember(event.uid);
  if (!local && !room.remote.has(event.uid)) return;
  const nick = event.source.split('!')[0]!;
  const out = event.by === undefined
    ? line(event.source, 'PART', event.reason === '' ? [room.name] : [room.name, event.reason], delivery.stamp.time, null)
    : line(event.by, 'KICK', [room.name, nick, event.reason], delivery.stamp.time, null);
  const actor = event.by === undefined ? event.uid : event.kicker;
  for (const member of room.members.keys()) {
    if (member.uid === actor && delivery.own) member.eachConnection(() => member.send(out));
    else member.deliver(out);
  }
  if (local) {
    removeLocal(room, local);
    // Everything until now was seen: a later JOIN replays only what came after (history/seen.ts).
    rememberLeaving(local, room.key, delivery.stamp.time);
  } else room.remote.delete(event.uid);
}

function applyQuit(server: Server, room: Room, event: QuitEvent, delivery: EventDelivery): void {
  const local = room.localMember(event.uid);
  const remote = local ? undefined : room.remote.get(event.uid);
  if (!local && !remote) return;
  const source = local ? local.prefix : `${remote!.nick}!${remote!.user}@${remote!.host}`;
  const out = line(source, 'QUIT', [event.reason], delivery.stamp.time, local ? local.account : remote!.account);
  const told = server.notified.of(`quit:${event.uid}`);
  for (const member of room.members.keys()) {
    if (member === local || told.has(member)) continue;
    told.add(member);
    member.deliver(out);
  }
  if (local) removeLocal(room, local);
  else room.remote.delete(event.uid);
}

function applyState(server: Server, room: Room, event: RoomStateEvent, delivery: EventDelivery): void {
  applyFields(room, event.set ?? {}, event.del ?? []);
  if (delivery.stamp.version !== undefined) room.version = delivery.stamp.version;
  for (const uid in event.members ?? {}) changeMember(room, uid, event.members![uid]!);
  // Registered rooms are written through once, by the node that made the change.
  if (delivery.own && (Object.keys(event.set ?? {}).length > 0 || (event.del ?? []).length > 0)) server.roomRegistry.changed(room);
  if (!event.command || !event.params) return;
  const out = line(event.by, event.command, event.params, delivery.stamp.time, event.account);
  for (const member of room.members.keys()) {
    if (delivery.own && member.uid === event.actor) member.send(out);
    else member.deliver(out);
  }
}

/** Changes as bits, in log order: every copy ends with the flags the shared state has. */
function changeMember(room: Room, uid: string, change: MemberChange): void {
  const local = room.localMember(uid);
  if (local) room.members.set(local, changeFlags(room.members.get(local)!, change));
  else {
    const remote = room.remote.get(uid);
    if (remote) remote.flags = changeFlags(remote.flags, change);
  }
}

/**
 * Another node's user renamed: its copy here follows, and local members are told once. This
 * node's own users' renames were shown when they happened (commands/registration.ts changeNick).
 */
function applyNick(server: Server, room: Room, event: NickEvent, delivery: EventDelivery): void {
  if (delivery.own) return;
  const remote = room.remote.get(event.uid);
  if (!remote) return;
  remote.nick = event.nick;
  const out = line(event.source, 'NICK', [event.nick], delivery.stamp.time, remote.account);
  tellOnce(server, room, `nick:${event.uid}:${event.nick}`, out);
}

/** Another node's user changed away, account or realname: away-notify, account-notify and setname, once each. */
function applyUser(server: Server, room: Room, event: UserEvent, delivery: EventDelivery): void {
  if (delivery.own) return;
  const remote = room.remote.get(event.uid);
  if (!remote) return;
  const source = `${remote.nick}!${remote.user}@${remote.host}`;
  const fields = event.fields;
  if ('away' in fields) {
    remote.away = fields.away ?? null;
    const out = line(source, 'AWAY', remote.away === null ? [] : [remote.away], delivery.stamp.time, remote.account);
    tellOnce(server, room, `away:${event.uid}:${event.change ?? remote.away}`, out, 'away-notify');
  }
  if ('account' in fields) {
    remote.account = fields.account ?? null;
    const out = line(source, 'ACCOUNT', [remote.account ?? '*'], delivery.stamp.time, null);
    tellOnce(server, room, `account:${event.uid}:${event.change ?? remote.account}`, out, 'account-notify');
  }
  if ('realname' in fields && typeof fields.realname === 'string') {
    remote.realname = fields.realname;
    const out = line(source, 'SETNAME', [remote.realname], delivery.stamp.time, remote.account);
    tellOnce(server, room, `realname:${event.uid}:${event.change ?? remote.realname}`, out, 'setname');
  }
  if (typeof fields.host === 'string' && isValidHost(fields.host) && fields.host !== remote.host) {
    remote.host = fields.host;
    const told = server.notified.of(`host:${event.uid}:${event.change ?? remote.host}`);
    const change = { before: source, user: remote.user, host: remote.host, flags: remote.flags, away: remote.away, account: remote.account, realname: remote.realname };
    for (const member of room.members.keys()) showHostChange(server.name, member, room, told, change, delivery.stamp.time);
  }
}

/**
 * Invitations recorded or pushed out (commands/rooms.ts INVITE): the copy follows;
 * for a new one, invite-notify members see the INVITE, in a +i room only those who could have
 * invited (its ops), never the inviter (it has RPL_INVITING).
 */
function applyInvite(room: Room, event: InviteEvent, delivery: EventDelivery): void {
  applyFields(room, event.set ?? {}, event.del ?? []);
  if (delivery.stamp.version !== undefined) room.version = delivery.stamp.version;
  if (typeof event.by !== 'string') return;
  const out = line(event.by, 'INVITE', [event.nick, room.name], delivery.stamp.time, event.account);
  for (const member of room.members.keys()) {
    if (member.uid === event.actor) continue;
    if (room.flags.has('i') && !room.isOp(member)) continue;
    member.deliverIf('invite-notify', out);
  }
}

function tellOnce(server: Server, room: Room, key: string, out: Outgoing, cap?: string): void {
  const told = server.notified.of(key);
  for (const member of room.members.keys()) {
    if (told.has(member)) continue;
    told.add(member);
    if (cap === undefined) member.deliver(out);
    else member.deliverIf(cap, out);
  }
}

/**
 * Who was told of a change that arrives once per room log (a quit, a rename): each local member
 * once. Entries are forgotten after a minute (Server.sweep), long after every log delivered them.
 */
export class Notified {
  private readonly entries = new Map<string, { told: Set<Session>; at: number }>();

  of(key: string): Set<Session> {
    let entry = this.entries.get(key);
    if (!entry) this.entries.set(key, (entry = { told: new Set(), at: Date.now() }));
    return entry.told;
  }

  prune(now: number): void {
    for (const [key, entry] of this.entries) if (now - entry.at > 60_000) this.entries.delete(key);
  }
}
