import { rememberInvitation, sendInviteList } from '../invite-list.js';
import { fitLastParam, isValidRoomName, uniqueNames } from '../../protocol/index.js';
import { MAX_NAME_LENGTH } from '../../cluster/keys.js';
import { inviteChange, roomFromSnapshot } from '../room-fields.js';
import * as N from '../../protocol/numerics.js';
import type { InviteEvent, PartEvent, RoomStateEvent } from '../../cluster/events.js';
import type { Actor, MemberChange, RoomSnapshot } from '../../cluster/state.js';
import { numericError } from '../errors.js';
import { MEMBER_OP, MEMBER_VOICE, type Room } from '../room.js';
import { joinRoom } from '../room-join.js';
import type { Server } from '../server.js';
import type { Session } from '../session.js';
import type { CommandContext } from './context.js';
import { afterJoin, deferNames } from '../history/join.js';
import { NO_IMPLICIT_NAMES_CAP } from '../caps.js';
import { tellForgottenRooms } from '../services/chanserv.js';
import { sendJoinMetadata } from '../metadata/notify.js';

/** The room, or ERR_NOSUCHCHANNEL. */
export function requireRoom(server: Server, name: string): Room {
  const room = server.findRoom(name);
  if (!room) throw numericError(N.ERR_NOSUCHCHANNEL, name, 'No such channel');
  return room;
}

/**
 * Runs `action` on the room: this node's copy, or for a room without members here the shared
 * state's view of it now (read-only: queries, and refusals to non-members); ERR_NOSUCHCHANNEL if
 * it exists nowhere. Synchronous when there is a copy.
 */
export function onRoom(server: Server, name: string, action: (room: Room) => void | Promise<void>): void | Promise<void> {
  const local = server.findRoom(name);
  if (local) return action(local);
  if (!isValidRoomName(name, MAX_NAME_LENGTH)) throw numericError(N.ERR_NOSUCHCHANNEL, name, 'No such channel');
  return server.cluster.state.room(name).then((snapshot) => {
    if (!snapshot) throw numericError(N.ERR_NOSUCHCHANNEL, name, 'No such channel');
    return action(roomFromSnapshot(snapshot, () => undefined, () => {}));
  });
}

/** The room, with the session as a member, or the numeric that says why not. */
export function requireMembership(server: Server, session: Session, name: string): Room {
  const room = requireRoom(server, name);
  if (!room.members.has(session)) throw numericError(N.ERR_NOTONCHANNEL, room.name, "You're not on that channel");
  return room;
}

/** `@`, `+`, or with multi-prefix both, for a member's flags. */
function prefixFor(flags: number, all: boolean): string {
  let prefix = flags & MEMBER_OP ? '@' : '';
  if (flags & MEMBER_VOICE && (all || prefix === '')) prefix += '+';
  return prefix;
}

export function requireOp(room: Room, session: Session): void {
  if (!room.isOp(session)) throw numericError(N.ERR_CHANOPRIVSNEEDED, room.name, "You're not channel operator");
}

// JOIN <room>{,<room>} [<key>{,<key>}]   |   JOIN 0
// Each room is decided network-wide (core/room-join.ts), one after the other.
export function JOIN({ server, session, params }: CommandContext): Promise<void> {
  if (params[0] === '0') {
    return server.forEachTargetInTurn(session, 'JOIN', [...session.rooms].map((room) => room.name), (name) => {
      const room = server.findRoom(name);
      if (room?.members.has(session)) return leaveRoom(server, session, room, '');
    });
  }
  const keys = (params[1] ?? '').split(',');
  const joined: Room[] = [];
  const created: Room[] = [];
  return server
    .forEachTargetInTurn(session, 'JOIN', params[0]!.split(','), async (name, i) => {
      const result = await joinRoom(server, session, name, keys[i]);
      if (!result) return;
      joined.push(result.room);
      if (result.created) created.push(result.room);
    })
    // History replay and read markers need the store, and so does telling about forgotten rooms.
    .then(() => afterJoin(server, session, joined, impliedNames))
    // draft/metadata-2: the members' metadata the joiner subscribed to.
    .then(() => sendJoinMetadata(server, session, joined))
    .then(() => (created.length > 0 ? tellForgottenRooms(server, session, created) : undefined));
}

