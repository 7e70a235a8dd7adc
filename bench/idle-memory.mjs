// Where the memory of an idle registered connection goes (issue 17): Parley from dist/ with
// `--expose-gc` and lib/snapshot-probe.mjs preloaded, N clients that register (NICK/USER, up to
// the end of the MOTD) and join nothing. Memory figures after a full GC before they connect
// and with all N open give RSS, heap and external growth per connection; heap snapshots with N
// open and after they closed give the heap's growth by object kind (self sizes per V8
// constructor name), largest first.
//
//   npm run build && node bench/idle-memory.mjs [--connections 5000] [--node-args "--max-semi-space-size=1"]
//
// Loopback only; every step is bounded in time and count and the server is killed at the end.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PROBE = pathToFileURL(join(ROOT, 'bench', 'lib', 'snapshot-probe.mjs')).href;
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
};
const N = Math.min(19_000, Number(arg('connections', '5000')));
const nodeArgs = (arg('node-args', '') ?? '').split(' ').filter(Boolean);
const TOP = Number(arg('top', '25'));

const work = mkdtempSync(join(tmpdir(), 'parley-idle-memory-'));
const prefix = join(work, 'snap');
const env = { ...process.env, PARLEY_LOG__LEVEL: 'warn', PARLEY_LIMITS__EXEMPT_ADDRESSES: '127.0.0.1', BENCH_SNAPSHOT_PREFIX: prefix };
for (const key of Object.keys(env)) if (key.startsWith('PARLEY_') && !['PARLEY_LOG__LEVEL', 'PARLEY_LIMITS__EXEMPT_ADDRESSES'].includes(key)) delete env[key];
const server = spawn('bash', ['-c', 'ulimit -n "$(ulimit -Hn)" && exec "$0" "$@"', process.execPath, '--expose-gc', ...nodeArgs, '--import', PROBE,
  join(ROOT, 'bin', 'parley.js'), 'serve', '--listen', '127.0.0.1:0', '--http', '127.0.0.1:0', '--data', join(work, 'data')], { env, stdio: ['ignore', 'pipe', 'inherit'] });
const watchdog = setTimeout(() => fail('took more than 10 minutes'), 600_000);
function fail(why) {
  console.error(`idle-memory: ${why}`);
  server.kill('SIGKILL');
  process.exit(1);
}
let out = '';
server.stdout.on('data', (chunk) => (out += chunk));
const port = await (async () => {
  for (const deadline = Date.now() + 20_000; Date.now() < deadline; await sleep(50)) {
    const match = out.match(/IRC on 127\.0\.0\.1:(\d+)/);
    if (match) return Number(match[1]);
  }
  fail('the server did not start');
})();

/** One client: registers and stays; resolves once the MOTD (or its absence) has come. */
function client(i) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`client ${i}: no welcome in 20 s`)), 20_000);
    socket.setEncoding('utf8');
    socket.on('error', reject);
    socket.on('data', (data) => {
      buffer += data;
      for (let nl = buffer.indexOf('\n'); nl !== -1; nl = buffer.indexOf('\n')) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.startsWith('PING')) socket.write(`PONG${line.slice(4)}\n`);
        if (/ (376|422) /.test(line)) {
          clearTimeout(timer);
          resolve(socket);
        }
      }
      if (buffer.length > 65536) buffer = '';
    });
    socket.write(`NICK idle${i}\r\nUSER idle 0 * :idle ${i}\r\n`);
  });
}

async function snapshot(withHeap = true) {
  const n = snapshots++;
  if (withHeap) writeFileSync(`${prefix}-${n}.want`, '');
  server.kill('SIGUSR2');
  for (const deadline = Date.now() + 120_000; Date.now() < deadline; await sleep(200)) {
    try {
      const figures = JSON.parse(readFileSync(`${prefix}-${n}.json`, 'utf8'));
      return { figures, heap: withHeap ? kinds(`${prefix}-${n}.heapsnapshot`) : null };
    } catch {}
  }
  fail('no snapshot in 120 s');
}
let snapshots = 0;

