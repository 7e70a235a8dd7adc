// Retention pruning of a large old history while people chat, on SQLite and PostgreSQL.
//
//   npm run build && node bench/retention-prune.mjs [--store sqlite|postgres|both]
//     [--old 1000000] [--recent 100000] [--clients 20] [--rate 500] [--sweep-after 15]
//     [--pg-url postgres://postgres@127.0.0.1:5432/test]
//
// Fills #room0 with `old` messages from 60 days ago and `recent` from the last hours
// (bench/lib/history-fill.mjs), starts the real `parley serve` on that store with
// history.max_age_days 30 and a retention sweep `sweep-after` seconds after start, and has
// `clients` clients in #room0 send `rate` messages a second in all (echo-message). The first
// sweep deletes the old messages in bounded batches while the chat goes on. Reported: how
// long the prune took (first old row gone to last old row gone, polled with one index seek
// every 100 ms from this process), and the echo latency (send to own echo, which the server
// sends only after the message is stored) in the 8 s before the prune and during it: p50, p99,
// max.
// Loopback only; bounded by the fill size and a 10-minute deadline on the prune.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { checkLoopbackUrl, fillPostgres, fillSqlite } from './lib/history-fill.mjs';

const opts = { store: 'both', old: 1_000_000, recent: 100_000, clients: 20, rate: 500, sweepAfter: 15, pgUrl: 'postgres://postgres@127.0.0.1:5432/test' };
for (let i = 2; i < process.argv.length; i += 2) {
  const key = process.argv[i].replace(/^--/, '').replace(/-(\w)/g, (_, c) => c.toUpperCase());
  if (!(key in opts)) throw new Error(`unknown option ${process.argv[i]}`);
  opts[key] = typeof opts[key] === 'number' ? Number(process.argv[i + 1]) : process.argv[i + 1];
}
checkLoopbackUrl(opts.pgUrl);
const DAY = 86_400_000;
const now = Date.now();
const cutoff = now - 30 * DAY;
const prefix = randomBytes(4).toString('hex');
// Old: 1 ms apart, ending 60 days ago. Recent: 100 ms apart, ending now (i continues, so msgids stay unique).
const oldFill = { from: 0, to: opts.old, rooms: 1, base: now - 60 * DAY - opts.old, stepMs: 1, prefix };
const recentFill = { from: opts.old, to: opts.old + opts.recent, rooms: 1, base: now - (opts.old + opts.recent) * 100, stepMs: 100, prefix };

function startServer(env) {
  const child = spawn(process.execPath, ['bin/parley.js', 'serve', '--listen', '127.0.0.1:0', '--http', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      PARLEY_LOG__LEVEL: 'warn',
      PARLEY_HISTORY__REPLAY_ON_JOIN: '0',
      PARLEY_HISTORY__MAX_AGE_DAYS: '30',
      PARLEY_HISTORY__RETENTION_SWEEP_MINUTES: String(opts.sweepAfter / 60),
      PARLEY_LIMITS__EXEMPT_ADDRESSES: '127.0.0.1',
      ...env,
    },
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /IRC on 127\.0\.0\.1:(\d+)/.exec(out);
      if (match) resolve({ child, port: Number(match[1]), started: Date.now() });
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
    setTimeout(() => reject(new Error('server did not start in 60 s')), 60_000).unref();
  });
}

/** A client in #room0 with echo-message; `send()` records the latency of each own echo. */
async function chatter(port, nick, latencies) {
  const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
  socket.setEncoding('utf8');
  const sentAt = new Map();
  let partial = '';
  let joined;
  const ready = new Promise((resolve) => (joined = resolve));
  socket.on('data', (chunk) => {
    const lines = (partial + chunk).split('\r\n');
    partial = lines.pop();
    for (const line of lines) {
      if (line.startsWith(`:${nick}!`) && line.includes(' PRIVMSG #room0 :')) {
        const id = line.slice(line.lastIndexOf(' ') + 1);
        const t = sentAt.get(id);
        if (t !== undefined) {
          sentAt.delete(id);
          latencies.push({ at: Date.now(), ms: Number(process.hrtime.bigint() - t) / 1e6 });
        }
      } else if (line.includes(' 366 ')) joined();
      else if (line.startsWith('PING')) socket.write(`PONG ${line.slice(5)}\r\n`);
    }
  });
  socket.write(`CAP REQ :echo-message\r\nCAP END\r\nNICK ${nick}\r\nUSER ${nick} 0 * :bench\r\nJOIN #room0\r\n`);
  await ready;
  let n = 0;
  return {
    send() {
      const id = `${nick}-${n++}`;
      sentAt.set(id, process.hrtime.bigint());
      socket.write(`PRIVMSG #room0 :chatting while the old history goes ${id}\r\n`);
    },
    close: () => socket.destroy(),
  };
}

