import { foldCase } from '../../protocol/index.js';
import { Outgoing } from '../outgoing.js';
import type { Server } from '../server.js';
import type { Session } from '../session.js';
import { isoTime } from './refs.js';

export const READ_MARKER_CAP = 'draft/read-marker';

/**
 * draft/read-marker: one marker per (account, target), target folded (a room or a nick). The
 * store only moves a marker forward (ReadMarkerStore.set returns what is stored).
 */
export function markerMessage(server: Server, target: string, time: number | null): Outgoing {
  return new Outgoing({
    source: server.name,
    command: 'MARKREAD',
    params: [target, time === null ? '*' : `timestamp=${isoTime(time)}`],
  });
}

export function getMarker(server: Server, account: string, target: string): Promise<number | null> {
  return server.store.readMarkers.get(account, foldCase(target));
}

/**
 * Move the marker and tell every connection of the account that negotiated the cap, the other
 * connections of the asking user too (multiclient.ts); the asking one always: the spec requires
 * a reply, with the newer stored value if the time was older. Returns the stored time.
 */
export async function setMarker(server: Server, session: Session, account: string, target: string, time: number): Promise<number> {
  const stored = await server.store.readMarkers.set(account, foldCase(target), time);
  const out = markerMessage(server, target, stored);
  session.send(out);
  // An older time than the stored one changes nothing: only the asker hears about it.
  if (stored !== time) return stored;
  session.deliverToOthers(READ_MARKER_CAP, out);
  for (const other of server.accounts.sessionsByAccount.get(account) ?? []) {
    if (other !== session && other.has(READ_MARKER_CAP)) other.deliver(out);
  }
  return stored;
}
