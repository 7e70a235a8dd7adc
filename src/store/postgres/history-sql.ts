/**
 * The SQL of the history queries. Each CHATHISTORY query is one range scan of
 * `messages_position (conversation, time, msgid)` in the order asked for, stopped by LIMIT:
 * no sort, no scan beyond the rows returned (test/store/postgres.test.ts checks the plans).
 *
 * A msgid ref is resolved inside the same statement: the bound is the row value
 * `((SELECT time FROM messages WHERE msgid = $k AND conversation = $1), $k)`, an InitPlan
 * (one primary-key lookup) whose result becomes the index scan's start or stop key. A msgid
 * that is not in the conversation makes the subquery NULL, the comparison NULL, the result [].
 * So latest/before/after/around are one round trip, whatever kind of ref they get.
 */

/**
 * A point in a conversation's (time, msgid) order: an explicit pair (a time T becomes (T, ''),
 * before every real msgid at T), or the position of a message given by its msgid.
 */
export type Position = { time: number; msgid: string } | { ofMsgid: string };

/** A lower bound: rows with (time, msgid) > pos, or >= pos when inclusive. */
export interface Lower {
  pos: Position;
  inclusive: boolean;
}

export interface Range {
  lower: Lower | null;
  /** Exclusive upper bound. */
  upper: Position | null;
  order: 'asc' | 'desc';
  /** null: no limit. */
  limit: number | null;
  /** Include draft/event-playback events; otherwise messages only (filtered in the scan). */
  events?: boolean;
}

/** Messages only (no draft/event-playback events): what queries see unless they ask for events. */
export const MESSAGES_ONLY = "command IN ('PRIVMSG', 'NOTICE')";
/** What REDACT may find and delete: messages, and TAGMSG (a reaction may be taken back). */
export const REDACTABLE = "command IN ('PRIVMSG', 'NOTICE', 'TAGMSG')";

export const MESSAGE_COLUMNS = 'msgid, time, conversation, source, account, command, target, text, tags, params';

/** A statement: its text, a name for its shape (prepared once per connection), its values. */
export interface Statement {
  text: string;
  name: string;
  values: unknown[];
}

function positionSql(pos: Position, values: unknown[]): { sql: string; shape: string } {
  if ('ofMsgid' in pos) {
    values.push(pos.ofMsgid);
    const k = `$${values.length}`;
    return { sql: `((SELECT r.time FROM messages AS r WHERE r.msgid = ${k} AND r.conversation = $1), ${k}::text)`, shape: 'id' };
  }
  values.push(pos.time, pos.msgid);
  return { sql: `($${values.length - 1}::bigint, $${values.length}::text)`, shape: 'at' };
}

/** One SELECT of a range; `values` must already hold the conversation as $1. */
function rangeSelect(range: Range, values: unknown[], part: number | null): { sql: string; shape: string } {
  const where = ['conversation = $1'];
  let shape = '';
  if (range.lower) {
    const p = positionSql(range.lower.pos, values);
    where.push(`(time, msgid) ${range.lower.inclusive ? '>=' : '>'} ${p.sql}`);
    shape += `${range.lower.inclusive ? 'ge' : 'gt'}-${p.shape}`;
  }
  if (range.upper) {
    const p = positionSql(range.upper, values);
    where.push(`(time, msgid) < ${p.sql}`);
    shape += `lt-${p.shape}`;
  }
  // A filter on the rows of the same range scan: events in between are skipped, never counted
  // against LIMIT (their number is bounded: core/history/events.ts).
  if (!range.events) {
    where.push(MESSAGES_ONLY);
    shape += '-msg';
  }
  const dir = range.order === 'asc' ? 'ASC' : 'DESC';
  values.push(range.limit);
  const select = part === null ? MESSAGE_COLUMNS : `${part} AS part, ${MESSAGE_COLUMNS}`;
  return {
    sql: `SELECT ${select} FROM messages WHERE ${where.join(' AND ')} ORDER BY time ${dir}, msgid ${dir} LIMIT $${values.length}`,
    shape: `${shape || 'all'}-${range.order}`,
  };
}

