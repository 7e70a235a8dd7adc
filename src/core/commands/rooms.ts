import { foldCase, isValidRoomName } from '../../protocol/index.js';
import * as N from '../../protocol/numerics.js';
import { numericError } from '../errors.js';
import { Room } from '../room.js';
import type { Server } from '../server.js';
import type { Session } from '../session.js';
import type { CommandContext } from './context.js';
import { afterJoin, deferNames } from '../history/join.js';
import { rememberLeaving } from '../history/seen.js';
import { tellForgottenRooms } from '../services/chanserv.js';

/** The room, or ERR_NOSUCHCHANNEL. */
export function requireRoom(server: Server, name: string): Room {
  const room = server.findRoom(name);
  if (!room) throw numericError(N.ERR_NOSUCHCHANNEL, name, 'No such channel');
  return room;
}

/** The room, with the session as a member, or the numeric that says why not. */
export function requireMembership(server: Server, session: Session, name: string): Room {
  const room = requireRoom(server, name);
  if (!room.members.has(session)) throw numericError(N.ERR_NOTONCHANNEL, room.name, "You're not on that channel");
  return room;
}

export function requireOp(room: Room, session: Session): void {
  if (!room.isOp(session)) throw numericError(N.ERR_CHANOPRIVSNEEDED, room.name, "You're not channel operator");
}

// JOIN <room>{,<room>} [<key>{,<key>}]   |   JOIN 0
export function JOIN({ server, session, params }: CommandContext): void | Promise<void> {
  if (params[0] === '0') {
    for (const room of [...session.rooms]) leaveRoom(server, session, room, 'PART', [room.name]);
    return;
  }
  const keys = (params[1] ?? '').split(',');
  const joined: Room[] = [];
  const created: Room[] = [];
  server.forEachTarget(session, 'JOIN', params[0]!.split(','), (name, i) => {
    const existed = server.findRoom(name) !== undefined;
    const room = joinRoom(server, session, name, keys[i]);
    if (room) joined.push(room);
    if (room && !existed) created.push(room);
  });
  // History replay and read markers need the store: a promise, or nothing if neither applies.
  const replayed = afterJoin(server, session, joined, sendNames);
  if (created.length === 0) return replayed;
  return (async () => {
    await replayed;
    await tellForgottenRooms(server, session, created);
  })();
}

/** The room joined, or null if the session already was a member. */
function joinRoom(server: Server, session: Session, name: string, key: string | undefined): Room | null {
  if (!isValidRoomName(name, server.config.limits.channel_length)) {
    throw numericError(N.ERR_NOSUCHCHANNEL, name, 'No such channel');
  }
  let room = server.findRoom(name);
  if (room?.members.has(session)) return null;
  if (session.rooms.size >= server.config.limits.channels_per_user) {
    throw numericError(N.ERR_TOOMANYCHANNELS, name, 'You have joined too many channels');
  }
  if (room) checkCanJoin(room, session, key);
  else {
    room = new Room(name);
    server.roomRegistry.restore(room);
    server.rooms.set(room.key, room);
  }
  room.members.set(session, server.roomRegistry.joinFlags(room, session));
  session.addRoom(room);
  session.removeInvite(room.key);

  const plain = server.event(session, 'JOIN', [room.name]);
  const extended = server.event(session, 'JOIN', [room.name, session.account ?? '*', session.realname]);
  for (const member of room.members.keys()) {
    const out = member.has('extended-join') ? extended : plain;
    if (member === session) member.send(out);
    else member.deliver(out);
  }
  if (session.away !== null) {
    const away = server.event(session, 'AWAY', [session.away]);
    for (const member of room.members.keys()) if (member !== session && member.has('away-notify')) member.deliver(away);
  }
  if (room.topic) sendTopic(session, room);
  if (!deferNames(server, session, room)) sendNames(server, session, room);
  return room;
}

