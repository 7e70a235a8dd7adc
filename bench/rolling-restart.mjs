#!/usr/bin/env node
/**
 * Issue 15's figure: a rolling restart of a 3-node Parley network under chat. Three
 * `parley serve` processes (dist/: run after `npm run build` or `npx tsc -p tsconfig.json &&
 * node scripts/copy-lua.mjs`) on one Redis prefix and one PostgreSQL schema of this run;
 * --clients clients of our engine (dist/client) spread over them, in rooms of --room-size
 * members with one sender each saying a line every --interval ms. Each node in turn gets
 * SIGTERM (it drains its clients over shutdown_drain_seconds), exits, and a new node takes its
 * place; the clients reconnect to live nodes (rotatingTransport) and catch up with CHATHISTORY
 * AFTER. Reports how long the whole restart took and how many messages anyone missed (a
 * message counts once its sender saw the echo). Loopback only; every wait is bounded.
 *
 *   node bench/rolling-restart.mjs [--clients 3000] [--room-size 30] [--interval 1000] [--drain 5]
 *     [--redis redis://127.0.0.1:6379] [--pg postgres://postgres@127.0.0.1:5432/test]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import Redis from 'ioredis';
import pg from 'pg';
import { IrcClient, rotatingTransport } from '../dist/client/index.js';
import { nodeTransport } from '../dist/client/node-transport.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: opts } = parseArgs({
  options: {
    clients: { type: 'string', default: '3000' },
    'room-size': { type: 'string', default: '30' },
    interval: { type: 'string', default: '1000' },
    drain: { type: 'string', default: '5' },
    redis: { type: 'string', default: 'redis://127.0.0.1:6379' },
    pg: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
  },
});
const CLIENTS = Math.min(10_000, Number(opts.clients));
const ROOM_SIZE = Math.max(2, Number(opts['room-size']));
const INTERVAL = Math.max(50, Number(opts.interval));
const ROOMS = Math.ceil(CLIENTS / ROOM_SIZE);
const tag = randomBytes(4).toString('hex');
const prefix = `bench-rolling-${tag}:`;
const schema = `bench_rolling_${tag}`;
const log = (...a) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${a.join(' ')}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolves when `check` holds, polled every 100 ms; false after `ms`. */
async function until(check, ms) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