/** One range, rows in `range.order`. */
export function rangeStatement(conversation: string, range: Range): Statement {
  const values: unknown[] = [conversation];
  const { sql, shape } = rangeSelect(range, values, null);
  return { text: sql, name: `history.range.${shape}`, values };
}

/**
 * Two ranges in one statement (AROUND: the closest ones before, descending, then the rest
 * ascending), each tagged with `part` 0 or 1. Append runs its inputs one after the other, so
 * each part's rows keep their own order.
 */
export function twoRangeStatement(conversation: string, first: Range, second: Range): Statement {
  const values: unknown[] = [conversation];
  const a = rangeSelect(first, values, 0);
  const b = rangeSelect(second, values, 1);
  return { text: `(${a.sql}) UNION ALL (${b.sql})`, name: `history.around.${a.shape}.${b.shape}`, values };
}

/**
 * TARGETS: for each listed conversation, its latest message strictly inside (lo, hi): one
 * backward index probe each (LIMIT 1), then the few results sorted. `dir` DESC keeps the
 * latest ones (a reversed window); the caller reverses them back to ascending.
 */
export function targetsStatement(conversations: string[], lo: number, hi: number, dir: 'ASC' | 'DESC', limit: number | null): Statement {
  return {
    name: `history.targets.${dir}`,
    text: `SELECT c.conversation, l.latest
             FROM (SELECT DISTINCT unnest($1::text[]) AS conversation) AS c
             CROSS JOIN LATERAL (
               SELECT m.time AS latest FROM messages AS m
                WHERE m.conversation = c.conversation AND m.time > $2 AND m.time < $3 AND m.${MESSAGES_ONLY}
                ORDER BY m.time DESC, m.msgid DESC LIMIT 1) AS l
            ORDER BY l.latest ${dir}, c.conversation COLLATE "C" ${dir} LIMIT $4`,
    values: [conversations, lo, hi, limit],
  };
}

/**
 * APPEND: the whole batch in one statement (one round trip, one transaction): rows arrive as
 * one array per column and `unnest` turns them into rows. Duplicate msgids are skipped
 * (ON CONFLICT DO NOTHING); the DM participants of the rows really inserted are recorded too.
 */
export const APPEND_SQL = `
  WITH inserted AS (
    INSERT INTO messages (${MESSAGE_COLUMNS})
    SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::json[], $10::json[])
    ON CONFLICT (msgid) DO NOTHING
    RETURNING conversation
  ), dm AS (
    SELECT DISTINCT conversation FROM inserted WHERE conversation LIKE '@%:%'
  )
  INSERT INTO dm_participants (account, conversation)
  SELECT split_part(substr(conversation, 2), ':', 1), conversation FROM dm
  UNION
  SELECT substr(conversation, strpos(conversation, ':') + 1), conversation FROM dm
  ON CONFLICT DO NOTHING`;

/** Distinct conversations by skip-scan: one index probe per conversation, not per message. */
export const CONVERSATIONS_SQL = `
  WITH RECURSIVE c(k) AS (
    (SELECT conversation FROM messages ORDER BY conversation LIMIT 1)
    UNION ALL
    SELECT (SELECT m.conversation FROM messages AS m WHERE m.conversation > c.k ORDER BY m.conversation LIMIT 1)
      FROM c WHERE c.k IS NOT NULL)
  SELECT k AS conversation FROM c WHERE k IS NOT NULL`;

/**
 * One bounded batch of a prune: the oldest `$n` rows matching `condition`, deleted by ctid, so
 * each statement holds its row locks briefly and a large prune never blocks writers for long.
 */
export function pruneBatchSql(condition: string, limitParam: number): string {
  return `DELETE FROM messages WHERE ctid = ANY (ARRAY(
            SELECT ctid FROM messages WHERE conversation = $1 AND ${condition}
             ORDER BY time, msgid LIMIT $${limitParam}))`;
}
