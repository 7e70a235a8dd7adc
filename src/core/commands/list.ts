import { foldCase, isValidRoomName, uniqueNames } from '../../protocol/index.js';
import { hasWildcard, matchGlob } from '../../protocol/glob.js';
import * as N from '../../protocol/numerics.js';
import { MAX_NAME_LENGTH } from '../../cluster/keys.js';
import { createdTime, type ListedRoom } from '../../cluster/state.js';
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
  /** Folded masks a room's name must match one of (ELIST=M); empty: any. */
  masks: string[];
  /** Folded masks a room's name must match none of (ELIST=N, `!mask`). */
  notMasks: string[];
  /** Member counts shown: strictly above min and below max (ELIST=U). */
  min: number;
  max: number;
  /** Creation and topic times shown, seconds, strictly inside (ELIST=C, T); null: no bound. */
  created: TimeBounds;
  topicSet: TimeBounds;
}

interface TimeBounds {
  after: number | null;
  before: number | null;
}

/** Masks kept from one LIST: each is matched against every room read, so they are bounded. */
const MAX_MASKS = 10;

/**
 * LIST's parameters, each a comma-separated list: `>n` `<n` (members), `C<m` `C>m` (created
 * less or more than m minutes ago, as InspIRCd and Solanum read it), `T<m` `T>m` (topic set
 * ...), `!mask` (not matching), a mask with `*` or `?`, or a room name.
 */
function parseFilter(params: string[], nowSeconds: number): ListFilter | string {
  const filter: ListFilter = { names: null, masks: [], notMasks: [], min: -1, max: Infinity, created: { after: null, before: null }, topicSet: { after: null, before: null } };
  const names: string[] = [];
  for (const item of params.flatMap((p) => p.split(',')).filter((item) => item !== '')) {
    const time = /^([CcTt])([<>])(\d{1,9})$/.exec(item);
    if (/^[<>]\d{1,9}$/.test(item)) {
      if (item[0] === '>') filter.min = Number(item.slice(1));
      else filter.max = Number(item.slice(1));
    } else if (time) {
      const bounds = time[1]!.toUpperCase() === 'C' ? filter.created : filter.topicSet;
      const at = nowSeconds - Number(time[3]) * 60;
      // Less than m minutes ago: after now - m; more than m minutes ago: before it.
      if (time[2] === '<') bounds.after = at;
      else bounds.before = at;
    } else if (item.startsWith('!')) {
      filter.notMasks.push(foldCase(item.slice(1)));
    } else if (hasWildcard(item)) {
      filter.masks.push(foldCase(item));
    } else names.push(item);
    if (filter.masks.length + filter.notMasks.length > MAX_MASKS) return `At most ${MAX_MASKS} masks in one LIST`;
  }
  if (names.length > 0) filter.names = uniqueNames(names).map(foldCase);
  return filter;
}

function within(bounds: TimeBounds, at: number | null): boolean {
  if (bounds.after === null && bounds.before === null) return true;
  // A room with no such time (no topic) matches no bound on it.
  if (at === null) return false;
  return (bounds.after === null || at > bounds.after) && (bounds.before === null || at < bounds.before);
}

/** The filter's conditions other than the names asked for. */
function matches(filter: ListFilter, room: ListedRoom): boolean {
  if (room.count <= filter.min || room.count >= filter.max) return false;
  if (!within(filter.created, room.created) || !within(filter.topicSet, topicOf(room.topic)?.setAt ?? null)) return false;
  const folded = foldCase(room.name);
  if (filter.masks.length > 0 && !filter.masks.some((mask) => matchGlob(mask, folded))) return false;
  return !filter.notMasks.some((mask) => matchGlob(mask, folded));
}

// LIST [<condition or room>{,...}] ...   (ELIST=CMNTU, parseFilter)
// Every room of the network, in folded-name order, read from the shared state in bounded pages;
// a secret (+s) room only for its members. The reply stops at limits.list_max_results lines
// with ERR_TOOMANYMATCHES, and each page waits until the client has read its output down to
// SendQ (output-wait.ts), so a client that does not read holds at most SendQ and one page
// however many rooms there are. The session's later commands wait for it (input-gate.ts), so
// one client runs one LIST at a time.
export function LIST({ server, session, params }: CommandContext): Promise<void> {
  const filter = parseFilter(params, Math.floor(Date.now() / 1000));
  if (typeof filter === 'string') {
    session.standardReply('FAIL', ['LIST', 'INVALID_PARAMS', filter]);
    return Promise.resolve();
  }
  session.numeric(N.RPL_LISTSTART, 'Channel', 'Users  Name');
  let left = server.config.limits.list_max_results;
  /** Sends one room if the filter and visibility allow it; false once the reply is full. */
  const offer = (room: ListedRoom): boolean => {
    if (!matches(filter, room)) return true;
    if (room.modes.includes('s') && !server.findRoom(room.name)?.members.has(session)) return true;
    if (left-- === 0) {
      session.numeric(N.ERR_TOOMANYMATCHES, 'LIST', 'Output too large, truncated');
      return false;
    }
    session.numeric(N.RPL_LIST, room.name, String(room.count), topicOf(room.topic)?.text ?? '');
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
      room = { name: copy.name, count: copy.size, modes: [...copy.flags].join(''), topic: copy.topic ? JSON.stringify(copy.topic) : null, created: copy.createdAt };
    } else if (isValidRoomName(key, MAX_NAME_LENGTH)) {
      const snapshot = await server.cluster.state.room(key, { details: false });
      if (snapshot) room = { name: snapshot.name, count: snapshot.members.size, modes: snapshot.fields.modes ?? '', topic: snapshot.fields.topic ?? null, created: createdTime(snapshot.fields.created) };
    }
    if (room && !offer(room)) return;
  }
}

/** A topic field (JSON `{ text, setBy, setAt }`, room-fields.ts); null for none or a broken one. */
function topicOf(field: string | null): { text: string; setAt: number | null } | null {
  if (field === null) return null;
  try {
    const topic = JSON.parse(field) as { text?: unknown; setAt?: unknown };
    if (typeof topic.text !== 'string') return null;
    return { text: topic.text, setAt: typeof topic.setAt === 'number' ? topic.setAt : null };
  } catch {
    return null;
  }
}