/** The joiner's topic and NAMES, once its JOIN is in the room (room-events.ts). */
export function welcomeToRoom(server: Server, session: Session, room: Room): void {
  if (room.topic) sendTopic(session, room);
  if (!deferNames(server, session, room)) impliedNames(server, session, room);
}

// PART <room>{,<room>} [<reason>]
export function PART({ server, session, params }: CommandContext): Promise<void> {
  const reason = params[1] ?? '';
  return server.forEachTargetInTurn(session, 'PART', params[0]!.split(','), (name) => {
    const room = requireMembership(server, session, name);
    return leaveRoom(server, session, room, reason);
  });
}

/**
 * PART network-wide: the membership is dropped in the shared state with the PART sequenced in
 * the room's log; everyone, the leaver too, sees it when the log delivers it (room-events.ts).
 */
async function leaveRoom(server: Server, session: Session, room: Room, reason: string): Promise<void> {
  const announce: PartEvent = { v: 1, origin: server.cluster.nodes.id, kind: 'part', uid: session.uid, source: session.prefix, reason };
  const result = await server.cluster.state.leave(room.name, session.uid, { announce });
  if (!result.ok) throw numericError(N.ERR_NOTONCHANNEL, room.name, "You're not on that channel");
  await server.roomCopies.applied(room.key, result.stamp!.seq);
}

// TOPIC <room> [<topic>]
export function TOPIC(ctx: CommandContext): void | Promise<void> {
  return onRoom(ctx.server, ctx.params[0]!, (room) => topic(ctx, room));
}

function topic({ server, session, params }: CommandContext, room: Room): void | Promise<void> {
  if (params.length < 2) {
    if (room.flags.has('s') && !room.members.has(session)) throw numericError(N.ERR_NOTONCHANNEL, room.name, "You're not on that channel");
    if (room.topic) sendTopic(session, room);
    else session.numeric(N.RPL_NOTOPIC, room.name, 'No topic is set');
    return;
  }
  if (!room.members.has(session)) throw numericError(N.ERR_NOTONCHANNEL, room.name, "You're not on that channel");
  if (room.flags.has('t')) requireOp(room, session);
  // Cut as the line will be (line-fit.ts): what is kept is what was sent.
  const text = fitLastParam(session.prefix, 'TOPIC', [room.name, params[1]!.slice(0, server.config.limits.topic_length)])[1]!;
  const topic = text === '' ? null : { text, setBy: session.prefix, setAt: Math.floor(Date.now() / 1000) };
  return changeRoom(server, session, room, {
    set: topic ? { topic: JSON.stringify(topic) } : {},
    del: topic ? [] : ['topic'],
    by: room.flags.has('t') ? { uid: session.uid, anyOf: MEMBER_OP } : undefined,
    command: 'TOPIC',
    params: [room.name, text],
  }).then(() => {});
}

/**
 * A change of room fields (TOPIC, MODE) network-wide: one `changeRoom`, the line sequenced in
 * the room's log in the same step; the copy changes and everyone sees the line when the log
 * delivers it. `expectVersion` makes it a compare-and-set: resolves false when it was stale.
 */
export async function changeRoom(
  server: Server,
  session: Session,
  room: Room,
  change: { set: Record<string, string>; del: string[]; by?: Actor; command: 'MODE' | 'TOPIC'; params: string[]; members?: Record<string, MemberChange>; expectVersion?: number },
): Promise<RoomSnapshot | null> {
  const announce: RoomStateEvent = {
    v: 1, origin: server.cluster.nodes.id, kind: 'room', by: session.prefix, set: change.set, del: change.del,
    actor: session.uid, command: change.command, params: change.params, account: session.account,
  };
  if (change.members) announce.members = change.members;
  const result = await server.cluster.state.changeRoom(room.name, {
    set: change.set, del: change.del, members: change.members, by: change.by, expectVersion: change.expectVersion, announce,
  });
  if (!result.ok) {
    if (result.reason === 'stale') return result.room;
    if (result.reason === 'not-allowed') throw numericError(N.ERR_CHANOPRIVSNEEDED, room.name, "You're not channel operator");
    throw numericError(N.ERR_NOSUCHCHANNEL, room.name, 'No such channel');
  }
  await server.roomCopies.applied(room.key, result.stamp!.seq);
  return null;
}

