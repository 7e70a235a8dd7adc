/**
 * RENAME (draft/channel-rename) at its turn in the old name's log, on every node with a copy,
 * and what follows it on the renaming node: the room's history moved to the new name.
 *
 * The shared state moved the room in one step (cluster/state.ts renameRoom) and sequenced the
 * event into the old name's log, so every node sees it after everything said under the old
 * name before it. At that turn a change of case only renames the copy; any other rename makes
 * a new copy under the new key (Room.key is what every map and log of the room is keyed by),
 * moves the members into it and follows the new name's log from the position the event carries
 * (RoomCopies.move, which also meets a copy this node already holds under the new key).
 * The old copy is left without members and dropped, and its log unfollowed, as when the last
 * member leaves.
 *
 * Members that negotiated draft/channel-rename see `RENAME <old> <new> :<reason>`; the others
 * the spec's fallback: their own PART of the old name, then JOIN of the new one with its topic
 * and NAMES (for a change of case too, or their client would go on showing the old case).
 *
 * What a rename cannot do at once: a message another node's user sent to the old name just as
 * it was renamed (in the old log after the event) reaches no one live; its node stores it
 * under the old name, and the second move of the history (MOVE_AGAIN_MS later) puts it in the
 * renamed room's history. The old name cannot be taken by a new room meanwhile: it redirects
 * for `limits.room_rename_redirect_seconds` (at least a minute).
 */
import { foldCase } from '../protocol/index.js';
import type { Delivery, RoomRenameEvent } from '../cluster/events.js';
import { RENAME_CAP } from './caps.js';
import { applyFields } from './room-fields.js';
import { line } from './room-events.js';
import type { Room } from './room.js';
import type { Server } from './server.js';
import type { Session } from './session.js';
import { welcomeToRoom } from './commands/rooms.js';

/** When the history is moved a second time, for messages stored under the old name meanwhile. */
export const MOVE_AGAIN_MS = 10_000;

type EventDelivery = Extract<Delivery, { type: 'event' }>;

export function applyRename(server: Server, room: Room, event: RoomRenameEvent, delivery: EventDelivery): void {
  applyFields(room, event.set, []);
  if (delivery.stamp.version !== undefined) room.version = delivery.stamp.version;
  const from = room.name;
  let renamed = room;
  let moved = [...room.members.keys()];
  if (foldCase(event.name) === room.key) room.name = event.name;
  else ({ copy: renamed, moved } = server.roomCopies.move(room, event.name, event.after ?? 0));
  const { time } = delivery.stamp;
  const told = line(event.by, 'RENAME', [from, renamed.name, event.reason], time, event.account);
  for (const member of moved) {
    member.eachConnection(() => {
      if (member.has(RENAME_CAP)) member.deliver(told);
      else showAsRejoin(server, member, renamed, from, event.reason, time);
    });
  }
}

/** The fallback: the member's own PART of the old name, its JOIN of the new one, topic and NAMES. */
function showAsRejoin(server: Server, member: Session, room: Room, from: string, reason: string, time: number): void {
  member.deliver(line(member.prefix, 'PART', reason === '' ? [from] : [from, reason], time, member.account));
  const params = member.has('extended-join') ? [room.name, member.account ?? '*', member.realname] : [room.name];
  member.deliver(line(member.prefix, 'JOIN', params, time, member.account));
  welcomeToRoom(server, member, room);
}

/**
 * The renaming node, once the rename is applied here: history and read markers under the old
 * key become the new key's, now and again a little later. Runs in the background (a large room
 * moves in paced batches); a failure is logged and the second run tries again. Each run moves
 * only while no room has the old name (a quick rename back by an operator, or a new room after
 * the redirect ended, has its own history there).
 */
export function moveHistory(server: Server, from: string, to: string, name: string): void {
  const move = async () => {
    if ((await server.cluster.state.room(from, { details: false })) !== null) return 0;
    await server.history.flush();
    const store = await server.history.read();
    const moved = await store.moveConversation(from, to, name);
    await server.store.readMarkers.move(from, to);
    return moved;
  };
  const run = (again: boolean) =>
    move().then(
      (moved) => {
        if (moved > 0) server.logger.info('room history moved to its new name', { from, to, moved, again });
      },
      (err: unknown) => server.logger.error("moving a renamed room's history failed", { from, to, err, again }),
    );
  void run(false).then(() => {
    if (server.stopped) return;
    const timer = setTimeout(() => {
      pendingMoves.get(server)?.delete(timer);
      void run(true);
    }, MOVE_AGAIN_MS);
    timer.unref();
    let timers = pendingMoves.get(server);
    if (!timers) pendingMoves.set(server, (timers = new Set()));
    timers.add(timer);
  });
}

/** Second moves not yet run, per server: a server that stops drops them (Server.shutdown). */
const pendingMoves = new WeakMap<Server, Set<NodeJS.Timeout>>();

export function dropPendingMoves(server: Server): void {
  for (const timer of pendingMoves.get(server) ?? []) clearTimeout(timer);
  pendingMoves.delete(server);
}
