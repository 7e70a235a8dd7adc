import type Database from 'better-sqlite3';
import { deleteInPacedBatches, inPacedBatches } from '../paced-prune.js';
import { EVENT_COMMANDS, type HistoryQuery, type HistoryRef, type HistoryStore, type StoredMessage } from '../store.js';

/**
 * A point in a conversation's (time, msgid) order. Time refs become (time, '') — the empty
 * msgid sorts before every real one — so both kinds of ref share the same row-value
 * comparisons, and every query is one range scan of messages_position.
 */
interface Position {
  time: number;
  msgid: string;
}

/** A lower bound: rows with (time, msgid) > pos, or >= pos when inclusive. */
interface Lower {
  pos: Position;
  inclusive: boolean;
}

export interface MessageRow {
  msgid: string;
  time: number;
  conversation: string;
  source: string;
  account: string | null;
  command: string;
  target: string;
  text: string;
  tags: string;
  /** A JSON array: an event's parameters ('[]' for messages). */
  params: string;
}

type Param = string | number;
type RangeStatement = Database.Statement<Param[], MessageRow>;

const SELECT = 'SELECT msgid, time, conversation, source, account, command, target, text, tags, params FROM messages';

/** Messages only (no draft/event-playback events): what queries see unless they ask for events. */
export const MESSAGES_ONLY = "command IN ('PRIVMSG', 'NOTICE')";
/** What REDACT may find and delete: messages, and TAGMSG (a reaction may be taken back). */
const REDACTABLE = "command IN ('PRIVMSG', 'NOTICE', 'TAGMSG')";

export function fromRow(row: MessageRow): StoredMessage {
  const message: StoredMessage = {
    msgid: row.msgid,
    time: row.time,
    conversation: row.conversation,
    source: row.source,
    account: row.account,
    command: row.command as StoredMessage['command'],
    target: row.target,
    text: row.text,
    tags: JSON.parse(row.tags) as Record<string, string>,
  };
  if (EVENT_COMMANDS.has(row.command)) message.params = JSON.parse(row.params) as string[];
  return message;
}

function encodeParams(message: StoredMessage): string {
  return message.params && message.params.length > 0 ? JSON.stringify(message.params) : '[]';
}

function encodeTags(tags: Record<string, string> | undefined): string {
  for (const _ in tags) return JSON.stringify(tags);
  return '{}';
}

/** A usable LIMIT, or null when nothing may be returned. */
function rowLimit(limit: number): number | null {
  if (limit === Infinity) return -1; // SQLite: negative LIMIT means none
  const n = Math.floor(limit);
  return n > 0 ? n : null;
}

function comparePositions(a: Position, b: Position): number {
  if (a.time !== b.time) return a.time < b.time ? -1 : 1;
  return a.msgid === b.msgid ? 0 : a.msgid < b.msgid ? -1 : 1;
}

/** "Strictly after ref", given the ref's resolved position. */
function lowerAfter(ref: HistoryRef, pos: Position): Lower {
  if ('msgid' in ref) return { pos, inclusive: false };
  // Times are integers: time > t  <=>  (time, msgid) >= (floor(t) + 1, '').
  return { pos: { time: Math.floor(ref.time) + 1, msgid: '' }, inclusive: true };
}

/** The two accounts of a `dmKey` conversation, or null for any other key. */
function dmParticipants(conversation: string): [string, string] | null {
  if (!conversation.startsWith('@')) return null;
  const colon = conversation.indexOf(':', 1);
  if (colon < 0) return null;
  return [conversation.slice(1, colon), conversation.slice(colon + 1)];
}

/**
 * Rows one prune transaction deletes at most: a few ms of the server's thread each (the FTS5
 * delete trigger included). bench/retention-prune.mjs, 1M old messages, 20 clients chatting at
 * 500 msg/s: 1,000 took 18.9 s with chat echo p50 3.5 ms meanwhile, 250 took 23.7 s with 2.2 ms.
 */
export const PRUNE_BATCH = 250;

