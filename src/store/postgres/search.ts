import { searchTerms } from '../search-query.js';
import { SEARCH_LIMIT_MAX, type SearchCursor, type SearchPage, type SearchRequest, type SearchStore } from '../store.js';
import { MESSAGE_COLUMNS, MESSAGES_ONLY } from './history-sql.js';
import { fromRow, type MessageRow } from './history.js';
import type { Db } from './pool.js';

/**
 * The statement of one search: `messages.search @@ q` on the GIN index `messages_search`
 * (migration 2), filtered by conversation = ANY, times, cursor and sender, newest first.
 *
 * The tsquery is built by functions, never parsed from text: each term is
 * `phraseto_tsquery('simple', $k)` (its words as one bound value: adjacent, in order; a single
 * word is just that lexeme) and the terms are joined with `&&`. The words hold letters, digits
 * and marks only (searchTerms), and phraseto_tsquery treats whatever it gets as plain text, so
 * no input is tsquery syntax. Sent unnamed (not prepared): each search is planned with its own
 * values, so a rare word gets the index and the plan never sticks to a generic guess.
 */
export function searchStatement(request: SearchRequest, terms: readonly (readonly string[])[], limit: number): { text: string; values: unknown[] } {
  const values: unknown[] = [request.conversations];
  const param = (value: unknown): string => {
    values.push(value);
    return `$${values.length}`;
  };
  const tsquery = terms.map((t) => `phraseto_tsquery('simple', ${param(t.join(' '))})`).join(' && ');
  const where = [`search @@ (${tsquery})`, 'conversation = ANY ($1::text[])', MESSAGES_ONLY];
  // Integer times: time > t <=> time > floor(t); time < t <=> time < ceil(t).
  if (request.after !== undefined) where.push(`time > ${param(Math.floor(request.after))}::bigint`);
  if (request.before !== undefined) where.push(`time < ${param(Math.ceil(request.before))}::bigint`);
  if (request.cursor) where.push(`(time, msgid) < (${param(request.cursor.time)}::bigint, ${param(request.cursor.msgid)}::text)`);
  // The nick is `source` up to '!'; nicks are ASCII, so lower() folds as casemapping ascii.
  if (request.query.from !== null) where.push(`lower(split_part(source, '!', 1)) = ${param(request.query.from)}`);
  return {
    text: `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE ${where.join(' AND ')}
            ORDER BY time DESC, msgid DESC LIMIT ${param(limit)}`,
    values,
  };
}

export class PgSearchStore implements SearchStore {
  constructor(private readonly db: Db) {}

  async search(request: SearchRequest): Promise<SearchPage> {
    const limit = Math.min(Math.floor(request.limit), SEARCH_LIMIT_MAX);
    const terms = searchTerms(request.query);
    if (!(limit > 0) || terms === null || request.conversations.length === 0) return { messages: [], next: null };
    // One more than asked: tells whether there is a next page.
    const statement = searchStatement(request, terms, limit + 1);
    const rows = await this.db.query<MessageRow>(statement.text, statement.values);
    const messages = rows.slice(0, limit).map(fromRow);
    const last = messages.at(-1);
    const next: SearchCursor | null = rows.length > limit && last ? { time: last.time, msgid: last.msgid } : null;
    return { messages, next };
  }
}
