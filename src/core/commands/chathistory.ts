import { foldCase, isRoomName, isValidNick } from '../../protocol/index.js';
import { dmKey, type HistoryQuery, type HistoryRef, type HistoryStore, type StoredMessage } from '../../store/store.js';
import { EVENT_PLAYBACK_CAP } from '../history/events.js';
import { failError } from '../errors.js';
import { isoTime, parseRef, parseTimestampParam } from '../history/refs.js';
import { sendHistory } from '../history/replay.js';
import type { Server } from '../server.js';
import type { Session } from '../session.js';
import type { CommandContext } from './context.js';

// https://ircv3.net/specs/extensions/chathistory (draft/chathistory). Counts of parameters
// after the subcommand: target (or the two TARGETS timestamps), refs, limit.
const ARITY: Record<string, number> = { LATEST: 3, BEFORE: 3, AFTER: 3, AROUND: 3, BETWEEN: 4, TARGETS: 3 };

const fail = (code: string, ...rest: string[]) => failError('CHATHISTORY', code, ...rest);

// CHATHISTORY LATEST <target> <* | msgid=… | timestamp=…> <limit>
// CHATHISTORY BEFORE|AFTER|AROUND <target> <msgid=… | timestamp=…> <limit>
// CHATHISTORY BETWEEN <target> <ref> <ref> <limit>
// CHATHISTORY TARGETS <timestamp=…> <timestamp=…> <limit>
export async function CHATHISTORY({ server, session, params }: CommandContext): Promise<void> {
  if (params.length === 0) throw fail('NEED_MORE_PARAMS', '*', 'Missing parameters');
  const sub = params[0]!.toUpperCase();
  const arity = ARITY[sub];
  if (arity === undefined) throw fail('UNKNOWN_COMMAND', params[0]!, 'Unknown command');
  if (params.length < 1 + arity) throw fail('NEED_MORE_PARAMS', sub, 'Missing parameters');
  const limit = parseLimit(server, sub, params[arity]!);
  if (sub === 'TARGETS') return targets(server, session, params[1]!, params[2]!, limit);

  const target = params[1]!;
  const conversation = conversationOf(server, session, sub, target);
  const refs: (HistoryRef | null)[] = params.slice(2, arity).map((param) => {
    if (sub === 'LATEST' && param === '*') return null;
    const ref = parseRef(param);
    if (!ref) throw fail('INVALID_PARAMS', sub, param, 'Invalid message reference');
    return ref;
  });
  let messages: StoredMessage[];
  try {
    const store = await server.history.read();
    const started = performance.now();
    // draft/event-playback: events only to those who asked for them, filtered in the query so
    // that for everyone else `limit` counts messages (store.ts HistoryQuery).
    const options: HistoryQuery = { events: session.has(EVENT_PLAYBACK_CAP) };
    messages = await query(store, sub, conversation, refs, limit, options);
    server.metrics.storeQuery(sub.toLowerCase(), (performance.now() - started) / 1000);
  } catch (err) {
    server.logger.error('chathistory query failed', { sub, conversation, err });
    throw fail('MESSAGE_ERROR', sub, target, 'Messages could not be retrieved');
  }
  // A node may store its message a moment before another node's earlier one is stored
  // (room-messages.ts): nothing past what this node's copy has applied, so no hole is shown.
  // Messages stored before the copy followed the log are not cut: a log that began again (one
  // process restarted, or Redis emptied) starts its times at the clock, which may be below the
  // stored times of a burst that ran ahead of it (each message gets 1 ms more than the last).
  const copy = server.rooms.get(conversation);
  if (copy && copy.appliedTime > 0) messages = messages.filter((m) => m.time <= copy.appliedTime || m.time < copy.copiedAt);
  // TAGMSG only to clients with message-tags (ircv3.net/specs/extensions/message-tags).
  if (!session.has('message-tags')) messages = messages.filter((m) => m.command !== 'TAGMSG');
  // An unknown msgid gives an empty batch (the spec: "if no content exists to return").
  sendHistory(server, session, target, messages, true);
}

