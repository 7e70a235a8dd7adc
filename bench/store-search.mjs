// Full-text search over stored history (SearchStore): query latency with a large history.
//
//   npx tsc -p tsconfig.json && node bench/store-search.mjs [--store sqlite|postgres|both]
//     [--messages 1000000] [--more 100000] [--queries 500] [--conversations 200] [--search-in 20]
//     [--pg-url postgres://postgres@127.0.0.1:5432/test]
//
// Imports the compiled store from dist/. For each store:
//  1. builds a history of `messages` messages at the schema before search (SQLite migrations
//     1-2, PostgreSQL 1) through the history store's batch append (1,000 per batch), spread
//     over `conversations` conversations;
//  2. opens the store, which runs the search migration on it (the upgrade an existing
//     installation goes through: index built, rows backfilled) and times it;
//  3. appends `more` messages with the index in place (what indexing costs each append; on
//     PostgreSQL these also sit in the GIN pending list, as on a live server);
//  4. runs `queries` two-word searches of `search-in` conversations (a user in 10% of the
//     rooms), limit 50, in three kinds: two words of a random stored message (the usual case:
//     something to find), two rare words, two of the 50 most common words (the worst case).
// Texts are 4-16 words drawn from a 20,000-word vocabulary with Zipf frequencies (s = 1.07),
// reproducible (fixed seed). SQLite works in a temp directory, PostgreSQL in a fresh schema on
// a loopback server; both are deleted at the end. Reported: p50 / p99 / max per kind.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import pg from 'pg';
import { silentLogger } from '../dist/observability/logger.js';
import { parseSearchQuery } from '../dist/store/search-query.js';
import { SqliteHistoryStore } from '../dist/store/sqlite/history.js';
import { MIGRATIONS as SQLITE_MIGRATIONS, migrate as sqliteMigrate } from '../dist/store/sqlite/migrations.js';
import { openSqliteStore, SQLITE_FILE_NAME } from '../dist/store/sqlite/store.js';
import { PgHistoryStore } from '../dist/store/postgres/history.js';
import { MIGRATIONS as PG_MIGRATIONS, migrate as pgMigrate } from '../dist/store/postgres/migrations.js';
import { PgPool } from '../dist/store/postgres/pool.js';
import { openPgStore } from '../dist/store/postgres/store.js';

