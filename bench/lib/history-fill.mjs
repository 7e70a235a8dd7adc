// Fills a store with a large synthetic room history, fast, for the history benchmarks
// (bench/chathistory-latency.mjs, bench/retention-prune.mjs).
//
// Message i (0-based) goes to room `#room<i % rooms>`, at time `base + i * stepMs` (integer
// ms), with msgid `<prefix><i, 10 digits>`, so a benchmark can name any stored message without
// keeping ten million msgids in memory. Texts vary (a word from 20,011 and one from 331, then a
// fixed sentence) so the search index has realistic work.
//
// SQLite: through the store's own batch append (5,000 per transaction), as the server writes.
// PostgreSQL: the store's migrations, then server-side INSERT ... SELECT from generate_series
// in chunks of 200,000 rows on two connections at once, with the GIN search index dropped
// during the fill and rebuilt after (a bulk GIN build is many times faster than 10M inserts
// into it), then VACUUM ANALYZE. The schema ends up exactly as migrations leave it.
import pg from 'pg';
import { silentLogger } from '../../dist/observability/logger.js';
import { openPgStore } from '../../dist/store/postgres/store.js';
import { openSqliteStore } from '../../dist/store/sqlite/store.js';

export const roomName = (i, rooms) => `#room${i % rooms}`;
export const msgidOf = (prefix, i) => `${prefix}${String(i).padStart(10, '0')}`;
const textOf = (i) => `w${i % 20011} and v${i % 331}: the quick brown fox jumps over the lazy dog`;

/** Loopback PostgreSQL URLs only (benchmarks never leave the machine). */
export function checkLoopbackUrl(url) {
  if (!/^postgres(ql)?:\/\/([^@/]*@)?(127\.\d+\.\d+\.\d+|localhost|\[::1\])[:/]/.test(url)) throw new Error(`${url}: loopback PostgreSQL servers only`);
}

function progress(label, done, total, started) {
  const s = (Date.now() - started) / 1000;
  process.stderr.write(`\r${label}: ${done.toLocaleString('en')} / ${total.toLocaleString('en')} (${Math.round(done / Math.max(s, 0.001)).toLocaleString('en')}/s)   `);
  if (done === total) process.stderr.write('\n');
}

/** Messages [from, to) into a SQLite data directory. */
export function fillSqlite(dir, { from = 0, to, rooms, base, stepMs, prefix }) {
  const store = openSqliteStore(dir);
  const started = Date.now();
  try {
    for (let start = from; start < to; start += 5000) {
      const batch = [];
      for (let i = start; i < Math.min(start + 5000, to); i++) {
        const room = roomName(i, rooms);
        batch.push({
          msgid: msgidOf(prefix, i), time: base + i * stepMs, conversation: room.toLowerCase(), source: `user${i % 300}!~u@127.0.0.1`,
          account: null, command: 'PRIVMSG', target: room, text: textOf(i), tags: {},
        });
      }
      store.history.appendSync(batch);
      if ((start - from) % 500_000 === 0 || start + 5000 >= to) progress('SQLite fill', Math.min(start + 5000, to) - from, to - from, started);
    }
  } finally {
    store.closeSync();
  }
}

/** Messages [from, to) into `schema` (created and migrated if new). */
export async function fillPostgres(url, schema, { from = 0, to, rooms, base, stepMs, prefix }) {
  const store = await openPgStore({ url, schema, logger: silentLogger, poolSize: 2 });
  await store.close();
  const connect = async () => {
    const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
    await client.connect();
    return client;
  };
  const admin = await connect();
  const [index] = (await admin.query(`SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname = 'messages_search'`, [schema])).rows;
  await admin.query('DROP INDEX IF EXISTS messages_search');
  const insert = `
    INSERT INTO messages (msgid, conversation, time, source, account, command, target, text, tags)
    SELECT $1 || lpad(i::text, 10, '0'), '#room' || (i % $2), $3::bigint + i * $4::bigint,
           'user' || (i % 300) || '!~u@127.0.0.1', NULL, 'PRIVMSG', '#room' || (i % $2),
           'w' || (i % 20011) || ' and v' || (i % 331) || ': the quick brown fox jumps over the lazy dog', '{}'
      FROM generate_series($5::bigint, $6::bigint) AS i`;
  const CHUNK = 200_000;
  let next = from;
  let done = 0;
  const started = Date.now();
  const worker = async () => {
    const client = await connect();
    try {
      while (next < to) {
        const start = next;
        const end = Math.min(start + CHUNK, to);
        next = end;
        await client.query(insert, [prefix, rooms, base, stepMs, start, end - 1]);
        done += end - start;
        progress('PostgreSQL fill', done, to - from, started);
      }
    } finally {
      await client.end();
    }
  };
  await Promise.all([worker(), worker()]);
  const t = Date.now();
  await admin.query("SET maintenance_work_mem = '512MB'");
  if (index) await admin.query(index.indexdef);
  await admin.query('VACUUM ANALYZE messages');
  process.stderr.write(`PostgreSQL: search index rebuilt and VACUUM ANALYZE in ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
  await admin.end();
}