function checkCanJoin(room: Room, session: Session, key: string | undefined): void {
  const invited = session.invitedTo.has(room.key);
  if (room.isBanned(session) && !invited) throw numericError(N.ERR_BANNEDFROMCHAN, room.name, 'Cannot join channel (+b)');
  if (room.flags.has('i') && !invited) throw numericError(N.ERR_INVITEONLYCHAN, room.name, 'Cannot join channel (+i)');
  if (room.password !== null && key !== room.password) {
    throw numericError(N.ERR_BADCHANNELKEY, room.name, 'Cannot join channel (+k)');
  }
  if (room.limit !== null && room.members.size >= room.limit) {
    throw numericError(N.ERR_CHANNELISFULL, room.name, 'Cannot join channel (+l)');
  }
}

// PART <room>{,<room>} [<reason>]
export function PART({ server, session, params }: CommandContext): void {
  const reason = params[1];
  server.forEachTarget(session, 'PART', params[0]!.split(','), (name) => {
    const room = requireMembership(server, session, name);
    leaveRoom(server, session, room, 'PART', reason ? [room.name, reason] : [room.name]);
  });
}

/** Tell the room (and the one leaving) about a PART or KICK, then remove the membership. */
function leaveRoom(server: Server, leaver: Session, room: Room, command: string, params: string[], source = leaver): void {
  const out = server.event(source, command, params);
  for (const member of room.members.keys()) {
    if (member === source) member.send(out);
    else member.deliver(out);
  }
  server.removeFromRoom(leaver, room);
  // Everything until now was seen: a later JOIN replays only what came after (history/seen.ts).
  rememberLeaving(leaver, room.key, Date.now());
}

// TOPIC <room> [<topic>]
export function TOPIC({ server, session, params }: CommandContext): void {
  const room = requireRoom(server, params[0]!);
  if (params.length < 2) {
    if (room.flags.has('s') && !room.members.has(session)) throw numericError(N.ERR_NOTONCHANNEL, room.name, "You're not on that channel");
    if (room.topic) sendTopic(session, room);
    else session.numeric(N.RPL_NOTOPIC, room.name, 'No topic is set');
    return;
  }
  if (!room.members.has(session)) throw numericError(N.ERR_NOTONCHANNEL, room.name, "You're not on that channel");
  if (room.flags.has('t')) requireOp(room, session);
  // The event cuts a topic that would not fit its line (line-fit.ts): what is kept is what was sent.
  const out = server.event(session, 'TOPIC', [room.name, params[1]!.slice(0, server.config.limits.topic_length)]);
  const text = out.message.params[1]!;
  room.topic = text === '' ? null : { text, setBy: session.prefix, setAt: Math.floor(Date.now() / 1000) };
  server.roomRegistry.changed(room);
  room.broadcast(out, session);
  session.send(out);
}

function sendTopic(session: Session, room: Room): void {
  const topic = room.topic!;
  session.numeric(N.RPL_TOPIC, room.name, topic.text);
  session.numeric(N.RPL_TOPICWHOTIME, room.name, topic.setBy, String(topic.setAt));
}

// NAMES [<room>]
export function NAMES({ server, session, params }: CommandContext): void {
  const name = params[0]?.split(',')[0];
  if (!name) {
    session.numeric(N.RPL_ENDOFNAMES, '*', 'End of /NAMES list');
    return;
  }
  const room = server.findRoom(name);
  if (room && (!room.flags.has('s') || room.members.has(session))) sendNames(server, session, room);
  else session.numeric(N.RPL_ENDOFNAMES, name, 'End of /NAMES list');
}