const opts = { store: 'both', messages: 1_000_000, more: 100_000, queries: 500, conversations: 200, searchIn: 20, pgUrl: 'postgres://postgres@127.0.0.1:5432/test' };
for (let i = 2; i < process.argv.length; i += 2) {
  const key = process.argv[i].replace(/^--/, '').replace(/-(\w)/g, (_, c) => c.toUpperCase());
  if (!(key in opts)) throw new Error(`unknown option ${process.argv[i]}`);
  opts[key] = typeof opts[key] === 'number' ? Number(process.argv[i + 1]) : process.argv[i + 1];
}
const u = new URL(opts.pgUrl);
if (!['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname)) throw new Error('loopback PostgreSQL only');

const BATCH = 1000;
const LIMIT = 50;
const VOCABULARY = 20_000;
const BASE = Date.UTC(2026, 0, 1);

// ---- reproducible text ------------------------------------------------------------------
let seed = 0x2545f491;
const random = () => {
  // xorshift32
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 4294967296;
};
const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'ti', 'vo', 'ze', 'pa', 'do', 'fi', 'gu', 'he', 'ja', 'be'];
const word = (rank) => {
  let w = '';
  let n = rank + 16;
  while (n > 0) {
    w += SYLLABLES[n % 16];
    n = Math.floor(n / 16);
  }
  return w;
};
const WORDS = Array.from({ length: VOCABULARY }, (_, r) => word(r));
const cumulative = new Float64Array(VOCABULARY);
{
  let sum = 0;
  for (let r = 0; r < VOCABULARY; r++) cumulative[r] = sum += 1 / (r + 1) ** 1.07;
  for (let r = 0; r < VOCABULARY; r++) cumulative[r] /= sum;
}
const zipfRank = () => {
  const x = random();
  let lo = 0;
  let hi = VOCABULARY - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
};
const texts = [];
const conversationOf = (i) => `#room${(i * 2654435761) % opts.conversations}`;
function makeMessage(i) {
  const n = 4 + Math.floor(random() * 13);
  const ws = [];
  for (let k = 0; k < n; k++) ws.push(WORDS[zipfRank()]);
  const text = ws.join(' ');
  texts[i] = text;
  const conversation = conversationOf(i);
  return {
    msgid: `${PREFIX}${i.toString(36).padStart(8, '0')}`,
    time: BASE + i * 10,
    conversation,
    source: `user${i % 500}!~u@host.example`,
    account: `user${i % 500}`,
    command: 'PRIVMSG',
    target: conversation,
    text,
    tags: {},
  };
}
const PREFIX = randomBytes(6).toString('base64url');
const ms = (ns) => Number(ns) / 1e6;
const rate = (n, nanos) => Math.round(n / (ms(nanos) / 1000)).toLocaleString('en');

async function appendAll(append, from, to) {
  const t0 = process.hrtime.bigint();
  for (let start = from; start < to; start += BATCH) {
    const batch = [];
    for (let i = start; i < Math.min(start + BATCH, to); i++) batch.push(makeMessage(i));
    await append(batch);
  }
  return process.hrtime.bigint() - t0;
}

// ---- queries ----------------------------------------------------------------------------
const searched = Array.from({ length: opts.searchIn }, (_, k) => `#room${Math.floor((k * opts.conversations) / opts.searchIn)}`);
function queryKinds(total) {
  const pickDistinct = (draw) => {
    const a = draw();
    let b = draw();
    for (let tries = 0; b === a && tries < 10; tries++) b = draw();
    return `${a} ${b}`;
  };
  return {
    'words of a stored message': () => {
      const ws = texts[Math.floor(random() * total)].split(' ');
      return pickDistinct(() => ws[Math.floor(random() * ws.length)]);
    },
    'two rare words (rank 2k-20k)': () => pickDistinct(() => WORDS[2000 + Math.floor(random() * (VOCABULARY - 2000))]),
    'two common words (top 50)': () => pickDistinct(() => WORDS[Math.floor(random() * 50)]),
  };
}

async function measure(label, search, total) {
  const results = [];
  for (const [kind, make] of Object.entries(queryKinds(total))) {
    const n = kind.includes('common') ? Math.min(opts.queries, 200) : opts.queries;
    for (let i = 0; i < 20; i++) await search(make()); // warm-up
    const latencies = [];
    let rows = 0;
    for (let i = 0; i < n; i++) {
      const text = make();
      const t0 = process.hrtime.bigint();
      const page = await search(text);
      latencies.push(ms(process.hrtime.bigint() - t0));
      rows += page.messages.length;
    }
    latencies.sort((a, b) => a - b);
    const pct = (p) => latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)];
    results.push({ kind, n, p50: pct(50), p99: pct(99), max: latencies.at(-1), rows: rows / n });
  }
  console.log(`${label}: search(2 words, ${opts.searchIn} of ${opts.conversations} conversations, limit ${LIMIT})`);
  for (const r of results) {
    console.log(`  ${r.kind.padEnd(30)} x${String(r.n).padEnd(4)} p50 ${r.p50.toFixed(2).padStart(7)} ms  p99 ${r.p99.toFixed(2).padStart(7)} ms  max ${r.max.toFixed(2).padStart(7)} ms  (avg ${r.rows.toFixed(1)} rows)`);
  }
}

const request = (text) => {
  const query = parseSearchQuery(text);
  if ('error' in query) throw new Error(`${text}: ${query.message}`);
  return { conversations: searched, query, limit: LIMIT };
};

