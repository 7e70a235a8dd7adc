/**
 * A user's displayed host changes (an operator's CHGHOST, on whichever node the user is), and
 * everyone who sees the user is told as IRCv3 chghost says: `:<old prefix> CHGHOST <user>
 * <host>` to clients that negotiated `chghost`; to the others the change is shown the only
 * way they can follow it, as the user quitting and joining each shared room again (with its
 * +o/+v and its away state), so their idea of the user's address stays right.
 *
 * Where it goes: this node's members of the user's rooms here; the shared record (WHOIS, WHO
 * elsewhere) and a `user` event with `host` in each of its rooms' logs, so other nodes' copies
 * follow and tell their members the same way (room-events.ts `applyUser`); and the network log,
 * for extended-monitor watchers sharing no room (network-log.ts).
 */
import * as N from '../protocol/numerics.js';
import { line } from './room-events.js';
import { MEMBER_OP, MEMBER_VOICE, type Room } from './room.js';
import type { Server } from './server.js';
import type { Session } from './session.js';
import type { Outgoing } from './outgoing.js';

/** A host as CHGHOST takes it: letters, digits, `.`, `-`, `:` and `/`, not starting with `-`, `:` or `.`; 1 to 63 characters. */
const HOST_PATTERN = /^[A-Za-z0-9/][A-Za-z0-9.:/-]{0,62}$/;

export const CHGHOST_CAP = 'chghost';
export const CHANGING_HOST_REASON = 'Changing host';

export function isValidHost(host: string): boolean {
  return HOST_PATTERN.test(host);
}

/** Changes `session`'s host here and tells the network. Nothing happens for the host it has. */
export function changeHost(server: Server, session: Session, host: string): void {
  if (session.host === host) return;
  const before = session.prefix;
  session.host = host;
  server.users.update(session, { host }, before);
  const time = Date.now();
  const told = new Set<Session>([session]);
  for (const room of session.rooms) {
    for (const member of room.members.keys()) {
      if (member === session) continue;
      showHostChange(server.name, member, room, told, { before, user: session.user, host, flags: room.members.get(session) ?? 0, away: session.away, account: session.account, realname: session.realname }, time);
    }
  }
  session.numeric(N.RPL_VISIBLEHOST, host, 'is now your displayed host');
  if (session.has(CHGHOST_CAP)) session.send(line(before, 'CHGHOST', [session.user, host], time, session.account));
}

export interface HostChange {
  /** The user's `nick!user@host` before. */
  before: string;
  user: string;
  host: string;
  /** Its MEMBER_* flags in the room shown. */
  flags: number;
  away: string | null;
  account: string | null;
  realname: string;
}

/**
 * Shows one member the change in one room: CHGHOST once for the capable (`told` holds those
 * told already), else QUIT once and JOIN (MODE, AWAY) again in each room.
 */
export function showHostChange(serverName: string, member: Session, room: Room, told: Set<Session>, change: HostChange, time: number): void {
  if (member.has(CHGHOST_CAP)) {
    if (told.has(member)) return;
    told.add(member);
    member.deliver(line(change.before, 'CHGHOST', [change.user, change.host], time, change.account));
    return;
  }
  if (!told.has(member)) {
    told.add(member);
    member.deliver(line(change.before, 'QUIT', [CHANGING_HOST_REASON], time, change.account));
  }
  for (const out of rejoinLines(serverName, member, room, change, time)) member.deliver(out);
}

function rejoinLines(serverName: string, member: Session, room: Room, change: HostChange, time: number): Outgoing[] {
  const nick = change.before.slice(0, change.before.indexOf('!'));
  const source = `${nick}!${change.user}@${change.host}`;
  const params = member.has('extended-join') ? [room.name, change.account ?? '*', change.realname] : [room.name];
  const lines = [line(source, 'JOIN', params, time, change.account)];
  const modes = (change.flags & MEMBER_OP ? 'o' : '') + (change.flags & MEMBER_VOICE ? 'v' : '');
  if (modes) lines.push(line(serverName, 'MODE', [room.name, `+${modes}`, ...[...modes].map(() => nick)], time, null));
  if (change.away !== null && member.has('away-notify')) lines.push(line(source, 'AWAY', [change.away], time, change.account));
  return lines;
}
