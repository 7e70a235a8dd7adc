import { foldCase, hasWildcard, isRoomName, isValidRoomName, matchGlob } from '../../protocol/index.js';
import * as N from '../../protocol/numerics.js';
import { MAX_NAME_LENGTH } from '../../cluster/keys.js';
import type { MemberDetails, UserRecord } from '../../cluster/state.js';
import { MEMBER_OP, MEMBER_VOICE, type Room } from '../room.js';
import type { Server } from '../server.js';
import type { Session } from '../session.js';
import type { CommandContext } from './context.js';
import { outputRead } from './output-wait.js';
import { parseWhox, sendPlainWhoReply, sendWhoxEntry, type WhoEntry } from './whox.js';
import { BOT_MODE } from '../network-users.js';

/** Users read from the shared state per round trip of a mask search. */
const SCAN_PAGE = 500;
/**
 * A mask search reads at most this many users of other nodes per result it may give
 * (limits.who_max_results), at least MIN_SCAN: a search that matches few users on a big network
 * stops there with ERR_TOOMANYMATCHES instead of reading every user record in Redis.
 */
const SCAN_PER_RESULT = 50;
const MIN_SCAN = 10_000;

// WHO <room | nick | mask> [%<fields>[,<token>]]   (WHOX: whox.ts)
// Network-wide: a room's members on every node, a nick on any node, a mask matched against the
// users of every node. Invisible users are left out of a mask search unless the asker shares a
// room with them or is an IRC operator (a room or an exact nick lists them, as on one server).
export function WHO({ server, session, params }: CommandContext): void | Promise<void> {
  const mask = params[0] ?? '*';
  const whox = parseWhox(params[1]);
  const reply = (entry: WhoEntry) => (whox ? sendWhoxEntry(server, session, entry, whox) : sendPlainWhoReply(server, session, entry));
  const end = () => session.numeric(N.RPL_ENDOFWHO, mask, 'End of WHO list');
  const pending = isRoomName(mask) ? whoRoom(server, session, mask, reply) : whoUsers(server, session, mask, whox !== null, reply);
  if (!pending) return end();
  return pending.finally(end);
}

/**
 * The room's members on every node: from this node's copy, else from the shared state. Members on
 * other nodes get their operator `*` from their records (one read for all of them).
 */
function whoRoom(server: Server, session: Session, name: string, reply: (entry: WhoEntry) => void): void | Promise<void> {
  const multi = session.has('multi-prefix');
  const copy = server.findRoom(name);
  if (copy) {
    if (copy.flags.has('s') && !copy.members.has(session)) return;
    for (const member of copy.members.keys()) reply(localEntry(member, copy, multi));
    const remote = [...copy.remote.values()];
    if (remote.length === 0) return;
    return server.cluster.state.modesOf(remote.map((m) => m.uid)).then((modes) => {
      for (const m of remote) reply(detailsEntry(m, copy.name, prefixFor(m.flags, multi), modes.get(m.uid)));
    });
  }
  // No member here: the asker is not one either, so a secret room shows no one.
  if (!isValidRoomName(name, MAX_NAME_LENGTH)) return;
  return server.cluster.state.room(name).then(async (snapshot) => {
    if (!snapshot || (snapshot.fields.modes ?? '').includes('s')) return;
    const modes = await server.cluster.state.modesOf([...snapshot.users.keys()]);
    for (const [uid, flags] of snapshot.members) {
      const details = snapshot.users.get(uid);
      if (details) reply(detailsEntry(details, snapshot.name, prefixFor(flags, multi), modes.get(uid)));
    }
  });
}

/** WHO of a nick (any node), or of a mask over every node's users. */
function whoUsers(server: Server, session: Session, mask: string, whox: boolean, reply: (entry: WhoEntry) => void): void | Promise<void> {
  const exact = server.findNick(mask);
  if (exact) return reply(localEntry(exact, whox ? visibleRoomOf(exact, session) : null, session.has('multi-prefix')));
  if (!hasWildcard(mask)) {
    return server.users.remoteByNick(mask).then((record) => {
      if (record) reply(recordEntry(record, session, whox));
    });
  }
  const matches = whoMatcher(mask);
  const seeAll = session.oper !== null;
  const shared = server.audienceOf(session);
  // A mask search can list the whole network: cut at limits.who_max_results.
  let left = server.config.limits.who_max_results;
  const take = () => {
    if (left-- > 0) return true;
    session.numeric(N.ERR_TOOMANYMATCHES, 'WHO', 'Output too large, truncated');
    return false;
  };
  for (const user of server.nicks.values()) {
    if (!user.registered || (user.invisible && user !== session && !seeAll && !shared.has(user))) continue;
    if (!matches(user)) continue;
    if (!take()) return;
    reply(localEntry(user, whox ? visibleRoomOf(user, session) : null, session.has('multi-prefix')));
  }
  return whoOtherNodes(server, session, (record) => {
    if (!matches(record)) return true;
    if (!take()) return false;
    reply(recordEntry(record, session, whox));
    return true;
  });
}