const dirs = [];
const procs = new Set();
function startNode() {
  const dir = mkdtempSync(join(tmpdir(), 'parley-rolling-bench-'));
  dirs.push(dir);
  const child = spawn(process.execPath, ['bin/parley.js', 'serve', '--listen', '127.0.0.1:0', '--http', '127.0.0.1:0', '--data', dir], {
    cwd: ROOT,
    env: {
      ...process.env,
      PARLEY_LIMITS__EXEMPT_ADDRESSES: '127.0.0.1/32,::1/128',
      PARLEY_CLUSTER__URL: opts.redis,
      PARLEY_CLUSTER__PREFIX: prefix,
      PARLEY_STORE__URL: opts.pg,
      PARLEY_STORE__SCHEMA: schema,
      PARLEY_SHUTDOWN_DRAIN_SECONDS: opts.drain,
      PARLEY_LOG__LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  procs.add(child);
  const exited = new Promise((resolve) => child.once('exit', (code) => (procs.delete(child), resolve(code))));
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr.on('data', (c) => (err += c));
    child.stdout.on('data', (c) => {
      out += c;
      const irc = /IRC on 127\.0\.0\.1:(\d+)/.exec(out);
      if (out.includes('Press Ctrl+C to stop.') && irc) resolve({ child, port: Number(irc[1]), exited, stderr: () => err });
    });
    child.once('exit', (code) => reject(new Error(`parley serve exited (${code}): ${out}${err}`)));
    setTimeout(() => reject(new Error('parley serve did not start in 60 s')), 60_000).unref();
  });
}

const live = [];
const clients = [];
let flow;
async function main() {
  log(`3 nodes, ${CLIENTS} clients in ${ROOMS} rooms of ${ROOM_SIZE}, one line per room every ${INTERVAL} ms, drain ${opts.drain} s`);
  live.push(await startNode());
  live.push(...(await Promise.all([startNode(), startNode()])));

  const echoed = Array.from({ length: ROOMS }, () => new Set());
  const got = [];
  const reconnects = new Array(CLIENTS).fill(0);
  for (let i = 0; i < CLIENTS; i++) {
    const nick = `r${i}`;
    const room = `#room${i % ROOMS}`;
    const roomIndex = i % ROOMS;
    const client = new IrcClient({
      transport: rotatingTransport(() => {
        const k = i % live.length;
        return [...live.slice(k), ...live.slice(0, k)].map((n) => nodeTransport({ host: '127.0.0.1', port: n.port }));
      }),
      nick,
      rooms: [room],
      reconnect: { minDelayMs: 200, maxDelayMs: 5000, jitter: 0.5 },
      liveness: false,
    });
    const seen = new Map();
    got.push({ seen, roomIndex });
    const count = (m) => {
      if (m.conversation !== room || !m.msgid) return;
      seen.set(m.msgid, (seen.get(m.msgid) ?? 0) + 1);
      if (m.sender === nick) echoed[roomIndex].add(m.msgid);
    };
    client.on('message', count);
    client.on('history', (h) => h.messages.forEach(count));
    client.on('connected', (e) => e.reconnected && reconnects[i]++);
    client.on('error', () => {});
    clients.push(client);
  }
  // Connect in waves of 200, so registration is not one burst of 3,000.
  const joinedAll = () => clients.every((c, i) => c.status === 'ready' && c.state.room(`#room${i % ROOMS}`));
  for (let i = 0; i < CLIENTS; i += 200) {
    const wave = clients.slice(i, i + 200);
    for (const c of wave) c.connect();
    if (!(await until(() => wave.every((c, j) => c.status === 'ready' && c.state.room(`#room${(i + j) % ROOMS}`)), 60_000))) throw new Error('clients did not connect in 60 s');
  }
  log(`${CLIENTS} clients connected and joined`);

  const senders = clients.slice(0, ROOMS);
  let lines = 0;
  flow = setInterval(() => {
    for (const [r, s] of senders.entries()) if (s.status === 'ready') (s.say(`#room${r}`, `line ${lines++}`));
  }, INTERVAL);
  await sleep(3000);

  const started = Date.now();
  const rounds = [];
  for (let round = 0; round < 3; round++) {
    const old = live.shift();
    const t0 = Date.now();
    old.child.kill('SIGTERM');
    const code = await Promise.race([old.exited, sleep(120_000).then(() => 'timeout')]);
    const exitedMs = Date.now() - t0;
    live.push(await startNode());
    const upMs = Date.now() - t0;
    if (!(await until(joinedAll, 120_000))) throw new Error(`round ${round}: clients not back in 120 s`);
    rounds.push({ round, exit_code: code, node_exit_ms: exitedMs, replacement_up_ms: upMs, all_back_ms: Date.now() - t0 });
    log(`node ${round}: exit ${code} after ${exitedMs} ms, replacement up at ${upMs} ms, every client back in its room at ${Date.now() - t0} ms`);
  }
  const totalMs = Date.now() - started;
  await sleep(3000);
  clearInterval(flow);
  flow = undefined;
  // The last lines still travelling: wait (bounded) until each client has its room's echoes.
  const missingOf = (g) => [...echoed[g.roomIndex]].filter((id) => !g.seen.has(id)).length;
  await until(() => got.every((g) => missingOf(g) === 0), 30_000);
  const missed = got.reduce((n, g) => n + missingOf(g), 0);
  const clientsMissing = got.filter((g) => missingOf(g) > 0).length;
  const duplicates = got.reduce((n, g) => n + [...g.seen.values()].filter((c) => c > 1).length, 0);
  const messages = echoed.reduce((n, s) => n + s.size, 0);
  const expected = got.reduce((n, g) => n + echoed[g.roomIndex].size, 0);
  const result = {
    nodes: 3,
    clients: CLIENTS,
    rooms: ROOMS,
    drain_seconds: Number(opts.drain),
    rolling_restart_seconds: +(totalMs / 1000).toFixed(1),
    rounds,
    messages_echoed: messages,
    deliveries_expected: expected,
    deliveries_missed: missed,
    clients_missing_any: clientsMissing,
    duplicates,
    clients_never_moved: reconnects.filter((n) => n === 0).length,
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

async function cleanup() {
  if (flow) clearInterval(flow);
  for (const c of clients) c.close();
  for (const p of procs) p.kill('SIGKILL');
  await sleep(200);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  const redis = new Redis(opts.redis);
  let cursor = '0';
  for (let i = 0; i < 10_000; i++) {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length) await redis.del(...keys);
    cursor = next;
    if (cursor === '0') break;
  }
  redis.disconnect();
  const db = new pg.Client({ connectionString: opts.pg });
  await db.connect();
  await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await db.end();
}

// A hard bound on the whole run.
setTimeout(() => {
  log('time limit (15 min) reached');
  cleanup().finally(() => process.exit(2));
}, 15 * 60_000).unref();
main()
  .then(() => cleanup())
  .then(() => process.exit(0))
  .catch(async (err) => {
    log(`failed: ${err.stack ?? err}`);
    await cleanup().catch(() => {});
    process.exit(1);
  });
