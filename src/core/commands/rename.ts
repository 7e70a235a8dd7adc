import { fitLastParam, foldCase, isValidRoomName } from '../../protocol/index.js';
import * as N from '../../protocol/numerics.js';
import type { RoomRenameEvent } from '../../cluster/events.js';
import { failError, numericError } from '../errors.js';
import { MEMBER_OP } from '../room.js';
import { moveHistory } from '../room-rename.js';
import type { CommandContext } from './context.js';
import { requireMembership, requireOp } from './rooms.js';

// RENAME <room> <new name> [<reason>]   (draft/channel-rename)
// A room operator renames the room network-wide (cluster/state.ts renameRoom); members are told
// at the rename's turn in the room's log (core/room-rename.ts), then its history and read
// markers move to the new name. Refused: a name that is not a room name, another prefix, a
// name taken (a room, a registration, stored history of an earlier room, or another room's old
// name still redirecting), and a second rename within `limits.room_rename_interval_seconds`
// (IRC operators are exempt from that one).
export async function RENAME({ server, session, params }: CommandContext): Promise<void> {
  const [fromName, to] = [params[0]!, params[1]!];
  const room = requireMembership(server, session, fromName);
  requireOp(room, session);
  const { limits } = server.config;
  // What cannot be a middle parameter (empty, spaces, a leading ':') is shown as `*`.
  const shown = /^[^\s:][^\s]*$/.test(to) ? to : '*';
  const refuse = (code: string, text: string) => failError('RENAME', code, room.name, shown, text);
  if (!isValidRoomName(to, limits.channel_length)) throw refuse('CANNOT_RENAME', `Not a valid room name (up to ${limits.channel_length} characters, no spaces, commas or control characters)`);
  if (to[0] !== room.name[0]) throw refuse('CANNOT_RENAME', 'You cannot change the prefix of a room');
  if (to === room.name) throw refuse('CANNOT_RENAME', 'The room already has that name');
  const now = server.clock();
  const wait = room.renamedAt + limits.room_rename_interval_seconds * 1000 - now;
  if (wait > 0 && !session.oper) throw refuse('CANNOT_RENAME', `This room was renamed recently; try again in ${Math.ceil(wait / 60_000)} minute(s)`);
  const key = foldCase(to);
  if (key !== room.key) {
    if (server.roomRegistry.get(key)) throw refuse('CHANNEL_NAME_IN_USE', 'That name is registered to another room');
    // An earlier room of that name left history: the renamed room would take it over.
    const store = await server.history.read();
    if ((await store.latest(key, 1, undefined, { events: true })).length > 0) throw refuse('CHANNEL_NAME_IN_USE', 'An earlier room of that name has history here');
  }
  // Cut as the line will be, with the longer of the two names' lines: what is kept is what was sent.
  const reason = fitLastParam(session.prefix, 'RENAME', [room.name, to, params[2] ?? ''])[2]!;
  const announce: RoomRenameEvent = {
    v: 1, origin: server.cluster.nodes.id, kind: 'rename', from: room.name, name: to, by: session.prefix,
    actor: session.uid, account: session.account, reason, set: { renamed: String(now) },
  };
  const result = await server.cluster.state.renameRoom(room.name, to, {
    by: { uid: session.uid, anyOf: MEMBER_OP }, set: announce.set, redirectSeconds: limits.room_rename_redirect_seconds, announce,
  });
  if (!result.ok) {
    if (result.reason === 'not-allowed') throw numericError(N.ERR_CHANOPRIVSNEEDED, room.name, "You're not channel operator");
    if (result.reason === 'in-use') throw refuse('CHANNEL_NAME_IN_USE', 'The channel name is already taken');
    throw numericError(N.ERR_NOSUCHCHANNEL, room.name, 'No such channel');
  }
  await server.roomRegistry.rename(room.key, { key, name: to }).catch((err: unknown) => {
    server.logger.error('moving a renamed room\'s registration failed', { from: room.key, to: key, err });
  });
  await server.roomCopies.applied(room.key, result.stamp.seq);
  moveHistory(server, room.key, key, to);
}
