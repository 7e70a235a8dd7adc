/**
 * INVITE with no parameters: the rooms one has been invited to and may still use the
 * invitation for (RPL_INVITELIST 336, RPL_ENDOFINVITELIST 337). The invitation itself lives in
 * the room's shared state (`i:<uid>`, room-fields.ts), on whichever node; the invited user's
 * session remembers where it was invited as the INVITE reaches it, and the listing checks each
 * against the room (this node's copy, or the shared state) so a used, pushed-out or vanished
 * invitation is not shown.
 */
import * as N from '../protocol/numerics.js';
import { foldCase } from '../protocol/index.js';
import { inviteField } from './room-fields.js';
import type { Server } from './server.js';
import type { Session } from './session.js';

/** Rooms a session remembers invitations to; past it the oldest is forgotten. */
export const MAX_REMEMBERED_INVITATIONS = 100;

export function rememberInvitation(session: Session, room: string): void {
  const invited = (session.invitedTo ??= new Map());
  const key = foldCase(room);
  invited.delete(key);
  invited.set(key, room);
  if (invited.size > MAX_REMEMBERED_INVITATIONS) invited.delete(invited.keys().next().value!);
}

export function forgetInvitation(session: Session, room: string): void {
  session.invitedTo?.delete(foldCase(room));
}

export async function sendInviteList(server: Server, session: Session): Promise<void> {
  const remembered = [...(session.invitedTo ?? new Map<string, string>()).values()];
  const valid = await Promise.all(remembered.map((name) => stillInvited(server, session, name)));
  remembered.forEach((name, i) => {
    if (valid[i]) session.numeric(N.RPL_INVITELIST, name);
    else forgetInvitation(session, name);
  });
  session.numeric(N.RPL_ENDOFINVITELIST, 'End of /INVITE list');
}

async function stillInvited(server: Server, session: Session, name: string): Promise<boolean> {
  const copy = server.findRoom(name);
  if (copy) return copy.invites.has(session.uid) && !copy.members.has(session);
  const snapshot = await server.cluster.state.room(name, { details: false });
  return snapshot !== null && inviteField(session.uid) in snapshot.fields && !snapshot.members.has(session.uid);
}
