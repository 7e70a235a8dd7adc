// End-to-end CHATHISTORY BEFORE latency with a large stored history, on SQLite and PostgreSQL.
//
//   npm run build && node bench/chathistory-latency.mjs [--store sqlite|postgres|both]
//     [--messages 10000000] [--rooms 10] [--queries 2000]
//     [--refs uniform|recent] [--pg-url postgres://postgres@127.0.0.1:5432/test] [--keep 1]
//
// Fills a fresh store with `messages` room messages spread over `rooms` rooms
// (bench/lib/history-fill.mjs: SQLite through the store's batch append, PostgreSQL with
// server-side inserts), starts the real `parley serve` on it, joins every room over TCP and
// sends `queries` CHATHISTORY BEFORE requests (limit 50) with msgid refs drawn uniformly from
// the whole history (--refs uniform, the worst case: nearly every page read is cold) or from the
// newest 1% (--refs recent: scrolling back in recent chat, the usual case), one at a time, timing each from the request to the end of its batch.
// Loopback only; bounded. SQLite works in a temp directory, PostgreSQL in a fresh schema; both
// are deleted at the end. With --keep 1 they are named after the message count
// (parley-bench-chathistory-<N> in the temp directory, schema parley_bench_ch_<N>) and kept,
// and a later run with --keep 1 that finds them filled measures again without filling (for
// repeating a measurement, e.g. under `chrt`/`nice` on a shared machine).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { checkLoopbackUrl, fillPostgres, fillSqlite, msgidOf, roomName } from './lib/history-fill.mjs';

const opts = { store: 'both', messages: 10_000_000, rooms: 10, queries: 2000, pgUrl: 'postgres://postgres@127.0.0.1:5432/test', keep: 0, refs: 'uniform' };
for (let i = 2; i < process.argv.length; i += 2) {
  const key = process.argv[i].replace(/^--/, '').replace(/-(\w)/g, (_, c) => c.toUpperCase());
  if (!(key in opts)) throw new Error(`unknown option ${process.argv[i]}`);
  opts[key] = typeof opts[key] === 'number' ? Number(process.argv[i + 1]) : process.argv[i + 1];
}
if (!['uniform', 'recent'].includes(opts.refs)) throw new Error('--refs: uniform or recent');
checkLoopbackUrl(opts.pgUrl);
const LIMIT = 50;
const STEP_MS = 10;
const prefix = opts.keep ? 'kept' : randomBytes(4).toString('hex');
const base = Date.UTC(2026, 0, 1);

function startServer(env) {
  const child = spawn(process.execPath, ['bin/parley.js', 'serve', '--listen', '127.0.0.1:0', '--http', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    // The reader is exempt from flood control, which would pace it to 4 commands a second.
    env: { ...process.env, PARLEY_HISTORY__REPLAY_ON_JOIN: '0', PARLEY_LOG__LEVEL: 'warn', PARLEY_LIMITS__EXEMPT_ADDRESSES: '127.0.0.1', ...env },
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /IRC on 127\.0\.0\.1:(\d+)/.exec(out);
      if (match) resolve({ child, port: Number(match[1]) });
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
    setTimeout(() => reject(new Error('server did not start in 60 s')), 60_000).unref();
  });
}