function sendTopic(session: Session, room: Room): void {
  const topic = room.topic!;
  session.numeric(N.RPL_TOPIC, room.name, topic.text);
  session.numeric(N.RPL_TOPICWHOTIME, room.name, topic.setBy, String(topic.setAt));
}

// NAMES [<room>{,<room>}]
// Each room in turn, at most limits.targets_per_message (TARGMAX NAMES). A room that does not
// exist, or is secret to an outsider, gets just its RPL_ENDOFNAMES, as the spec says.
export function NAMES({ server, session, params }: CommandContext): void | Promise<void> {
  const names = params[0] === undefined ? [] : uniqueNames(params[0].split(',').filter((n) => n !== ''));
  if (names.length === 0) {
    session.numeric(N.RPL_ENDOFNAMES, '*', 'End of /NAMES list');
    return;
  }
  if (names.length > server.config.limits.targets_per_message) throw numericError(N.ERR_TOOMANYTARGETS, params[0]!, 'Too many targets');
  return server.forEachTargetInTurn(session, 'NAMES', names, async (name) => {
    const end = () => session.numeric(N.RPL_ENDOFNAMES, name, 'End of /NAMES list');
    const reply = (room: Room) => (!room.flags.has('s') || room.members.has(session) ? sendNames(server, session, room) : end());
    try {
      await onRoom(server, name, reply);
    } catch {
      end();
    }
  });
}

/** NAMES as part of a JOIN, unless the client asked not to get it (draft/no-implicit-names). */
export function impliedNames(server: Server, session: Session, room: Room): void {
  if (!session.has(NO_IMPLICIT_NAMES_CAP)) sendNames(server, session, room);
}

/** RPL_NAMREPLY lines (each under 512 bytes), then RPL_ENDOFNAMES. */
export function sendNames(server: Server, session: Session, room: Room): void {
  const multi = session.has('multi-prefix');
  const full = session.has('userhost-in-names');
  const symbol = room.flags.has('s') ? '@' : '=';
  // Room for ":server 353 nick = #room :" and CRLF.
  const budget = 500 - server.name.length - session.nick.length - room.name.length - 10;
  let line = '';
  const add = (entry: string) => {
    if (line !== '' && Buffer.byteLength(line) + 1 + Buffer.byteLength(entry) > budget) {
      session.numeric(N.RPL_NAMREPLY, symbol, room.name, line);
      line = entry;
    } else {
      line = line === '' ? entry : `${line} ${entry}`;
    }
  };
  for (const member of room.members.keys()) {
    if (member.state !== 'closing') add(room.prefixOf(member, multi) + (full ? member.prefix : member.nick));
  }
  // Members on other nodes, from this node's copy of the room.
  for (const m of room.remote.values()) add(prefixFor(m.flags, multi) + (full ? `${m.nick}!${m.user}@${m.host}` : m.nick));
  if (line !== '') session.numeric(N.RPL_NAMREPLY, symbol, room.name, line);
  session.numeric(N.RPL_ENDOFNAMES, room.name, 'End of /NAMES list');
}