/** Self size and count per (node type, constructor name) of a .heapsnapshot. */
function kinds(file) {
  const snap = JSON.parse(readFileSync(file, 'utf8'));
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const [T, NAME, SIZE] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const byKind = new Map();
  for (let i = 0; i < snap.nodes.length; i += fields.length) {
    const type = types[snap.nodes[i + T]];
    const name = type === 'object' || type === 'native' || type === 'closure' ? snap.strings[snap.nodes[i + NAME]] : `(${type})`;
    const key = `${type === 'closure' ? 'closure ' : ''}${name}`.slice(0, 60);
    const entry = byKind.get(key) ?? { bytes: 0, count: 0 };
    entry.bytes += snap.nodes[i + SIZE];
    entry.count += 1;
    byKind.set(key, entry);
  }
  rmSync(file);
  return byKind;
}

// A few connections opened and closed first, so lazily made code and caches are in both snapshots.
for (const s of await Promise.all(Array.from({ length: 50 }, (_, i) => client(1_000_000 + i)))) s.destroy();
await sleep(1000);
const baseline = await snapshot(false);
const sockets = [];
for (let i = 0; i < N; i += 200) sockets.push(...(await Promise.all(Array.from({ length: Math.min(200, N - i) }, (_, j) => client(i + j)))));
await sleep(2000);
const open = await snapshot();
for (const s of sockets) s.destroy();
for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(500)) {
  const lusers = await new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let text = '';
    s.setEncoding('utf8');
    s.on('data', (d) => {
      text += d;
      const m = text.match(/ 265 \S+ (\d+)/);
      if (m) {
        s.destroy();
        resolve(Number(m[1]));
      }
    });
    s.write('NICK counter\r\nUSER c 0 * :c\r\n');
  });
  await sleep(200);
  if (lusers <= 1) break;
}
await sleep(1000);
const closed = await snapshot();
server.kill('SIGKILL');
clearTimeout(watchdog);
rmSync(work, { recursive: true, force: true });

const per = (a, b) => ((a - b) / N).toFixed(0);
console.log(`idle registered connections: ${N}${nodeArgs.length ? ` (node ${nodeArgs.join(' ')})` : ''}; growth from before they connected, both after a full GC`);
for (const key of ['rss', 'heapUsed', 'heapTotal', 'external', 'arrayBuffers']) {
  console.log(`  ${key.padEnd(12)} ${per(open.figures[key], baseline.figures[key]).padStart(6)} bytes per connection  (${(baseline.figures[key] / 2 ** 20).toFixed(1)} MiB before, ${(open.figures[key] / 2 ** 20).toFixed(1)} MiB open)`);
}
for (const space of Object.keys(open.figures.spaces)) {
  const d = open.figures.spaces[space] - (baseline.figures.spaces[space] ?? 0);
  if (Math.abs(d) / N >= 8) console.log(`  space ${space.padEnd(22)} ${per(open.figures.spaces[space], baseline.figures.spaces[space] ?? 0).padStart(6)} bytes per connection (used)`);
}
const rows = [...open.heap].map(([kind, { bytes, count }]) => {
  const before = closed.heap.get(kind) ?? { bytes: 0, count: 0 };
  return { kind, bytes: (bytes - before.bytes) / N, count: (count - before.count) / N };
}).filter((r) => r.bytes >= 4).sort((a, b) => b.bytes - a.bytes);
const total = rows.reduce((sum, r) => sum + r.bytes, 0);
console.log(`\nheap growth by kind, per connection (self sizes; ${total.toFixed(0)} bytes in the rows below and smaller ones):`);
for (const r of rows.slice(0, TOP)) console.log(`  ${r.bytes.toFixed(0).padStart(6)} B  ${r.count.toFixed(2).padStart(6)} objects  ${r.kind}`);
