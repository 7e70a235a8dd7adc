import type { Room } from '../room.js';
import type { Server } from '../server.js';
import type { Session } from '../session.js';
import { getMarker, markerMessage, READ_MARKER_CAP } from './read-markers.js';
import { sendHistory } from './replay.js';

export const CHATHISTORY_CAP = 'draft/chathistory';

/**
 * Called by JOIN just before NAMES. draft/read-marker wants MARKREAD after the JOIN and before
 * RPL_ENDOFNAMES. Without an account the answer is `*`, sent now; with one it needs the store,
 * so NAMES is deferred to `afterJoin` (returns true) and the synchronous JOIN stays as it was.
 */
export function deferNames(server: Server, session: Session, room: Room): boolean {
  if (!session.has(READ_MARKER_CAP)) return false;
  if (session.accountKey !== null) return true;
  session.send(markerMessage(server, room.name, null));
  return false;
}

/**
 * The asynchronous end of JOIN, per joined room in order: the deferred MARKREAD and NAMES, then
 * for a client without draft/chathistory the last `history.replay_on_join` messages with their
 * original server-time (chathistory clients ask with CHATHISTORY instead). Returns nothing when
 * there is nothing to do, so JOIN stays synchronous for most clients.
 */
export function afterJoin(
  server: Server,
  session: Session,
  rooms: Room[],
  sendNames: (server: Server, session: Session, room: Room) => void,
): Promise<void> | void {
  const deferred = session.has(READ_MARKER_CAP) && session.accountKey !== null;
  const replay = server.config.history.replay_on_join;
  const wantsReplay = replay > 0 && !session.has(CHATHISTORY_CAP);
  if (rooms.length === 0 || (!deferred && !wantsReplay)) return;
  return (async () => {
    for (const room of rooms) {
      // Kicked (or parted by another path) while waiting on the store: nothing more to say.
      if (!room.members.has(session)) continue;
      if (deferred) {
        const marker = await getMarker(server, session.accountKey!, room.name).catch((err: unknown) => {
          server.logger.error('read marker lookup failed', { room: room.key, err });
          return null;
        });
        if (!room.members.has(session)) continue;
        session.send(markerMessage(server, room.name, marker));
        sendNames(server, session, room);
      }
      if (!wantsReplay) continue;
      try {
        const messages = await (await server.history.read()).latest(room.key, replay);
        if (room.members.has(session)) sendHistory(server, session, room.name, messages, false);
      } catch (err) {
        server.logger.error('join replay failed', { room: room.key, err });
      }
    }
  })();
}