function hasTable(db: Database.Database, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

export class SqliteHistoryStore implements HistoryStore {
  /** Keyed by `${lower}|${upper}|${order}|${kinds}`: lower none|gt|ge, upper none|lt, order asc|desc, kinds all|messages. */
  private readonly ranges = new Map<string, RangeStatement>();
  private readonly insertMessage: Database.Statement<[string, string, number, string, string | null, string, string, string, string, string]>;
  private readonly insertParticipant: Database.Statement<[string, string]>;
  private readonly selectTime: Database.Statement<[string, string], { time: number }>;
  private readonly targetsAsc: Database.Statement<[number, number, string, number], { conversation: string; latest: number }>;
  private readonly targetsDesc: Database.Statement<[number, number, string, number], { conversation: string; latest: number }>;
  private readonly selectDirect: Database.Statement<[string], { conversation: string }>;
  private readonly selectConversations: Database.Statement<[], { conversation: string }>;
  private readonly appendBatch: (messages: readonly StoredMessage[]) => void;
  private readonly keepBoundary: Database.Statement<[string, number], Position>;
  /** One bounded delete each: (time, msgid) < position, and <= position; oldest rows first. */
  private readonly deleteBelow: Database.Statement<[string, number, string, number]>;
  private readonly deleteUpTo: Database.Statement<[string, number, string, number]>;
  private readonly forgetParticipants: Database.Statement<[string, string]>;
  private readonly selectOne: Database.Statement<[string, string], MessageRow>;
  private readonly deleteOne: Database.Statement<[string, string]>;
  private readonly moveBatch: Database.Statement<[string, string, string, number]>;

  /** `pruneBatch`: rows one prune transaction deletes at most (the event loop runs between). */
  constructor(
    db: Database.Database,
    private readonly pruneBatch = PRUNE_BATCH,
  ) {
    for (const lower of ['none', 'gt', 'ge'] as const) {
      for (const upper of ['none', 'lt'] as const) {
        for (const order of ['asc', 'desc'] as const) {
          for (const kinds of ['all', 'messages'] as const) {
            const where = ['conversation = ?'];
            if (lower !== 'none') where.push(`(time, msgid) ${lower === 'gt' ? '>' : '>='} (?, ?)`);
            if (upper === 'lt') where.push('(time, msgid) < (?, ?)');
            // A filter on the rows of the same range scan: events in between are skipped, never
            // counted against LIMIT (their number is bounded: core/history/events.ts).
            if (kinds === 'messages') where.push(MESSAGES_ONLY);
            const dir = order === 'asc' ? 'ASC' : 'DESC';
            const sql = `${SELECT} WHERE ${where.join(' AND ')} ORDER BY time ${dir}, msgid ${dir} LIMIT ?`;
            this.ranges.set(`${lower}|${upper}|${order}|${kinds}`, db.prepare(sql));
          }
        }
      }
    }
    this.insertMessage = db.prepare(
      `INSERT INTO messages (msgid, conversation, time, source, account, command, target, text, tags, params)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (msgid) DO NOTHING`, // positional binding: ~1.5x faster than named here
    );
    this.insertParticipant = db.prepare(
      'INSERT INTO dm_participants (account, conversation) VALUES (?, ?) ON CONFLICT DO NOTHING',
    );
    this.selectTime = db.prepare('SELECT time FROM messages WHERE msgid = ? AND conversation = ?');
    const targets = (order: 'ASC' | 'DESC') =>
      db.prepare<[number, number, string, number], { conversation: string; latest: number }>(
        `WITH t AS MATERIALIZED (
           SELECT c.value AS conversation,
                  (SELECT m.time FROM messages AS m
                    WHERE m.conversation = c.value AND m.time > ? AND m.time < ? AND m.${MESSAGES_ONLY}
                    ORDER BY m.time DESC LIMIT 1) AS latest
             FROM (SELECT DISTINCT value FROM json_each(?)) AS c)
         SELECT conversation, latest FROM t WHERE latest IS NOT NULL
         ORDER BY latest ${order}, conversation ${order} LIMIT ?`,
      );
    this.targetsAsc = targets('ASC');
    this.targetsDesc = targets('DESC');
    this.selectDirect = db.prepare(
      'SELECT conversation FROM dm_participants WHERE account = ? ORDER BY conversation',
    );
    // Distinct conversations by skip-scan: one index seek per conversation, not per message.
    this.selectConversations = db.prepare(
      `WITH RECURSIVE c(k) AS (
         SELECT (SELECT min(conversation) FROM messages)
         UNION ALL
         SELECT (SELECT min(conversation) FROM messages WHERE conversation > c.k) FROM c WHERE c.k IS NOT NULL)
       SELECT k AS conversation FROM c WHERE k IS NOT NULL`,
    );

    // The search index (migration 3) is filled here, once per batch, rather than by a row
    // trigger: an FTS5 insert from a trigger costs ~37 µs a row, one INSERT ... SELECT over the
    // batch's rows ~8 µs (bench/history-write.mjs: 16k -> 31k stored messages/s). Still in the
    // batch's transaction, so the index never lags the messages. Absent only while a bench
    // builds a database at an older schema (bench/store-search.mjs).
    const indexText = hasTable(db, 'messages_fts')
      ? db.prepare<[number]>('INSERT INTO messages_fts (rowid, text) SELECT id, text FROM messages WHERE id >= ?')
      : null;
    this.appendBatch = db.transaction((messages: readonly StoredMessage[]) => {
      let firstId: number | bigint | null = null;
      for (const m of messages) {
        const result = this.insertMessage.run(
          m.msgid,
          m.conversation,
          m.time,
          m.source,
          m.account,
          m.command,
          m.target,
          m.text,
          encodeTags(m.tags),
          encodeParams(m),
        );
        if (result.changes === 0) continue; // duplicate msgid: idempotent retry
        firstId ??= result.lastInsertRowid;
        const pair = dmParticipants(m.conversation);
        if (pair) {
          this.insertParticipant.run(pair[0], m.conversation);
          this.insertParticipant.run(pair[1], m.conversation);
        }
      }
      // Rowids grow within one writer's transaction, so every row from firstId on is this batch's.
      if (indexText && firstId !== null) indexText.run(Number(firstId));
    });

    this.keepBoundary = db.prepare(
      `SELECT time, msgid FROM messages WHERE conversation = ?
       ORDER BY time DESC, msgid DESC LIMIT 1 OFFSET ?`,
    );
    const bounded = (op: '<' | '<=') =>
      db.prepare<[string, number, string, number]>(
        `DELETE FROM messages WHERE id IN (
           SELECT id FROM messages WHERE conversation = ? AND (time, msgid) ${op} (?, ?)
            ORDER BY time, msgid LIMIT ?)`,
      );
    this.deleteBelow = bounded('<');
    this.deleteUpTo = bounded('<=');
    this.forgetParticipants = db.prepare(
      `DELETE FROM dm_participants WHERE conversation = ?
         AND NOT EXISTS (SELECT 1 FROM messages WHERE conversation = ?)`,
    );
    // By msgid (its UNIQUE index), checked against the conversation: a msgid of another room
    // is neither found nor deleted. The FTS5 delete trigger (migration 3) unindexes the text.
    this.selectOne = db.prepare(`${SELECT} WHERE msgid = ? AND conversation = ? AND ${REDACTABLE}`);
    this.deleteOne = db.prepare(`DELETE FROM messages WHERE msgid = ? AND conversation = ? AND ${REDACTABLE}`);
    // Rows that moved leave `conversation = from`, so each batch takes the next oldest ones.
    this.moveBatch = db.prepare(
      `UPDATE messages SET conversation = ?, target = ? WHERE id IN (
         SELECT id FROM messages WHERE conversation = ? ORDER BY time, msgid LIMIT ?)`,
    );
  }

  /**
   * Synchronous append, for the server's history writer: commits the batch (one transaction)
   * before returning, so the caller can flush socket output knowing the messages are durable.
   */
  appendSync(messages: readonly StoredMessage[]): void {
    if (messages.length > 0) this.appendBatch(messages);
  }

  async append(messages: StoredMessage[]): Promise<void> {
    this.appendSync(messages);
  }

  async latest(conversation: string, limit: number, after?: HistoryRef, query?: HistoryQuery): Promise<StoredMessage[]> {
    const n = rowLimit(limit);
    if (n === null) return [];
    const events = query?.events === true;
    if (after === undefined) return this.range(conversation, null, null, 'desc', n, events);
    const lower = this.afterRef(conversation, after);
    return lower ? this.range(conversation, lower, null, 'desc', n, events) : [];
  }

  async before(conversation: string, ref: HistoryRef, limit: number, query?: HistoryQuery): Promise<StoredMessage[]> {
    const n = rowLimit(limit);
    const upper = n === null ? null : this.beforeRef(conversation, ref);
    return upper ? this.range(conversation, null, upper, 'desc', n!, query?.events === true) : [];
  }

  async after(conversation: string, ref: HistoryRef, limit: number, query?: HistoryQuery): Promise<StoredMessage[]> {
    const n = rowLimit(limit);
    const lower = n === null ? null : this.afterRef(conversation, ref);
    return lower ? this.range(conversation, lower, null, 'asc', n!, query?.events === true) : [];
  }

  /**
   * floor(limit / 2) messages strictly before `ref`, the rest from `ref` on: for a msgid that
   * is the message itself and those after it; for a time, messages at that time and later.
   */
  async around(conversation: string, ref: HistoryRef, limit: number, query?: HistoryQuery): Promise<StoredMessage[]> {
    const n = rowLimit(limit);
    const pos = n === null ? null : this.beforeRef(conversation, ref);
    if (!pos) return [];
    const events = query?.events === true;
    if (n === -1) return this.range(conversation, null, null, 'asc', -1, events);
    const nBefore = Math.floor(n! / 2);
    const earlier = nBefore > 0 ? this.range(conversation, null, pos, 'desc', nBefore, events) : [];
    const later = this.range(conversation, { pos, inclusive: true }, null, 'asc', n! - nBefore, events);
    return earlier.concat(later);
  }

  async between(conversation: string, start: HistoryRef, end: HistoryRef, limit: number, query?: HistoryQuery): Promise<StoredMessage[]> {
    const n = rowLimit(limit);
    if (n === null) return [];
    const startPos = this.beforeRef(conversation, start);
    const endPos = startPos && this.beforeRef(conversation, end);
    if (!startPos || !endPos) return [];
    const forward = comparePositions(startPos, endPos) <= 0;
    const lower = forward ? lowerAfter(start, startPos) : lowerAfter(end, endPos);
    const upper = forward ? endPos : startPos;
    return this.range(conversation, lower, upper, forward ? 'asc' : 'desc', n, query?.events === true);
  }

  async targets(
    conversations: string[],
    start: number,
    end: number,
    limit: number,
  ): Promise<{ conversation: string; latest: number }[]> {
    const n = rowLimit(limit);
    if (n === null || conversations.length === 0) return [];
    const list = JSON.stringify(conversations);
    if (start <= end) return this.targetsAsc.all(start, end, list, n);
    // Reversed window: the conversations closest to `start` (the latest), still ascending.
    return this.targetsDesc.all(end, start, list, n).reverse();
  }

  async directConversationsOf(account: string): Promise<string[]> {
    return this.selectDirect.all(account).map((r) => r.conversation);
  }

  /**
   * Deletes in paced batches of at most `pruneBatch` rows (paced-prune.ts), each its own
   * transaction (autocommit), with the event loop free between them: SQLite runs on the
   * server's thread, so one statement over a million rows would stall every client for
   * seconds. A prune cut short leaves the newest messages, as a finished one does.
   */
  async prune(conversation: string, options: { olderThan?: number; keep?: number }): Promise<number> {
    let deleted = 0;
    if (options.olderThan !== undefined) {
      // Integer times: time < t <=> (time, msgid) < (ceil(t), ''), '' sorting before every msgid.
      deleted += await this.deleteInBatches(this.deleteBelow, conversation, { time: Math.ceil(options.olderThan), msgid: '' });
    }
    if (options.keep !== undefined && Number.isFinite(options.keep)) {
      const boundary = this.keepBoundary.get(conversation, Math.max(0, Math.floor(options.keep)));
      if (boundary) deleted += await this.deleteInBatches(this.deleteUpTo, conversation, boundary);
    }
    if (deleted > 0 && dmParticipants(conversation)) this.forgetParticipants.run(conversation, conversation);
    return deleted;
  }

  private deleteInBatches(statement: Database.Statement<[string, number, string, number]>, conversation: string, pos: Position): Promise<number> {
    return deleteInPacedBatches(this.pruneBatch, () => statement.run(conversation, pos.time, pos.msgid, this.pruneBatch).changes);
  }

  async conversations(): Promise<string[]> {
    return this.selectConversations.all().map((r) => r.conversation);
  }

  async find(conversation: string, msgid: string): Promise<StoredMessage | null> {
    const row = this.selectOne.get(msgid, conversation);
    return row ? fromRow(row) : null;
  }

  async redact(conversation: string, msgid: string): Promise<boolean> {
    if (this.deleteOne.run(msgid, conversation).changes === 0) return false;
    if (dmParticipants(conversation)) this.forgetParticipants.run(conversation, conversation);
    return true;
  }

  async moveConversation(from: string, to: string, target: string): Promise<number> {
    if (from === to) return 0;
    return inPacedBatches(this.pruneBatch, () => this.moveBatch.run(to, target, from, this.pruneBatch).changes);
  }

  /** Where "strictly before ref" ends (exclusive upper bound), or null for an unknown msgid. */
  private beforeRef(conversation: string, ref: HistoryRef): Position | null {
    if ('msgid' in ref) {
      const row = this.selectTime.get(ref.msgid, conversation);
      return row ? { time: row.time, msgid: ref.msgid } : null;
    }
    return { time: Math.ceil(ref.time), msgid: '' };
  }

  /** Where "strictly after ref" starts, or null for an unknown msgid. */
  private afterRef(conversation: string, ref: HistoryRef): Lower | null {
    const pos = this.beforeRef(conversation, ref);
    return pos && lowerAfter(ref, pos);
  }

  /** One index range scan; the result is always ascending. */
  private range(
    conversation: string,
    lower: Lower | null,
    upper: Position | null,
    order: 'asc' | 'desc',
    limit: number,
    events: boolean,
  ): StoredMessage[] {
    const key = `${lower ? (lower.inclusive ? 'ge' : 'gt') : 'none'}|${upper ? 'lt' : 'none'}|${order}|${events ? 'all' : 'messages'}`;
    const params: Param[] = [conversation];
    if (lower) params.push(lower.pos.time, lower.pos.msgid);
    if (upper) params.push(upper.time, upper.msgid);
    params.push(limit);
    const rows = this.ranges.get(key)!.all(...params).map(fromRow);
    return order === 'desc' ? rows.reverse() : rows;
  }
}
