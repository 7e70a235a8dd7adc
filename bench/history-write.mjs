#!/usr/bin/env node
// History writes under chat load: how many messages per second end up stored while clients chat.
//
//   npm run build && node bench/history-write.mjs [--clients 50] [--seconds 10] [--window 8] [--profile 1]
//     [--store sqlite|postgres] [--pg-url postgres://postgres@127.0.0.1:5432/test]
//
// Starts the real server (`bin/parley.js serve`, temp data dir, pinned to CPU 0 with taskset
// when there are two CPUs or more; this process and its clients take CPU 1). N clients join
// #bench; each keeps at most `window` of its own messages unacknowledged (echo-message is the
// acknowledgement) and sends as fast as that allows for the given seconds. Then the server is
// stopped (SIGTERM) and the store is read to count the stored rows: the SQLite file read-only,
// or, with --store postgres, the fresh schema the server used on a loopback PostgreSQL (dropped
// at the end).
// Reported: stored/s = rows / sending seconds; echoed/s; and whether rows >= echoes (every
// acknowledged message was stored). Every client receives every other client's messages, so
// the server also does the fan-out work of a busy room while it writes.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import pg from 'pg';
import { readCpuSeconds } from './lib/proc.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const opts = { clients: 50, seconds: 10, window: 8, profile: 0, store: 'sqlite', pgUrl: 'postgres://postgres@127.0.0.1:5432/test' };
for (let i = 2; i < process.argv.length; i += 2) {
  const key = process.argv[i].replace(/^--/, '').replace(/-(\w)/g, (_, c) => c.toUpperCase());
  if (!(key in opts)) throw new Error(`unknown option ${process.argv[i]}`);
  opts[key] = typeof opts[key] === 'number' ? Number(process.argv[i + 1]) : process.argv[i + 1];
}
if (!['sqlite', 'postgres'].includes(opts.store)) throw new Error(`--store: sqlite or postgres, not ${opts.store}`);
if (!/^postgres(ql)?:\/\/[^/]*(127\.\d+\.\d+\.\d+|localhost|\[::1\])[:/]/.test(opts.pgUrl)) throw new Error('--pg-url: loopback servers only');

// os.cpus() lists every CPU even inside taskset (availableParallelism() would say 1 there).
const pin = os.cpus().length >= 2;
if (pin && !process.env.HISTORY_BENCH_PINNED) {
  // Re-run this script on CPU 1 so clients and server do not share a core.
  const child = spawn('taskset', ['-c', '1', process.execPath, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, HISTORY_BENCH_PINNED: '1' },
  });
  child.on('exit', (code) => process.exit(code ?? 1));
} else {
  await main();
}

