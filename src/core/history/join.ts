import type { Room } from '../room.js';
import type { Server } from '../server.js';
import type { Session } from '../session.js';
import { fitLastParam } from '../../protocol/line-fit.js';
import type { StoredMessage } from '../../store/store.js';
import { getMarker, markerMessage, READ_MARKER_CAP } from './read-markers.js';
import { sendHistory } from './replay.js';
import { lastLeft } from './seen.js';
import { withTimePrefix } from './time-prefix.js';

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
 * original server-time (chathistory clients ask with CHATHISTORY instead). Only what this client
 * has not seen: after the account's read marker and after this connection last left the room
 * (seen.ts), whichever is later. Without server-time each line says its time in the text
 * (time-prefix.ts). Returns nothing when there is nothing to do, so JOIN stays synchronous for
 * most clients.
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
      const marker =
        session.accountKey === null || (!deferred && !wantsReplay)
          ? null
          : await getMarker(server, session.accountKey, room.name).catch((err: unknown) => {
              server.logger.error('read marker lookup failed', { room: room.key, err });
              return null;
            });
      if (!room.members.has(session)) continue;
      if (deferred) {
        session.send(markerMessage(server, room.name, marker));
        sendNames(server, session, room);
      }
      if (!wantsReplay) continue;
      try {
        // A message in the very millisecond of leaving may have come after it: replayed (the
        // store's bound is exclusive), as one repeated line beats one lost.
        const left = lastLeft(session, room.key);
        const seen = Math.max(marker ?? -Infinity, left === null ? -Infinity : left - 1);
        const messages = await (await server.history.read()).latest(room.key, replay, Number.isFinite(seen) ? { time: seen } : undefined);
        if (!room.members.has(session)) continue;
        sendHistory(server, session, room.name, session.has('server-time') ? messages : messages.map((m) => timed(m, Date.now())), false);
      } catch (err) {
        server.logger.error('join replay failed', { room: room.key, err });
      }
    }
  })();
}

/** The message with its time at the start of its text, cut to fit its line again. */
function timed(message: StoredMessage, now: number): StoredMessage {
  const text = withTimePrefix(message.text, message.time, now);
  return { ...message, text: fitLastParam(message.source, message.command, [message.target, text])[1]! };
}