/** A minimal line client: `waitFor(predicate)` resolves with the first matching line. */
function connect(port) {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.setNoDelay(true);
  let buffer = '';
  let waiter = null;
  socket.on('data', (chunk) => {
    buffer += chunk;
    let index;
    while ((index = buffer.indexOf('\r\n')) !== -1) {
      const line = buffer.slice(0, index);
      buffer = buffer.slice(index + 2);
      if (line.startsWith('PING')) socket.write(`PONG ${line.slice(5)}\r\n`);
      if (waiter && waiter.predicate(line)) {
        const { resolve } = waiter;
        waiter = null;
        resolve(line);
      }
    }
  });
  return {
    send: (line) => socket.write(line + '\r\n'),
    waitFor: (predicate) => new Promise((resolve) => (waiter = { predicate, resolve })),
    close: () => socket.destroy(),
  };
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function measure(label, env) {
  const server = await startServer(env);
  try {
    const client = connect(server.port);
    client.send('CAP REQ :draft/chathistory batch server-time message-tags');
    client.send('CAP END');
    client.send('NICK reader');
    client.send('USER reader 0 * :reader');
    await client.waitFor((l) => / 001 /.test(l));
    for (let r = 0; r < opts.rooms; r++) {
      client.send(`JOIN ${roomName(r, opts.rooms)}`);
      await client.waitFor((l) => / 366 /.test(l));
    }
    const latencies = [];
    for (let q = 0; q < opts.queries; q++) {
      const span = opts.refs === 'recent' ? Math.ceil(opts.messages / 100) : opts.messages;
      const i = opts.messages - 1 - Math.floor(Math.random() * span);
      const start = process.hrtime.bigint();
      client.send(`CHATHISTORY BEFORE ${roomName(i, opts.rooms)} msgid=${msgidOf(prefix, i)} ${LIMIT}`);
      const end = await client.waitFor((l) => /^(:\S+ )?BATCH -/.test(l) || /FAIL CHATHISTORY/.test(l));
      if (end.includes('FAIL')) throw new Error(`${label}: ${end}`);
      latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    latencies.sort((a, b) => a - b);
    const f = (v) => v.toFixed(2);
    console.log(`${label}: CHATHISTORY BEFORE, limit ${LIMIT}, ${opts.queries} queries (${opts.refs} refs) over ${opts.messages.toLocaleString('en')} stored messages in ${opts.rooms} rooms:`);
    console.log(`  p50 ${f(percentile(latencies, 50))} ms  p90 ${f(percentile(latencies, 90))} ms  p99 ${f(percentile(latencies, 99))} ms  max ${f(latencies.at(-1))} ms`);
    client.close();
  } finally {
    server.child.kill('SIGTERM');
    await new Promise((resolve) => server.child.once('exit', resolve));
  }
}

const fillOptions = { to: opts.messages, rooms: opts.rooms, base, stepMs: STEP_MS, prefix };

const filledNote = (label, t) => console.log(`${label}: stored ${opts.messages.toLocaleString('en')} messages in ${((Date.now() - t) / 1000).toFixed(0)} s`);

if (opts.store === 'sqlite' || opts.store === 'both') {
  const dir = opts.keep ? join(tmpdir(), `parley-bench-chathistory-${opts.messages}`) : mkdtempSync(join(tmpdir(), 'parley-bench-chathistory-'));
  try {
    const file = join(dir, 'parley.sqlite3');
    const filled = opts.keep && existsSync(file) && new Database(file, { readonly: true }).prepare('SELECT count(*) FROM messages').pluck().get() === opts.messages;
    if (filled) console.log(`SQLite: reusing the ${opts.messages.toLocaleString('en')} messages in ${dir}`);
    else {
      rmSync(dir, { recursive: true, force: true });
      const t = Date.now();
      fillSqlite(dir, fillOptions);
      filledNote('SQLite', t);
    }
    await measure('SQLite', { PARLEY_DATA_DIR: dir });
  } finally {
    if (!opts.keep) rmSync(dir, { recursive: true, force: true });
  }
}

if (opts.store === 'postgres' || opts.store === 'both') {
  const schema = opts.keep ? `parley_bench_ch_${opts.messages}` : `parley_bench_ch_${prefix}`;
  const admin = new pg.Client({ connectionString: opts.pgUrl });
  await admin.connect();
  try {
    const exists = (await admin.query('SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = $2', [schema, 'messages'])).rowCount > 0;
    const filled = opts.keep && exists && Number((await admin.query(`SELECT count(*) AS n FROM ${schema}.messages`)).rows[0].n) === opts.messages;
    if (filled) console.log(`PostgreSQL: reusing the ${opts.messages.toLocaleString('en')} messages in schema ${schema}`);
    else {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      const t = Date.now();
      await fillPostgres(opts.pgUrl, schema, fillOptions);
      filledNote('PostgreSQL', t);
    }
    await measure('PostgreSQL', { PARLEY_STORE__URL: opts.pgUrl, PARLEY_STORE__SCHEMA: schema });
  } finally {
    if (!opts.keep) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
}