async function main() {
  const data = mkdtempSync(join(os.tmpdir(), 'parley-history-bench-'));
  const schema = `parley_bench_${randomBytes(4).toString('hex')}`;
  const storeEnv = opts.store === 'postgres' ? { PARLEY_STORE__URL: opts.pgUrl, PARLEY_STORE__SCHEMA: schema } : {};
  // --profile 1: a V8 CPU profile of the server in the temp dir's parent (summarise it with
  // node bench/profile-summary.mjs FILE).
  const profileDir = mkdtempSync(join(os.tmpdir(), 'parley-history-prof-'));
  const node = [...(opts.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), 'bin/parley.js', 'serve', '--listen', '127.0.0.1:0', '--http', '127.0.0.1:0', '--data', data];
  const command = pin ? ['taskset', ['-c', '0', process.execPath, ...node]] : [process.execPath, node];
  const server = spawn(command[0], command[1], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, PARLEY_LOG__LEVEL: 'warn', PARLEY_LIMITS__SENDQ_BYTES: String(64 << 20), PARLEY_LIMITS__EXEMPT_ADDRESSES: '127.0.0.1', ...storeEnv },
  });
  const exited = new Promise((r) => server.once('exit', r));
  const port = await new Promise((ok, fail) => {
    let out = '';
    server.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /IRC on 127\.0\.0\.1:(\d+)/.exec(out);
      if (match) ok(Number(match[1]));
    });
    server.once('exit', () => fail(new Error(`server exited: ${out}`)));
  });

  const clients = [];
  for (let i = 0; i < opts.clients; i++) clients.push(await connect(port, `w${i}`));
  const cpuBefore = readCpuSeconds(server.pid);
  const started = process.hrtime.bigint();
  const deadline = Date.now() + opts.seconds * 1000;
  await Promise.all(clients.map((c) => c.run(deadline, opts.window)));
  const sendingSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = readCpuSeconds(server.pid) - cpuBefore;
  const echoed = clients.reduce((n, c) => n + c.acked, 0);
  const received = clients.reduce((n, c) => n + c.others, 0);
  for (const c of clients) c.socket.destroy();

  server.kill('SIGTERM');
  await exited;
  const rows = opts.store === 'postgres' ? await countPostgres(schema) : countSqlite(data);
  rmSync(data, { recursive: true, force: true });

  const rate = (n) => Math.round(n / sendingSeconds).toLocaleString('en-US');
  console.log(`store ${opts.store}, clients ${opts.clients}, window ${opts.window}, ${sendingSeconds.toFixed(1)} s of sending${pin ? ' (server on CPU 0, clients on CPU 1)' : ''}`);
  console.log(`stored   ${rows} messages = ${rate(rows)} messages/s`);
  console.log(`echoed   ${echoed} (${rate(echoed)}/s); delivered to other members ${received} (${rate(received)}/s)`);
  console.log(`server CPU ${(cpu / sendingSeconds * 100).toFixed(0)}% of one core`);
  if (opts.profile) console.log(`profile in ${profileDir} (node bench/profile-summary.mjs FILE)`);
  else rmSync(profileDir, { recursive: true, force: true });
  console.log(rows >= echoed ? 'every acknowledged message is stored' : `MISSING: ${echoed - rows} acknowledged messages not stored`);
}

function countSqlite(data) {
  const db = new Database(join(data, 'parley.sqlite3'), { readonly: true });
  try {
    return db.prepare("SELECT count(*) AS n FROM messages WHERE conversation = '#bench'").get().n;
  } finally {
    db.close();
  }
}

async function countPostgres(schema) {
  const client = new pg.Client({ connectionString: opts.pgUrl });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT count(*)::int AS n FROM ${schema}.messages WHERE conversation = '#bench'`);
    return rows[0].n;
  } finally {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await client.end();
  }
}

/** A registered client in #bench with echo-message; `run` sends within its window. */
async function connect(port, nick) {
  const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
  socket.setEncoding('utf8');
  const me = `:${nick}!`;
  const client = { socket, acked: 0, others: 0, sent: 0, onAck: null };
  let partial = '';
  let ready;
  const joined = new Promise((r) => (ready = r));
  socket.on('data', (chunk) => {
    const lines = (partial + chunk).split('\r\n');
    partial = lines.pop();
    for (const line of lines) {
      if (line.includes(' PRIVMSG #bench ')) {
        if (line.startsWith(me)) {
          client.acked++;
          client.onAck?.();
        } else client.others++;
      } else if (line.includes(' 366 ')) ready();
      else if (line.startsWith('PING')) socket.write(`PONG ${line.slice(5)}\r\n`);
    }
  });
  socket.write(`CAP REQ :echo-message\r\nCAP END\r\nNICK ${nick}\r\nUSER ${nick} 0 * :bench\r\nJOIN #bench\r\n`);
  await joined;
  client.run = (deadline, window) =>
    new Promise((done) => {
      const pump = () => {
        if (Date.now() >= deadline) {
          if (client.acked === client.sent) done();
          return;
        }
        let batch = '';
        while (client.sent - client.acked < window) batch += `PRIVMSG #bench :${nick} message ${client.sent++}\r\n`;
        if (batch) socket.write(batch);
      };
      client.onAck = pump;
      pump();
    });
  return client;
}
