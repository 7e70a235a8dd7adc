// SQLite history store benchmark: bulk append, then CHATHISTORY BEFORE-style queries.
//
//   npm run build && node bench/store-history.mjs [messages=1000000] [queries=2000] [--random-msgids]
//
// Imports the compiled store from dist/. Inserts `messages` messages into one conversation in
// transactions of 1,000 (HistoryStore.appendSync, as the server's history writer does) and
// reports inserts/second; then runs `queries` calls of before(conv, { msgid: random existing },
// 50) and reports p50/p99/max latency. Works in a temp directory, deleted at the end.
// Msgids have the server's shape (per-process random prefix + fixed-width base-36 counter,
// core/server.ts newMsgid), so they arrive in index order; --random-msgids makes them random
// instead (worst case for the UNIQUE msgid index).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../dist/store/sqlite/store.js';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const RANDOM_MSGIDS = process.argv.includes('--random-msgids');
const TOTAL = Number(args[0] ?? 1_000_000);
const QUERIES = Number(args[1] ?? 2000);
const BATCH = 1000;
const LIMIT = 50;
const CONV = '#bench';
const BASE = Date.UTC(2026, 0, 1);
const PREFIX = randomBytes(6).toString('base64url');

const dir = mkdtempSync(join(tmpdir(), 'parley-bench-store-'));
const store = openSqliteStore(dir);
const msgids = new Array(TOTAL);
const ms = (ns) => Number(ns) / 1e6;

try {
  // ---- inserts --------------------------------------------------------------------------
  let time = BASE;
  let appendNs = 0n;
  const wallStart = process.hrtime.bigint();
  for (let start = 0; start < TOTAL; start += BATCH) {
    const batch = [];
    for (let i = start; i < Math.min(start + BATCH, TOTAL); i++) {
      time += Math.floor(Math.random() * 4); // 0-3 ms apart: some messages share a time
      const msgid = RANDOM_MSGIDS ? randomBytes(12).toString('base64url') : `${PREFIX}${i.toString(36).padStart(8, '0')}`;
      msgids[i] = msgid;
      batch.push({
        msgid,
        time,
        conversation: CONV,
        source: `user${i % 500}!~u@host-${i % 97}.example.net`,
        account: i % 3 === 0 ? null : `user${i % 500}`,
        command: 'PRIVMSG',
        target: '#Bench',
        text: `message number ${i}: the quick brown fox jumps over the lazy dog ${'x'.repeat(i % 40)}`,
        tags: i % 10 === 0 ? { '+draft/reply': msgids[Math.max(0, i - 5)] } : {},
      });
    }
    const t0 = process.hrtime.bigint();
    store.history.appendSync(batch);
    appendNs += process.hrtime.bigint() - t0;
  }
  const wallNs = process.hrtime.bigint() - wallStart;
  const sizeMb =
    readdirSync(dir).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0) / (1024 * 1024);
  console.log(`inserted ${TOTAL.toLocaleString('en')} messages in batches of ${BATCH} (${RANDOM_MSGIDS ? 'random' : 'server-style'} msgids)`);
  console.log(`  appendSync time: ${(ms(appendNs) / 1000).toFixed(2)} s -> ${Math.round(TOTAL / (ms(appendNs) / 1000)).toLocaleString('en')} inserts/s`);
  console.log(`  wall (incl. building messages): ${(ms(wallNs) / 1000).toFixed(2)} s -> ${Math.round(TOTAL / (ms(wallNs) / 1000)).toLocaleString('en')} inserts/s`);
  console.log(`  database files: ${sizeMb.toFixed(0)} MiB`);

  // ---- BEFORE queries ---------------------------------------------------------------------
  const pick = () => msgids[Math.floor(Math.random() * TOTAL)];
  for (let i = 0; i < 200; i++) await store.history.before(CONV, { msgid: pick() }, LIMIT); // warm-up
  const latencies = [];
  let returned = 0;
  for (let i = 0; i < QUERIES; i++) {
    const ref = { msgid: pick() };
    const t0 = process.hrtime.bigint();
    const rows = await store.history.before(CONV, ref, LIMIT);
    latencies.push(ms(process.hrtime.bigint() - t0));
    returned += rows.length;
  }
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)];
  console.log(`before(conv, {msgid: random}, ${LIMIT}) x ${QUERIES} (avg ${(returned / QUERIES).toFixed(1)} rows):`);
  console.log(`  p50 ${pct(50).toFixed(3)} ms   p99 ${pct(99).toFixed(3)} ms   max ${latencies.at(-1).toFixed(3)} ms`);
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
