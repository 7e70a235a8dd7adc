/**
 * What a connection has already seen of a room it left: everything up to when it left (the
 * JOIN replay, then the room live). A client without draft/chathistory gets on its next JOIN
 * only what came after (history/join.ts), so /part and /join does not play the same lines
 * again. Per connection, gone with the session, at most MAX_ROOMS rooms (the oldest forgotten).
 */
import type { Session } from '../session.js';

const MAX_ROOMS = 64;

const leftAt = new WeakMap<Session, Map<string, number>>();

/** The session left the room (PART, KICK, JOIN 0) at `time` (ms). */
export function rememberLeaving(session: Session, roomKey: string, time: number): void {
  let rooms = leftAt.get(session);
  if (!rooms) leftAt.set(session, (rooms = new Map()));
  // Re-inserted at the end: the map's order is the order of leaving.
  rooms.delete(roomKey);
  rooms.set(roomKey, time);
  if (rooms.size > MAX_ROOMS) rooms.delete(rooms.keys().next().value!);
}

/** When the session last left the room, or null if it has not (on this connection). */
export function lastLeft(session: Session, roomKey: string): number | null {
  return leftAt.get(session)?.get(roomKey) ?? null;
}
