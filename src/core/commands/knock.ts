import * as N from '../../protocol/numerics.js';
import { numericError } from '../errors.js';
import type { Room } from '../room.js';
import type { Session } from '../session.js';
import type { CommandContext } from './context.js';
import { requireRoom } from './rooms.js';

/** One KNOCK per user per 5 minutes, and one per room per minute (Solanum's defaults). */
export const KNOCK_USER_DELAY_MS = 5 * 60_000;
export const KNOCK_ROOM_DELAY_MS = 60_000;

// The last knock of each user and at each room. Weak maps: forgotten with the session or room,
// no field on either for a command most never use.
const lastByUser = new WeakMap<Session, number>();
const lastAtRoom = new WeakMap<Room, number>();

// KNOCK <room> [<message>]   (irssi's /KNOCK; numerics and rules of charybdis/Solanum m_knock)
// Asks the room's operators for an invitation to a room one cannot join as it is: +i, +k, or
// +l and full. Refused to members (714), at an open room (713), to the banned (404), and more
// often than the delays above (712; operators are exempt from the per-user delay). The ops get
// `:<server> 710 <room> <room> <nick!user@host> :has asked for an invite.`
export function KNOCK({ server, session, params }: CommandContext): void {
  const room = requireRoom(server, params[0]!.split(',')[0]!);
  if (room.members.has(session)) throw numericError(N.ERR_KNOCKONCHAN, room.name, "You're already on that channel.");
  const full = room.limit !== null && room.size >= room.limit;
  if (!room.flags.has('i') && room.password === null && !full) throw numericError(N.ERR_CHANOPEN, room.name, 'Channel is open.');
  if (room.isBanned(session)) throw numericError(N.ERR_CANNOTSENDTOCHAN, room.name, 'Cannot send to channel (banned)');
  const now = Date.now();
  if (!session.oper && now < (lastByUser.get(session) ?? -Infinity) + KNOCK_USER_DELAY_MS) {
    throw numericError(N.ERR_TOOMANYKNOCK, room.name, 'Too many KNOCKs (user).');
  }
  if (now < (lastAtRoom.get(room) ?? -Infinity) + KNOCK_ROOM_DELAY_MS) throw numericError(N.ERR_TOOMANYKNOCK, room.name, 'Too many KNOCKs (channel).');
  lastByUser.set(session, now);
  lastAtRoom.set(room, now);
  session.numeric(N.RPL_KNOCKDLVR, room.name, 'Your KNOCK has been delivered.');
  const message = params[1] ? `has asked for an invite: ${params[1]}` : 'has asked for an invite.';
  const out = server.event(server.name, N.RPL_KNOCK, [room.name, room.name, session.prefix, message]);
  for (const member of room.members.keys()) if (room.isOp(member)) member.deliver(out);
}