// KICK <room>{,<room>} <nick>{,<nick>} [<reason>]
// RFC 2812 3.2.8: one room and several nicks, or as many rooms as nicks, taken in pairs; any
// other shape is ERR_NEEDMOREPARAMS. Each kick goes out as its own KICK with one nick.
export function KICK({ server, session, params }: CommandContext): Promise<void> {
  const rooms = params[0]!.split(',');
  const nicks = params[1]!.split(',');
  if (rooms.length !== 1 && rooms.length !== nicks.length) throw numericError(N.ERR_NEEDMOREPARAMS, 'KICK', 'Not enough parameters');
  // TARGMAX advertises KICK:<limits.targets_per_message>: the kicks one command may ask for.
  if (nicks.length > server.config.limits.targets_per_message) throw numericError(N.ERR_TOOMANYTARGETS, params[1]!, 'Too many targets');
  const reason = (params[2] ?? session.nick).slice(0, server.config.limits.kick_length);
  const opIn = (name: string) => {
    const room = requireMembership(server, session, name);
    requireOp(room, session);
    return room;
  };
  // One room is checked once: not being its operator is one error, not one per nick.
  const single = rooms.length === 1 ? opIn(rooms[0]!) : null;
  return server.forEachTargetInTurn(session, 'KICK', nicks, async (nick, i) => {
    const room = single ?? opIn(rooms[i]!);
    const target = room.memberByNick(nick);
    if (!target) {
      const known = server.findUser(nick);
      if (!(known instanceof Promise ? await known : known)) throw numericError(N.ERR_NOSUCHNICK, nick, 'No such nick/channel');
      throw numericError(N.ERR_USERNOTINCHANNEL, nick, room.name, "They aren't on that channel");
    }
    // The shared state checks the kicker's op again, atomically with the removal.
    const announce: PartEvent = {
      v: 1, origin: server.cluster.nodes.id, kind: 'part', uid: target.uid, source: target.prefix, reason, by: session.prefix, kicker: session.uid,
    };
    const result = await server.cluster.state.leave(room.name, target.uid, { by: { uid: session.uid, anyOf: MEMBER_OP }, announce });
    if (!result.ok) {
      if (result.reason === 'not-allowed') throw numericError(N.ERR_CHANOPRIVSNEEDED, room.name, "You're not channel operator");
      throw numericError(N.ERR_USERNOTINCHANNEL, target.nick, room.name, "They aren't on that channel");
    }
    await server.roomCopies.applied(room.key, result.stamp!.seq);
  });
}

/** Invitations a room keeps; a new one beyond pushes out the oldest (invited users who never came). */
const MAX_INVITES_PER_ROOM = 100;

// INVITE <nick> <room>   (INVITE alone: the rooms one is invited to, invite-list.ts)
// The invitation is a field of the room's shared state (`i:<uid>`, room-fields.ts), so a JOIN on
// any node lets the invited user past +i and bans; its JOIN uses it up (room-join.ts). The
// change is sequenced in the room's log: every node's invite-notify members see it there. The
// invited user gets the line on its own node (an `invite` to its inbox when that is another).
export function INVITE({ server, session, params }: CommandContext): Promise<void> {
  if (params.length === 0) return sendInviteList(server, session);
  if (params.length < 2) throw numericError(N.ERR_NEEDMOREPARAMS, 'INVITE', 'Not enough parameters');
  const [nick, name] = params as [string, string];
  const found = server.findUser(nick);
  return Promise.resolve(found).then(async (target) => {
    if (!target) throw numericError(N.ERR_NOSUCHNICK, nick, 'No such nick/channel');
    const room = requireMembership(server, session, name);
    if (room.localMember(target.uid) || room.remote.has(target.uid)) {
      throw numericError(N.ERR_USERONCHANNEL, target.nick, room.name, 'is already on channel');
    }
    const inviteOnly = room.flags.has('i');
    if (inviteOnly) requireOp(room, session);
    const fields = inviteChange(room, target.uid, Date.now(), MAX_INVITES_PER_ROOM);
    const announce: InviteEvent = {
      v: 1, origin: server.cluster.nodes.id, kind: 'invite', room: room.name, uid: target.uid, nick: target.nick,
      by: session.prefix, actor: session.uid, account: session.account, ...fields,
    };
    // In a +i room the shared state checks the inviter's op again, in the same step.
    const result = await server.cluster.state.changeRoom(room.name, {
      ...fields, by: inviteOnly ? { uid: session.uid, anyOf: MEMBER_OP } : undefined, announce,
    });
    if (!result.ok) {
      if (result.reason === 'not-allowed') throw numericError(N.ERR_CHANOPRIVSNEEDED, room.name, "You're not channel operator");
      throw numericError(N.ERR_NOSUCHCHANNEL, room.name, 'No such channel');
    }
    await server.roomCopies.applied(room.key, result.stamp!.seq);
    session.numeric(N.RPL_INVITING, target.nick, room.name);
    if ('conn' in target) {
      rememberInvitation(target, room.name);
      target.deliver(server.event(session, 'INVITE', [target.nick, room.name]));
    }
    else await server.cluster.bus.send(target.node, announce);
    if (target.away !== null) session.numeric(N.RPL_AWAY, target.nick, target.away);
  });
}
