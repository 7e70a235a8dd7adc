// End-to-end CHATHISTORY BEFORE latency with a large stored history.
//
//   npm run build && node bench/chathistory-latency.mjs [messages=1000000] [queries=2000]
//
// Fills a fresh data directory with `messages` room messages (through the SQLite store, in
// batches of 1,000, as the server's writer does), starts the real `parley serve` on it, joins
// the room over TCP and sends `queries` CHATHISTORY BEFORE requests with random msgid refs, one
// at a time, timing each from the request to the end of its batch. Loopback only; bounded.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../dist/store/sqlite/store.js';

const [TOTAL = 1_000_000, QUERIES = 2000] = process.argv.slice(2).map(Number);
const LIMIT = 50;
const dir = mkdtempSync(join(tmpdir(), 'parley-bench-chathistory-'));
const prefix = randomBytes(6).toString('base64url');
const msgids = [];

function fill() {
  const store = openSqliteStore(dir);
  let time = Date.now() - TOTAL * 10;
  for (let start = 0; start < TOTAL; start += 1000) {
    const batch = [];
    for (let i = start; i < Math.min(start + 1000, TOTAL); i++) {
      time += 1 + (i % 7);
      const msgid = `${prefix}${i.toString(36).padStart(8, '0')}`;
      msgids.push(msgid);
      batch.push({
        msgid, time, conversation: '#bench', source: `user${i % 300}!~u@127.0.0.1`, account: null,
        command: 'PRIVMSG', target: '#bench', text: `message ${i}: the quick brown fox jumps over the lazy dog`, tags: {},
      });
    }
    store.history.appendSync(batch);
  }
  store.closeSync();
}

function startServer() {
  const child = spawn(process.execPath, ['bin/parley.js', 'serve', '--listen', '127.0.0.1:0', '--http', '127.0.0.1:0', '--data', dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, PARLEY_HISTORY__REPLAY_ON_JOIN: '0' },
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /IRC on 127\.0\.0\.1:(\d+)/.exec(out);
      if (match) resolve({ child, port: Number(match[1]) });
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    setTimeout(() => reject(new Error('server did not start in 30 s')), 30_000).unref();
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

let server;
try {
  const fillStart = Date.now();
  fill();
  console.log(`stored ${TOTAL} messages in ${((Date.now() - fillStart) / 1000).toFixed(1)} s`);
  server = await startServer();
  const client = connect(server.port);
  client.send('CAP REQ :draft/chathistory batch server-time message-tags');
  client.send('CAP END');
  client.send('NICK reader');
  client.send('USER reader 0 * :reader');
  await client.waitFor((l) => / 001 /.test(l));
  client.send('JOIN #bench');
  await client.waitFor((l) => / 366 /.test(l));
  const latencies = [];
  for (let q = 0; q < QUERIES; q++) {
    const ref = msgids[Math.floor(Math.random() * msgids.length)];
    const start = process.hrtime.bigint();
    client.send(`CHATHISTORY BEFORE #bench msgid=${ref} ${LIMIT}`);
    await client.waitFor((l) => /^(:\S+ )?BATCH -/.test(l) || /FAIL CHATHISTORY/.test(l));
    latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  latencies.sort((a, b) => a - b);
  const f = (v) => v.toFixed(2);
  console.log(`CHATHISTORY BEFORE, limit ${LIMIT}, ${QUERIES} queries over ${TOTAL} stored messages:`);
  console.log(`  p50 ${f(percentile(latencies, 50))} ms  p90 ${f(percentile(latencies, 90))} ms  p99 ${f(percentile(latencies, 99))} ms  max ${f(latencies.at(-1))} ms`);
  client.close();
} finally {
  server?.child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