/**
 * Users of the other nodes, in bounded pages of the shared state's listing; `visit` gets each
 * one the asker may see and returns false to stop. Nothing to read when this node is alone.
 */
async function whoOtherNodes(server: Server, session: Session, visit: (record: UserRecord) => boolean): Promise<void> {
  const me = server.cluster.nodes.id;
  const peers = await server.cluster.nodes.peers();
  if (peers.every((node) => node === me)) return;
  const seeAll = session.oper !== null;
  // Built at the first invisible user met: the asker's rooms may hold many members.
  let sharing: Map<string, Room> | null = null;
  const budget = Math.max(MIN_SCAN, SCAN_PER_RESULT * server.config.limits.who_max_results);
  let cursor: string | null = null;
  let read = 0;
  do {
    await outputRead(server, session);
    const page: { users: UserRecord[]; next: string | null } = await server.cluster.state.listUsers(cursor, SCAN_PAGE);
    if (session.state === 'closing') return;
    for (const record of page.users) {
      // This node's users were listed from their sessions.
      if (record.node === me) continue;
      if (record.modes.includes('i') && !seeAll && !(sharing ??= remoteRoommates(session)).has(record.uid)) continue;
      if (!visit(record)) return;
    }
    read += page.users.length;
    cursor = page.next;
  } while (cursor !== null && read < budget);
  if (cursor !== null) session.numeric(N.ERR_TOOMANYMATCHES, 'WHO', 'Too many users to search, truncated');
}

/**
 * A WHO mask as a test on a user's nick, user, host and realname (case-folded). Runs of `*`
 * are one `*`, and a field shorter than the mask's other characters is not tried: those must
 * each match a character, so a long hostile mask costs nothing against short fields, and
 * matchGlob's O(mask × field) worst case stays small.
 */
export function whoMatcher(mask: string): (user: { nick: string; user: string; host: string; realname: string }) => boolean {
  const folded = foldCase(mask).replace(/\*+/g, '*');
  let fixed = 0;
  for (const c of folded) if (c !== '*') fixed++;
  const test = (field: string) => field.length >= fixed && matchGlob(folded, foldCase(field));
  return (user) => test(user.nick) || test(user.user) || test(user.host) || test(user.realname);
}

/** Members of the asker's rooms who are on other nodes, by uid, with one such room (WHOX `c`). */
function remoteRoommates(session: Session): Map<string, Room> {
  const found = new Map<string, Room>();
  for (const room of session.rooms) for (const uid of room.remote.keys()) if (!found.has(uid)) found.set(uid, room);
  return found;
}

function localEntry(user: Session, room: Room | null, multi: boolean): WhoEntry {
  return {
    nick: user.nick, user: user.user, host: user.host, realname: user.realname, account: user.account, away: user.away,
    oper: user.oper !== null, bot: user.bot, room: room?.name ?? null, prefix: room ? room.prefixOf(user, multi) : '',
    idle: Math.floor((Date.now() - user.lastSpoke) / 1000),
  };
}

/** A member known from a room (copy or snapshot), with its record's modes when there is one. */
function detailsEntry(m: MemberDetails, room: string, prefix: string, modes = ''): WhoEntry {
  return { nick: m.nick, user: m.user, host: m.host, realname: m.realname, account: m.account, away: m.away, oper: modes.includes('o'), bot: modes.includes(BOT_MODE), room, prefix, idle: null };
}

/** A user of another node from its record; for WHOX a room the asker shares with it, if any. */
function recordEntry(record: UserRecord, asker: Session, whox: boolean): WhoEntry {
  const room = whox ? shownRoomOf(record.uid, asker) : null;
  const flags = room?.remote.get(record.uid)?.flags ?? 0;
  return {
    nick: record.nick, user: record.user, host: record.host, realname: record.realname, account: record.account, away: record.away,
    oper: record.modes.includes('o'), bot: record.modes.includes(BOT_MODE), room: room?.name ?? null, prefix: room ? prefixFor(flags, asker.has('multi-prefix')) : '', idle: null,
  };
}

function shownRoomOf(uid: string, asker: Session): Room | null {
  for (const room of asker.rooms) if (room.remote.has(uid)) return room;
  return null;
}

/** A room of `user` that `asker` may see (not secret, or shared), for the `c` field. */
function visibleRoomOf(user: Session, asker: Session): Room | null {
  for (const room of user.rooms) if (!room.flags.has('s') || room.members.has(asker)) return room;
  return null;
}

/** `@`, `+`, or with multi-prefix both, for a member's flags. */
export function prefixFor(flags: number, all: boolean): string {
  let prefix = flags & MEMBER_OP ? '@' : '';
  if (flags & MEMBER_VOICE && (all || prefix === '')) prefix += '+';
  return prefix;
}