const pct = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN);
function summary(samples) {
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b);
  return `${ms.length} echoes: p50 ${pct(ms, 50).toFixed(2)} ms  p99 ${pct(ms, 99).toFixed(2)} ms  max ${ms.at(-1)?.toFixed(2)} ms`;
}

/** Runs the chat, watches the prune through `oldestTime()`, reports. */
async function measure(label, env, oldestTime) {
  const server = await startServer(env);
  const latencies = [];
  const clients = [];
  let timer = null;
  try {
    for (let i = 0; i < opts.clients; i++) clients.push(await chatter(server.port, `c${i}`, latencies));
    let next = 0;
    timer = setInterval(() => {
      // `rate` a second in all, round robin, in 10 ms ticks.
      for (let k = 0; k < opts.rate / 100; k++) clients[next++ % clients.length].send();
    }, 10);
    const first = await oldestTime();
    let pruneStart = null;
    let pruneEnd = null;
    const deadline = Date.now() + 10 * 60_000;
    while (Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const oldest = await oldestTime();
      if (pruneStart === null && oldest !== first) pruneStart = Date.now();
      if (oldest === null || oldest >= cutoff) {
        pruneEnd = Date.now();
        break;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    clearInterval(timer);
    timer = null;
    if (pruneEnd === null) throw new Error(`${label}: the prune did not finish within 10 minutes`);
    pruneStart ??= pruneEnd;
    console.log(`${label}: pruned ${opts.old.toLocaleString('en')} old messages in ${((pruneEnd - pruneStart) / 1000).toFixed(1)} s (first sweep ${((pruneStart - server.started) / 1000).toFixed(1)} s after start), ${opts.clients} clients chatting at ${opts.rate} msg/s meanwhile`);
    // The 8 s before the prune: after the clients' start-up, which is not what is compared.
    console.log(`  before the prune: ${summary(latencies.filter((s) => s.at < pruneStart && s.at >= pruneStart - 8000))}`);
    console.log(`  during the prune: ${summary(latencies.filter((s) => s.at >= pruneStart && s.at <= pruneEnd))}`);
  } finally {
    if (timer) clearInterval(timer);
    for (const c of clients) c.close();
    server.child.kill('SIGTERM');
    await new Promise((resolve) => server.child.once('exit', resolve));
  }
}

if (opts.store === 'sqlite' || opts.store === 'both') {
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-retention-'));
  try {
    fillSqlite(dir, oldFill);
    fillSqlite(dir, recentFill);
    const db = new Database(join(dir, 'parley.sqlite3'), { readonly: true });
    const oldest = db.prepare("SELECT min(time) AS t FROM messages WHERE conversation = '#room0'").pluck();
    try {
      await measure('SQLite', { PARLEY_DATA_DIR: dir }, async () => oldest.get());
    } finally {
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (opts.store === 'postgres' || opts.store === 'both') {
  const schema = `parley_bench_ret_${prefix}`;
  const admin = new pg.Client({ connectionString: opts.pgUrl });
  await admin.connect();
  try {
    await fillPostgres(opts.pgUrl, schema, oldFill);
    await fillPostgres(opts.pgUrl, schema, recentFill);
    const oldest = async () => Number((await admin.query(`SELECT min(time) AS t FROM ${schema}.messages WHERE conversation = '#room0'`)).rows[0].t ?? NaN) || null;
    await measure('PostgreSQL', { PARLEY_STORE__URL: opts.pgUrl, PARLEY_STORE__SCHEMA: schema }, oldest);
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await admin.end();
  }
}
