import { foldCase, isValidRoomName, uniqueNames } from '../../protocol/index.js';
import * as N from '../../protocol/numerics.js';
import { MAX_NAME_LENGTH } from '../../cluster/keys.js';
import type { ListedRoom } from '../../cluster/state.js';
import type { Server } from '../server.js';
import type { Session } from '../session.js';
import type { CommandContext } from './context.js';
import { outputRead } from './output-wait.js';

/** Rooms read from the shared state per round trip. */
const LIST_PAGE = 100;
/**
 * A LIST reads at most this many rooms per line it may send (limits.list_max_results), at least
 * MIN_SCAN: a filter that matches few rooms of a huge network stops there with
 * ERR_TOOMANYMATCHES rather than reading every room in Redis.
 */
const SCAN_PER_RESULT = 100;
const MIN_SCAN = 10_000;

interface ListFilter {
  /** Folded names asked for, or null for every room. */
  names: string[] | null;
  /** Member counts shown: strictly above min and below max (ELIST=U). */
  min: number;
  max: number;
}

// LIST [<room>{,<room>}] [<elist condition>]   (ELIST=U: >n and <n on member counts)
// Every room of the network, in folded-name order, read from the shared state in bounded pages;
// a secret (+s) room only for its members. The reply stops at limits.list_max_results lines
// with ERR_TOOMANYMATCHES, and each page waits until the client has read its output down to
// SendQ (output-wait.ts), so a client that does not read holds at most SendQ and one page
// however many rooms there are. The session's later commands wait for it (input-gate.ts), so
// one client runs one LIST at a time.
export function LIST({ server, session, params }: CommandContext): Promise<void> {
  const filter: ListFilter = { names: null, min: -1, max: Infinity };
  for (const param of params) {
    if (/^>\d+$/.test(param)) filter.min = Number(param.slice(1));
    else if (/^<\d+$/.test(param)) filter.max = Number(param.slice(1));
    else filter.names = uniqueNames(param.split(',')).map(foldCase);
  }
  session.numeric(N.RPL_LISTSTART, 'Channel', 'Users  Name');
  let left = server.config.limits.list_max_results;
  /** Sends one room if the filter and visibility allow it; false once the reply is full. */
  const offer = (room: ListedRoom): boolean => {
    if (room.count <= filter.min || room.count >= filter.max) return true;
    if (room.modes.includes('s') && !server.findRoom(room.name)?.members.has(session)) return true;
    if (left-- === 0) {
      session.numeric(N.ERR_TOOMANYMATCHES, 'LIST', 'Output too large, truncated');
      return false;
    }
    session.numeric(N.RPL_LIST, room.name, String(room.count), topicText(room.topic));
    return true;
  };
  const listing = filter.names ? listNamed(server, filter.names, offer) : listAll(server, session, offer);
  return listing.finally(() => session.numeric(N.RPL_LISTEND, 'End of /LIST'));
}

/** Every room, page by page, until the end, a full reply, or the scan's bound. */
async function listAll(server: Server, session: Session, offer: (room: ListedRoom) => boolean): Promise<void> {
  const budget = Math.max(MIN_SCAN, SCAN_PER_RESULT * server.config.limits.list_max_results);
  let cursor: string | null = null;
  let read = 0;
  do {
    await outputRead(server, session);
    const page: { rooms: ListedRoom[]; next: string | null } = await server.cluster.state.listRooms(cursor, LIST_PAGE);
    if (session.state === 'closing') return;
    for (const room of page.rooms) if (!offer(room)) return;
    read += page.rooms.length;
    cursor = page.next;
  } while (cursor !== null && read < budget);
  if (cursor !== null) session.numeric(N.ERR_TOOMANYMATCHES, 'LIST', 'Too many rooms to search, truncated');
}

/**
 * The rooms named, in the order given: this node's copy when it has one, else the shared
 * state's (one read each, without members' details). Names no room can have cost nothing.
 */
async function listNamed(server: Server, names: string[], offer: (room: ListedRoom) => boolean): Promise<void> {
  for (const key of names.slice(0, server.config.limits.list_max_results + 1)) {
    const copy = server.findRoom(key);
    let room: ListedRoom | null = null;
    if (copy) {
      room = { name: copy.name, count: copy.size, modes: [...copy.flags].join(''), topic: copy.topic ? JSON.stringify(copy.topic) : null };
    } else if (isValidRoomName(key, MAX_NAME_LENGTH)) {
      const snapshot = await server.cluster.state.room(key, { details: false });
      if (snapshot) room = { name: snapshot.name, count: snapshot.members.size, modes: snapshot.fields.modes ?? '', topic: snapshot.fields.topic ?? null };
    }
    if (room && !offer(room)) return;
  }
}

/** The text of a topic field (JSON `{ text, setBy, setAt }`, room-fields.ts), '' for none or a broken one. */
function topicText(field: string | null): string {
  if (field === null) return '';
  try {
    const topic = JSON.parse(field) as { text?: unknown };
    return typeof topic.text === 'string' ? topic.text : '';
  } catch {
    return '';
  }
}
