import type Database from 'better-sqlite3';
import { searchTerms } from '../search-query.js';
import { SEARCH_LIMIT_MAX, type SearchCursor, type SearchPage, type SearchRequest, type SearchStore } from '../store.js';
import { fromRow, MESSAGES_ONLY, type MessageRow } from './history.js';

type Param = string | number;

/**
 * The FTS5 MATCH expression for a query's terms: each term one FTS5 string ("..."), joined by
 * AND. Inside a string FTS5 sees no operators (AND, NEAR, *, ^, column filters are text) and
 * tokenizes the content with the table's tokenizer, so a term of several words is a phrase.
 * The words are letters, digits and marks only (searchTerms); `"` is doubled all the same.
 */
export function ftsMatch(terms: readonly (readonly string[])[]): string {
  return terms.map((t) => `"${t.join(' ').replaceAll('"', '""')}"`).join(' AND ');
}

/**
 * Search over the messages_fts index (migration 3). One statement: the FTS5 index yields the
 * matching rowids (outer loop, CROSS JOIN pins the order), each joined to its row by primary
 * key and filtered by conversation, times, cursor and sender; the survivors sorted by time.
 * The cost grows with the number of matches of the rarest term combination, not with the
 * size of the history. Synchronous underneath, like every SQLite call.
 */
export class SqliteSearchStore implements SearchStore {
  /** Keyed by the optional filters present: after|before|cursor|from as 0/1. */
  private readonly statements = new Map<string, Database.Statement<Param[], MessageRow>>();

  constructor(private readonly db: Database.Database) {}

  async search(request: SearchRequest): Promise<SearchPage> {
    const limit = Math.min(Math.floor(request.limit), SEARCH_LIMIT_MAX);
    const terms = searchTerms(request.query);
    if (!(limit > 0) || terms === null || request.conversations.length === 0) return { messages: [], next: null };
    const { after, before, cursor } = request;
    const from = request.query.from;
    const params: Param[] = [ftsMatch(terms), JSON.stringify(request.conversations)];
    if (after !== undefined) params.push(Math.floor(after)); // time > t <=> time > floor(t)
    if (before !== undefined) params.push(Math.ceil(before)); // time < t <=> time < ceil(t)
    if (cursor) params.push(cursor.time, cursor.msgid);
    if (from !== null) params.push(from);
    params.push(limit + 1); // one more than asked: tells whether there is a next page
    const rows = this.statement(after !== undefined, before !== undefined, cursor !== undefined, from !== null).all(...params);
    const messages = rows.slice(0, limit).map(fromRow);
    const last = messages.at(-1);
    const next: SearchCursor | null = rows.length > limit && last ? { time: last.time, msgid: last.msgid } : null;
    return { messages, next };
  }

  private statement(after: boolean, before: boolean, cursor: boolean, from: boolean): Database.Statement<Param[], MessageRow> {
    const key = [after, before, cursor, from].map(Number).join('');
    let statement = this.statements.get(key);
    if (!statement) {
      const where = ['messages_fts MATCH ?', 'm.conversation IN (SELECT value FROM json_each(?))', `m.${MESSAGES_ONLY}`];
      if (after) where.push('m.time > ?');
      if (before) where.push('m.time < ?');
      if (cursor) where.push('(m.time, m.msgid) < (?, ?)');
      // The nick is `source` up to '!'; lower() folds A-Z only, as casemapping ascii does.
      if (from) where.push("lower(substr(m.source, 1, instr(m.source, '!') - 1)) = ?");
      statement = this.db.prepare<Param[], MessageRow>(
        `SELECT m.msgid, m.time, m.conversation, m.source, m.account, m.command, m.target, m.text, m.tags, m.params
           FROM messages_fts CROSS JOIN messages AS m ON m.id = messages_fts.rowid
          WHERE ${where.join(' AND ')}
          ORDER BY m.time DESC, m.msgid DESC LIMIT ?`,
      );
      this.statements.set(key, statement);
    }
    return statement;
  }
}
