/**
 * SEARCH (soju.im/search, the extension soju, gamja, Goguma and Halloy speak; there is no
 * IRCv3 draft with a client behind it): full-text search over the history the user may read,
 * answered in a `soju.im/search` batch, oldest first.
 *
 *   SEARCH text=good morning;in=#lobby;from=alice;after=<time>;before=<time>;limit=20
 *
 * - Attributes are written as message tags are (`;`-separated, values escaped the same way).
 *   `text` is required and uses the store's search syntax (store/search-query.ts: words,
 *   "phrases", from:nick; bounded in length and words, never parsed as SQL or FTS syntax).
 *   Unknown attributes are ignored, for extensions to come.
 * - Scope, as CHATHISTORY reads it (chathistory.ts): `in=#room` must be a room the user is in,
 *   `in=<nick>` the direct conversation of the user's account with that nick's account; without
 *   `in`, every room the user is in and every direct conversation of its account.
 * - `after` and `before` include their times (the store's bounds exclude theirs).
 * - Bounded: at most `history.max_query` messages a search, `limits.searches_per_minute` per
 *   connection (a quarter of them at once), on top of flood control.
 */
import { foldCase, isRoomName, isValidNick, parseTags, type Tags } from '../../protocol/index.js';
import { TokenBucket } from '../../limits/token-bucket.js';
import { isSearchQueryError, parseSearchQuery } from '../../store/search-query.js';
import { dmKey, type SearchQuery, type StoredMessage } from '../../store/store.js';
import * as N from '../../protocol/numerics.js';
import { failError, IrcError, numericError } from '../errors.js';
import { parseIsoTime } from '../history/refs.js';
import { historyLine } from '../history/replay.js';
import type { Server } from '../server.js';
import type { Session } from '../session.js';
import type { CommandContext } from './context.js';

export const SEARCH_CAP = 'soju.im/search';
/** A search returns this many messages when it names no limit. */
const DEFAULT_LIMIT = 50;

const fail = (code: string, context: string, text: string) => failError('SEARCH', code, context, text);
const buckets = new WeakMap<Session, TokenBucket>();

// SEARCH <attributes>
export async function SEARCH({ server, session, params }: CommandContext): Promise<void> {
  // The extension must be negotiated: to anyone else SEARCH is what it was, unknown.
  if (!session.has(SEARCH_CAP)) throw numericError(N.ERR_UNKNOWNCOMMAND, 'SEARCH', 'Unknown command');
  // Values should escape their spaces (\s); a client that sent them raw is read the same.
  const attributes = parseAttributes(params.join(' '));
  const query = queryOf(attributes);
  const limit = limitOf(server, attributes.limit);
  const after = timeOf(attributes, 'after');
  const before = timeOf(attributes, 'before');
  let bucket = buckets.get(session);
  if (!bucket) {
    const perMinute = server.config.limits.searches_per_minute;
    buckets.set(session, (bucket = new TokenBucket(Math.max(1, Math.floor(perMinute / 4)), perMinute / 60)));
  }
  if (!bucket.take()) throw fail('TEMPORARILY_UNAVAILABLE', '*', 'Too many searches; wait a few seconds');

  const search = server.store.search;
  if (!search) throw fail('INTERNAL_ERROR', '*', 'This server does not search history');
  let messages: StoredMessage[];
  try {
    // Committed first, so what the user just said is found.
    const store = await server.history.read();
    const conversations = await scopeOf(server, session, attributes.in, (account) => store.directConversationsOf(account));
    const started = performance.now();
    const page = await search.search({
      conversations,
      query,
      after: after === null ? undefined : after - 1,
      before: before === null ? undefined : before + 1,
      limit,
    });
    server.metrics.storeQuery('search', (performance.now() - started) / 1000);
    messages = page.messages;
  } catch (err) {
    if (err instanceof IrcError) throw err;
    server.logger.error('search failed', { err });
    throw fail('INTERNAL_ERROR', '*', 'The search could not be run');
  }
  // As CHATHISTORY: nothing past what this node's copy of a room has applied (no hole shown).
  messages = messages.filter((m) => {
    const copy = server.rooms.get(m.conversation);
    return !copy || copy.appliedTime === 0 || m.time <= copy.appliedTime;
  });
  sendResults(server, session, messages.reverse());
}

function parseAttributes(raw: string): Tags {
  try {
    return parseTags(raw);
  } catch {
    throw fail('INVALID_PARAMS', '*', 'Attributes are key=value pairs separated by ;');
  }
}

function queryOf(attributes: Tags): SearchQuery {
  const text = attributes.text;
  if (text === undefined || text === '') throw fail('INVALID_PARAMS', 'text', 'Give the words to search for: text=<words>');
  const parsed = parseSearchQuery(text);
  if (isSearchQueryError(parsed)) throw fail('INVALID_PARAMS', 'text', parsed.message);
  const from = attributes.from;
  if (from === undefined) return parsed;
  if (!isValidNick(from, 1000) || (parsed.from !== null && parsed.from !== foldCase(from))) {
    throw fail('INVALID_PARAMS', 'from', 'from= names one nick (and agrees with any from: in the text)');
  }
  return { ...parsed, from: foldCase(from) };
}

function limitOf(server: Server, raw: string | undefined): number {
  const max = server.config.history.max_query;
  if (raw === undefined) return Math.min(DEFAULT_LIMIT, max);
  if (!/^\d{1,9}$/.test(raw) || Number(raw) === 0) throw fail('INVALID_PARAMS', 'limit', 'limit= is a positive number');
  return Math.min(Number(raw), max);
}

function timeOf(attributes: Tags, key: 'after' | 'before'): number | null {
  const raw = attributes[key];
  if (raw === undefined) return null;
  const time = parseIsoTime(raw);
  if (time === null) throw fail('INVALID_PARAMS', key, `${key}= is a time as server-time writes it (2026-12-04T10:00:00.000Z)`);
  return time;
}

/** The conversations searched, as CHATHISTORY allows them (see the header). */
async function scopeOf(server: Server, session: Session, target: string | undefined, directOf: (account: string) => Promise<string[]>): Promise<string[]> {
  if (target !== undefined) {
    const refuse = () => fail('INVALID_PARAMS', 'in', 'in= names a room you are in, or a nick you have talked with while logged in');
    if (isRoomName(target)) {
      const room = server.findRoom(target);
      if (!room || !room.members.has(session)) throw refuse();
      return [room.key];
    }
    if (session.accountKey === null || !isValidNick(target, 1000)) throw refuse();
    return [dmKey(session.accountKey, server.findNick(target)?.accountKey ?? foldCase(target))];
  }
  const keys = [...session.rooms].map((room) => room.key);
  if (session.accountKey !== null) keys.push(...(await directOf(session.accountKey)));
  return keys;
}

function sendResults(server: Server, session: Session, messages: StoredMessage[]): void {
  const batch = session.has('batch') ? server.nextBatchId() : null;
  if (batch !== null) session.sendMessage({ source: server.name, command: 'BATCH', params: [`+${batch}`, SEARCH_CAP] });
  for (const message of messages) session.sendMessage(historyLine(message, batch));
  if (batch !== null) session.sendMessage({ source: server.name, command: 'BATCH', params: [`-${batch}`] });
}