/** RPL_NAMREPLY lines (each under 512 bytes), then RPL_ENDOFNAMES. */
export function sendNames(server: Server, session: Session, room: Room): void {
  const multi = session.has('multi-prefix');
  const full = session.has('userhost-in-names');
  const symbol = room.flags.has('s') ? '@' : '=';
  // Room for ":server 353 nick = #room :" and CRLF.
  const budget = 500 - server.name.length - session.nick.length - room.name.length - 10;
  let line = '';
  for (const member of room.members.keys()) {
    if (member.state === 'closing') continue;
    const entry = room.prefixOf(member, multi) + (full ? member.prefix : member.nick);
    if (line !== '' && Buffer.byteLength(line) + 1 + Buffer.byteLength(entry) > budget) {
      session.numeric(N.RPL_NAMREPLY, symbol, room.name, line);
      line = entry;
    } else {
      line = line === '' ? entry : `${line} ${entry}`;
    }
  }
  if (line !== '') session.numeric(N.RPL_NAMREPLY, symbol, room.name, line);
  session.numeric(N.RPL_ENDOFNAMES, room.name, 'End of /NAMES list');
}

// LIST [<room>{,<room>}] [<elist condition>]   (ELIST=U: >n and <n on member counts)
export function LIST({ server, session, params }: CommandContext): void {
  let names: string[] | null = null;
  let min = -1;
  let max = Infinity;
  for (const param of params) {
    if (/^>\d+$/.test(param)) min = Number(param.slice(1));
    else if (/^<\d+$/.test(param)) max = Number(param.slice(1));
    else names = param.split(',').map(foldCase);
  }
  session.numeric(N.RPL_LISTSTART, 'Channel', 'Users  Name');
  const rooms = names ? names.map((key) => server.rooms.get(key)).filter((r): r is Room => !!r) : server.rooms.values();
  let left = server.config.limits.list_max_results;
  for (const room of rooms) {
    const size = room.members.size;
    if (size <= min || size >= max) continue;
    if (room.flags.has('s') && !room.members.has(session)) continue;
    if (left-- === 0) {
      session.numeric(N.ERR_TOOMANYMATCHES, 'LIST', 'Output too large, truncated');
      break;
    }
    session.numeric(N.RPL_LIST, room.name, String(size), room.topic?.text ?? '');
  }
  session.numeric(N.RPL_LISTEND, 'End of /LIST');
}

// KICK <room>{,<room>} <nick>{,<nick>} [<reason>]
// RFC 2812 3.2.8: one room and several nicks, or as many rooms as nicks, taken in pairs; any
// other shape is ERR_NEEDMOREPARAMS. Each kick goes out as its own KICK with one nick.
export function KICK({ server, session, params }: CommandContext): void {
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
  server.forEachTarget(session, 'KICK', nicks, (nick, i) => {
    const room = single ?? opIn(rooms[i]!);
    const target = server.findNick(nick);
    if (!target) throw numericError(N.ERR_NOSUCHNICK, nick, 'No such nick/channel');
    if (!room.members.has(target)) throw numericError(N.ERR_USERNOTINCHANNEL, target.nick, room.name, "They aren't on that channel");
    leaveRoom(server, target, room, 'KICK', [room.name, target.nick, reason], session);
  });
}

// INVITE <nick> <room>
export function INVITE({ server, session, params }: CommandContext): void {
  const [nick, name] = params as [string, string];
  const target = server.findNick(nick);
  if (!target) throw numericError(N.ERR_NOSUCHNICK, nick, 'No such nick/channel');
  const room = requireMembership(server, session, name);
  if (room.members.has(target)) throw numericError(N.ERR_USERONCHANNEL, target.nick, room.name, 'is already on channel');
  if (room.flags.has('i')) requireOp(room, session);
  target.addInvite(room.key);
  session.numeric(N.RPL_INVITING, target.nick, room.name);
  const out = server.event(session, 'INVITE', [target.nick, room.name]);
  target.deliver(out);
  if (target.away !== null) session.numeric(N.RPL_AWAY, target.nick, target.away);
  // invite-notify: tell the members who could have invited too (ops, when the room is +i).
  for (const member of room.members.keys()) {
    if (member === session || !member.has('invite-notify')) continue;
    if (room.flags.has('i') && !room.isOp(member)) continue;
    member.deliver(out);
  }
}