// ---- SQLite -----------------------------------------------------------------------------
async function benchSqlite() {
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-search-'));
  try {
    const db = new Database(join(dir, SQLITE_FILE_NAME));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('cache_size = -65536');
    sqliteMigrate(db, SQLITE_MIGRATIONS.slice(0, 2)); // the schema before search (migration 3)
    const before = new SqliteHistoryStore(db);
    const t1 = await appendAll(async (b) => before.appendSync(b), 0, opts.messages);
    db.close();
    console.log(`SQLite: ${opts.messages.toLocaleString('en')} messages without the index: ${rate(opts.messages, t1)} inserts/s`);
    const t2 = process.hrtime.bigint();
    const store = openSqliteStore(dir);
    console.log(`SQLite: upgrade (migrations 3-${SQLITE_MIGRATIONS.length}: FTS5 'rebuild' of ${opts.messages.toLocaleString('en')} rows): ${(ms(process.hrtime.bigint() - t2) / 1000).toFixed(1)} s`);
    try {
      const t3 = await appendAll(async (b) => store.history.appendSync(b), opts.messages, opts.messages + opts.more);
      console.log(`SQLite: ${opts.more.toLocaleString('en')} more with the index: ${rate(opts.more, t3)} inserts/s`);
      const size = readdirSync(dir).reduce((s, f) => s + statSync(join(dir, f)).size, 0) / 2 ** 20;
      const fts = store.db.prepare("SELECT sum(pgsize) AS b FROM dbstat WHERE name LIKE 'messages_fts%'").get();
      console.log(`SQLite: files ${size.toFixed(0)} MiB, of which the FTS5 index ${(fts.b / 2 ** 20).toFixed(0)} MiB`);
      await measure('SQLite', (text) => store.search.search(request(text)), opts.messages + opts.more);
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- PostgreSQL -------------------------------------------------------------------------
async function benchPostgres() {
  const schema = `parley_bench_search_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: opts.pgUrl });
  await admin.connect();
  try {
    await pgMigrate(admin, schema, PG_MIGRATIONS.slice(0, 1)); // the schema before search (migration 2)
    const pool = new PgPool({ url: opts.pgUrl, schema, size: 4, logger: silentLogger });
    const before = new PgHistoryStore(pool);
    const t1 = await appendAll((b) => before.append(b), 0, opts.messages);
    await pool.close();
    console.log(`PostgreSQL: ${opts.messages.toLocaleString('en')} messages without the index: ${rate(opts.messages, t1)} inserts/s`);
    const t2 = process.hrtime.bigint();
    const store = await openPgStore({ url: opts.pgUrl, schema, logger: silentLogger, poolSize: 4 });
    console.log(`PostgreSQL: upgrade (migrations 2-${PG_MIGRATIONS.length}: generated column + GIN index over ${opts.messages.toLocaleString('en')} rows): ${(ms(process.hrtime.bigint() - t2) / 1000).toFixed(1)} s`);
    try {
      const t3 = await appendAll((b) => store.history.append(b), opts.messages, opts.messages + opts.more);
      console.log(`PostgreSQL: ${opts.more.toLocaleString('en')} more with the index: ${rate(opts.more, t3)} inserts/s`);
      await store.db.query('ANALYZE messages');
      const [sizes] = await store.db.query(
        `SELECT pg_total_relation_size('messages') AS total, pg_relation_size('messages_search') AS gin`,
      );
      console.log(`PostgreSQL: messages ${(sizes.total / 2 ** 20).toFixed(0)} MiB with indexes, of which GIN ${(sizes.gin / 2 ** 20).toFixed(0)} MiB`);
      await measure('PostgreSQL', (text) => store.search.search(request(text)), opts.messages + opts.more);
    } finally {
      await store.close();
    }
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await admin.end();
  }
}

if (opts.store === 'sqlite' || opts.store === 'both') await benchSqlite();
if (opts.store === 'postgres' || opts.store === 'both') await benchPostgres();
