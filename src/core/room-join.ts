/**
 * JOIN decided network-wide (issue 14 step 2, point 3). The room's shared state is read
 * (`room()`: state, members and log position together), key, +i, invite, bans and the limit
 * are checked here against that version, and `join` is a compare-and-set on it, with the JOIN
 * sequenced into the room's log in the same step. A change in between (`stale`) means checking
 * again against the state it returns, a few times at most. The joiner's JOIN, topic and NAMES
 * come when the log delivers the JOIN (room-events.ts), after every change before it.
 */
import { foldCase, isValidRoomName } from '../protocol/index.js';
import * as N from '../protocol/numerics.js';
import type { JoinEvent } from '../cluster/events.js';
import { failError, numericError } from './errors.js';
import { forgetInvitation } from './invite-list.js';
import { fieldsOf, inviteField, resetFields, roomFromSnapshot } from './room-fields.js';
import { MEMBER_OP, Room } from './room.js';
import type { Server } from './server.js';
import type { Session } from './session.js';
import { welcomeToRoom } from './commands/rooms.js';
import { RENAME_CAP } from './caps.js';

/** Compare-and-set attempts before JOIN gives up with FAIL (each lost one means the room changed). */
const JOIN_ATTEMPTS = 5;

/**
 * The room joined (and whether this join created it), or null if the session already was a
 * member. The old name of a renamed room (draft/channel-rename) is FAIL JOIN CHANNEL_RENAMED
 * for a client with the cap (it joins the new name itself); for the others 470 and the join of
 * the new name, once (`redirected`).
 */
export async function joinRoom(server: Server, session: Session, name: string, key: string | undefined, redirected = false): Promise<{ room: Room; created: boolean } | null> {
  if (!isValidRoomName(name, server.config.limits.channel_length)) {
    throw numericError(N.ERR_NOSUCHCHANNEL, name, 'No such channel');
  }
  const folded = foldCase(name);
  if (server.rooms.get(folded)?.members.has(session)) return null;
  if (session.rooms.size >= server.config.limits.channels_per_user) {
    throw numericError(N.ERR_TOOMANYCHANNELS, name, 'You have joined too many channels');
  }
  server.roomCopies.beginJoin(folded);
  let renamedTo: string;
  try {
    const decided = await decide(server, session, name, key);
    if (decided === null || 'room' in decided) return decided;
    renamedTo = decided.renamedTo;
  } finally {
    server.roomCopies.endJoin(folded);
  }
  if (session.has(RENAME_CAP)) throw failError('JOIN', 'CHANNEL_RENAMED', name, renamedTo, 'The channel has been renamed');
  session.numeric(N.ERR_LINKCHANNEL, name, renamedTo, 'The channel has been renamed');
  if (redirected) return null;
  return joinRoom(server, session, renamedTo, key, true);
}

async function decide(server: Server, session: Session, name: string, key: string | undefined): Promise<{ room: Room; created: boolean } | { renamedTo: string } | null> {
  const { state } = server.cluster;
  const invitation = inviteField(session.uid);
  // Members' details only for a first local member: it starts this node's copy from them.
  let snapshot = await state.room(name, { details: !server.rooms.has(foldCase(name)) });
  for (let attempt = 0; attempt < JOIN_ATTEMPTS; attempt++) {
    if (session.state === 'closing') return null;
    let created: Room | null = null;
    let flags: number;
    // An invitation anywhere on the network (commands/rooms.ts INVITE) is a field of the room.
    const invited = snapshot !== null && invitation in snapshot.fields;
    if (snapshot) {
      checkCanJoin(roomFromSnapshot(snapshot, () => undefined, () => {}), session, key, invited);
      flags = joinFlags(server, session, foldCase(name), false);
    } else {
      created = new Room(name);
      server.roomRegistry.restore(created);
      created.version = 1;
      flags = joinFlags(server, session, created.key, true);
    }
    const announce = joinEvent(server, session, flags);
    // An invitation lets in once, as on one server: used up in the join's own step.
    if (invited) announce.del = [invitation];
    const result = await state.join(name, session.uid, {
      flags,
      expectVersion: snapshot ? snapshot.version : null,
      create: created ? { fields: fieldsOf(created), flags } : undefined,
      del: announce.del,
      announce,
    });
    if (result.ok) {
      const { room, delivered } = await server.roomCopies.joined(name, result.stamp!.seq, snapshot, created);
      forgetInvitation(session, name);
      if (!room || !room.members.has(session)) return null; // left again meanwhile (a KICK, a QUIT)
      if (result.created && created && room !== created) resetFields(room, fieldsOf(created));
      // Another local join's snapshot held this one: the log never delivered it here.
      if (!delivered) welcomeHere(server, session, room, announce);
      return { room, created: result.created };
    }
    if (result.reason === 'stale') {
      snapshot = result.room;
      continue;
    }
    if (result.reason === 'full') throw numericError(N.ERR_CHANNELISFULL, name, 'Cannot join channel (+l)');
    if (result.reason === 'already-member') return null;
    if (result.reason === 'renamed') return { renamedTo: result.name };
    snapshot = await state.room(name); // 'absent': it vanished between the read and the join
  }
  throw failError('JOIN', 'TEMPORARILY_UNAVAILABLE', name, 'The room kept changing while joining; try again');
}

/** The JOIN sequenced into the room's log: what other nodes need to show the member. */
export function joinEvent(server: Server, session: Session, flags: number): JoinEvent {
  return {
    v: 1, origin: server.cluster.nodes.id, kind: 'join', uid: session.uid, source: session.prefix,
    account: session.account, realname: session.realname, flags, away: session.away,
  };
}

function checkCanJoin(room: Room, session: Session, key: string | undefined, invited: boolean): void {
  if (room.isBanned(session) && !invited) throw numericError(N.ERR_BANNEDFROMCHAN, room.name, 'Cannot join channel (+b)');
  if (room.flags.has('i') && !invited && !room.isInviteExempt(session)) throw numericError(N.ERR_INVITEONLYCHAN, room.name, 'Cannot join channel (+i)');
  if (room.password !== null && key !== room.password) {
    throw numericError(N.ERR_BADCHANNELKEY, room.name, 'Cannot join channel (+k)');
  }
  // The shared state counts the limit again atomically ('full'); this answers without a write.
  if (room.limit !== null && room.size >= room.limit) {
    throw numericError(N.ERR_CHANNELISFULL, room.name, 'Cannot join channel (+l)');
  }
}

/** Registered rooms op their founder and operators only; other rooms their creator. */
function joinFlags(server: Server, session: Session, key: string, creating: boolean): number {
  const registration = server.roomRegistry.get(key);
  if (!registration) return creating ? MEMBER_OP : 0;
  const account = session.accountKey;
  return account && (account === registration.founder || registration.operators.includes(account)) ? MEMBER_OP : 0;
}

/** The joiner's own JOIN, topic and NAMES when its JOIN was not delivered here. */
function welcomeHere(server: Server, session: Session, room: Room, event: JoinEvent): void {
  session.eachConnection(() => {
    const params = session.has('extended-join') ? [room.name, event.account ?? '*', event.realname] : [room.name];
    session.send(server.event(session, 'JOIN', params));
    welcomeToRoom(server, session, room);
  });
}