function query(store: HistoryStore, sub: string, conversation: string, refs: (HistoryRef | null)[], limit: number, options: HistoryQuery): Promise<StoredMessage[]> {
  const [a, b] = refs;
  switch (sub) {
    case 'LATEST':
      return store.latest(conversation, limit, a ?? undefined, options);
    case 'BEFORE':
      return store.before(conversation, a!, limit, options);
    case 'AFTER':
      return store.after(conversation, a!, limit, options);
    case 'AROUND':
      return store.around(conversation, a!, limit, options);
    default:
      return store.between(conversation, a!, b!, limit, options);
  }
}

/** A positive integer; more than ISUPPORT CHATHISTORY is served as that maximum. */
function parseLimit(server: Server, sub: string, param: string): number {
  const limit = /^\d{1,9}$/.test(param) ? Number(param) : 0;
  if (limit <= 0) throw fail('INVALID_PARAMS', sub, param, 'Invalid limit');
  return Math.min(limit, server.config.history.max_query);
}

/**
 * Who may read what: a room's history, its current members; a direct conversation, its two
 * accounts only (dmKey of the asker's account and the target's). The target is a nick, whose
 * account is used if it is online and logged in, else taken as an account name. Not logged in:
 * no direct history at all. `*` (all direct messages) is not supported.
 */
function conversationOf(server: Server, session: Session, sub: string, target: string): string {
  const refuse = () => fail('INVALID_TARGET', sub, target, 'Messages could not be retrieved');
  if (isRoomName(target)) {
    const room = server.findRoom(target);
    if (!room || !room.members.has(session)) throw refuse();
    return room.key;
  }
  if (session.accountKey === null || !isValidNick(target, 1000)) throw refuse();
  const other = server.findNick(target)?.accountKey ?? foldCase(target);
  return dmKey(session.accountKey, other);
}

/**
 * TARGETS: the asker's current rooms and its direct conversations with messages between the
 * two times, each with its latest message time, in `BATCH +id draft/chathistory-targets`.
 */
async function targets(server: Server, session: Session, from: string, to: string, limit: number): Promise<void> {
  const start = parseTimestampParam(from);
  const end = parseTimestampParam(to);
  if (start === null) throw fail('INVALID_PARAMS', 'TARGETS', from, 'Invalid timestamp');
  if (end === null) throw fail('INVALID_PARAMS', 'TARGETS', to, 'Invalid timestamp');
  const names = new Map<string, string>();
  for (const room of session.rooms) names.set(room.key, room.name);
  let found: { conversation: string; latest: number }[];
  try {
    const store = await server.history.read();
    const started = performance.now();
    const account = session.accountKey;
    const direct = account === null ? [] : await store.directConversationsOf(account);
    for (const key of direct) names.set(key, await peerName(server, account!, key));
    found = await store.targets([...names.keys()], start, end, limit);
    server.metrics.storeQuery('targets', (performance.now() - started) / 1000);
  } catch (err) {
    server.logger.error('chathistory targets failed', { err });
    throw fail('MESSAGE_ERROR', 'TARGETS', '*', 'Messages could not be retrieved');
  }
  const batch = session.has('batch') ? server.nextBatchId() : null;
  if (batch !== null) session.sendMessage({ source: server.name, command: 'BATCH', params: [`+${batch}`, 'draft/chathistory-targets'] });
  for (const { conversation, latest } of found) {
    session.sendMessage({
      tags: batch === null ? undefined : { batch },
      source: server.name,
      command: 'CHATHISTORY',
      params: ['TARGETS', names.get(conversation)!, isoTime(latest)],
    });
  }
  if (batch !== null) session.sendMessage({ source: server.name, command: 'BATCH', params: [`-${batch}`] });
}

/** The other account of a direct conversation, by its display name when the account exists. */
async function peerName(server: Server, self: string, conversation: string): Promise<string> {
  const inner = conversation.slice(1);
  const other = inner.startsWith(`${self}:`) ? inner.slice(self.length + 1) : inner.slice(0, inner.length - self.length - 1);
  return (await server.store.accounts.get(other))?.name ?? other;
}
