#!/usr/bin/env node
// Abuse-resistance figures, run by hand (not part of `npm test`):
//
//   npm run build && node bench/abuse.mjs [--connections 10000] [--seconds 5] [--sources]
//
// 1. Memory per idle unregistered connection: the server's RSS before and after N connections
//    that never send a byte (127.0.0.1 is made exempt from the per-address limits for this).
// 2. The per-address limits with defaults, from a non-exempt address (127.0.0.2).
// 3. PING round trips of a well-behaved client (p50/p99/max), one PING in flight every 10 ms:
//    with nothing else going on; while an exempt client floods as fast as the server takes it;
//    while a non-exempt client floods and reconnects (flood control and limits at work).
//
// The server runs from dist/ (or from the TypeScript sources with --sources, via tsx), pinned
// to CPU 0 when taskset exists; this process and its flooder worker stay off that CPU. Every
// loop below is bounded in count and in time.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { summarize, round } from './lib/stats.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function options() {
  const args = process.argv.slice(2);
  const value = (name, fallback) => {
    const i = args.indexOf(`--${name}`);
    return i === -1 ? fallback : Number(args[i + 1]);
  };
  return { connections: value('connections', 10_000), seconds: value('seconds', 5), sources: args.includes('--sources') };
}

async function main() {
  const opts = options();
  const log = (line) => process.stdout.write(`${line}\n`);
  const hasTaskset = spawnSync('bash', ['-c', 'command -v taskset'], { stdio: 'ignore' }).status === 0 && os.cpus().length >= 2;
  if (hasTaskset) spawnSync('taskset', ['-p', '-c', '1-' + (os.cpus().length - 1), String(process.pid)], { stdio: 'ignore' });
  log(`parley abuse bench: node ${process.version}, ${os.cpus().length} CPUs${hasTaskset ? ' (server on CPU 0)' : ''}`);

  // 1. Memory per idle unregistered connection.
  {
    const server = await startParley(opts, hasTaskset, {
      PARLEY_LIMITS__EXEMPT_ADDRESSES: '127.0.0.1/32',
      PARLEY_LIMITS__REGISTRATION_TIMEOUT_SECONDS: '600',
    });
    try {
      await sleep(1000);
      const before = rssKb(server.pid);
      const sockets = await openIdle(server.port, opts.connections, '127.0.0.1', 60_000);
      await sleep(2000);
      const after = rssKb(server.pid);
      const open = sockets.filter((s) => !s.destroyed).length;
      log(`\n1. idle unregistered connections (127.0.0.1 exempt)`);
      log(`   opened ${open} of ${opts.connections}; RSS ${mb(before)} MiB -> ${mb(after)} MiB`);
      log(`   = ${round(((after - before) * 1024) / Math.max(1, open) / 1024, 2)} KiB per connection`);
      for (const s of sockets) s.destroy();
    } finally {
      await server.stop();
    }
  }

  // 2 and 3: defaults, with only the well-behaved client's address exempt.
  const server = await startParley(opts, hasTaskset, { PARLEY_LIMITS__EXEMPT_ADDRESSES: '127.0.0.1/32' });
  try {
    const attempts = 100;
    const sockets = await openIdle(server.port, attempts, '127.0.0.2', 10_000);
    await sleep(500);
    const open = sockets.filter((s) => !s.destroyed).length;
    log(`\n2. defaults, from a non-exempt address (127.0.0.2): ${open} of ${attempts} connections stay open`);
    log(`   (limits.max_connections_per_address 16, limits.connections_per_address_per_minute 30)`);
    for (const s of sockets) s.destroy();

    log(`\n3. PING round trips of a well-behaved client, ${opts.seconds} s each (ms)`);
    const pinger = await IrcClient.connect(server.port, '127.0.0.1');
    await pinger.register('pinger');
    const table = [];
    table.push(['quiet', await pingFor(pinger, opts.seconds), null]);
    for (const [label, address] of [
      ['exempt flooder (127.0.0.1)', '127.0.0.1'],
      ['non-exempt flooder (127.0.0.3)', '127.0.0.3'],
    ]) {
      const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { port: server.port, address, seconds: opts.seconds + 1 } });
      const report = new Promise((done) => worker.once('message', done));
      await sleep(500);
      const rtts = await pingFor(pinger, opts.seconds);
      table.push([label, rtts, await report]);
      await worker.terminate();
      await sleep(1000);
    }
    for (const [label, rtts, flood] of table) {
      const s = summarize(rtts);
      const floodText = flood
        ? `; flooder: ${flood.linesSent} lines sent, ${flood.replies} replies, ${flood.connections} connections, ${flood.refused} refused, ${flood.excessFlood} Excess flood`
        : '';
      log(`   ${label.padEnd(32)} n=${s.count} p50 ${round(s.p50, 3)} p99 ${round(s.p99, 3)} max ${round(s.max, 3)}${floodText}`);
    }
    pinger.close();
  } finally {
    await server.stop();
  }
}

/** The server as a child process; resolves once it says where it listens. */
async function startParley(opts, pin, env) {
  const data = mkdtempSync(join(os.tmpdir(), 'parley-abuse-'));
  const dist = join(ROOT, 'dist', 'cli', 'main.js');
  const useSources = opts.sources || !existsSync(dist);
  const entry = useSources
    ? ['--import', 'tsx', '--input-type=module', '-e', `const { main } = await import(${JSON.stringify(join(ROOT, 'src', 'cli', 'main.ts'))}); await main(process.argv.slice(1));`, '--']
    : [join(ROOT, 'bin', 'parley.js')];
  const command = [process.execPath, ...entry, 'serve', '--listen', '127.0.0.1:0', '--http', '127.0.0.1:0', '--data', data];
  const childEnv = { ...process.env, PARLEY_LOG__LEVEL: 'error', ...env };
  const child = spawn('bash', ['-c', `ulimit -n "$(ulimit -Hn)" && exec ${pin ? 'taskset -c 0 ' : ''}"$@"`, 'bash', ...command], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((done) => child.once('exit', done));
  const port = await new Promise((done, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`server did not start: ${out}`)), 30_000);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /IRC on 127\.0\.0\.1:(\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        done(Number(match[1]));
      }
    });
    child.once('exit', (code) => fail(new Error(`server exited (${code}): ${out}`)));
  });
  return {
    pid: child.pid,
    port,
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      rmSync(data, { recursive: true, force: true });
    },
  };
}

function rssKb(pid) {
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
}

const mb = (kb) => round(kb / 1024, 1);

/** Open `count` TCP connections from `localAddress` that never send anything; 200 in flight at most. */
async function openIdle(port, count, localAddress, deadlineMs) {
  const sockets = [];
  const started = Date.now();
  let next = 0;
  const lane = async () => {
    while (next < count && Date.now() - started < deadlineMs) {
      next++;
      const socket = net.connect({ host: '127.0.0.1', port, localAddress });
      socket.on('error', () => {});
      socket.on('data', () => {}); // an ERROR refusal, if any, is read and dropped
      sockets.push(socket);
      await new Promise((done) => {
        socket.once('connect', done);
        socket.once('close', done);
      });
    }
  };
  await Promise.all(Array.from({ length: 200 }, lane));
  return sockets;
}

/** PING round trips, one in flight, one every 10 ms, for `seconds`; milliseconds each. */
async function pingFor(client, seconds) {
  const rtts = [];
  const end = Date.now() + seconds * 1000;
  for (let i = 0; Date.now() < end && i < 100_000; i++) {
    const start = process.hrtime.bigint();
    await client.roundTrip(`b${i}`, 10_000);
    rtts.push(Number(process.hrtime.bigint() - start) / 1e6);
    await sleep(10);
  }
  return rtts;
}

/**
 * The flooder (a worker thread, so it does not slow the pinger's own event loop): connects,
 * registers, joins a room with one silent member, and writes PRIVMSGs and PINGs as fast as its
 * socket takes them; reconnects when it is disconnected. Reports what it did.
 */
async function flooder({ port, address, seconds }) {
  const stats = { linesSent: 0, replies: 0, connections: 0, refused: 0, excessFlood: 0 };
  const end = Date.now() + seconds * 1000;
  const silent = await IrcClient.connect(port, '127.0.0.1');
  await silent.register(`silent${process.pid % 1000}${Math.floor(Math.random() * 1000)}`);
  silent.send('JOIN #flood');
  const batch = Array.from({ length: 100 }, (_, i) => (i % 10 === 0 ? `PING f${i}\r\n` : `PRIVMSG #flood :flood line ${i} ${'x'.repeat(60)}\r\n`)).join('');
  let attempt = 0;
  while (Date.now() < end && attempt++ < 10_000) {
    let client;
    try {
      client = await IrcClient.connect(port, address);
    } catch {
      stats.refused++;
      await sleep(50);
      continue;
    }
    stats.connections++;
    client.onLine = (line) => {
      stats.replies++;
      if (line.startsWith('ERROR')) {
        if (line.includes('Excess flood')) stats.excessFlood++;
        else if (line.includes('Too many') || line.includes('too fast')) stats.refused++;
      }
    };
    client.send(`NICK fl${stats.connections}x${process.pid % 1000}\r\nUSER f 0 * :f\r\nJOIN #flood`);
    while (Date.now() < end && !client.closed) {
      if (!client.socket.write(batch)) await Promise.race([new Promise((done) => client.socket.once('drain', done)), sleep(100)]);
      stats.linesSent += 100;
      await new Promise((done) => setImmediate(done));
    }
    client.close();
    if (Date.now() < end) await sleep(100); // then try again, as a persistent flooder would
  }
  silent.close();
  parentPort.postMessage(stats);
}

/** A minimal line client for the bench. */
class IrcClient {
  static connect(port, localAddress) {
    return new Promise((done, fail) => {
      const socket = net.connect({ host: '127.0.0.1', port, localAddress });
      socket.setNoDelay(true);
      socket.once('connect', () => done(new IrcClient(socket)));
      socket.once('error', fail);
    });
  }

  constructor(socket) {
    this.socket = socket;
    this.closed = false;
    this.buffer = '';
    this.waiters = new Map();
    this.onLine = null;
    socket.setEncoding('utf8');
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      for (const [, waiter] of this.waiters) waiter.fail(new Error('closed'));
      this.waiters.clear();
    });
    socket.on('data', (chunk) => {
      this.buffer += chunk;
      let index;
      while ((index = this.buffer.indexOf('\r\n')) !== -1) {
        const line = this.buffer.slice(0, index);
        this.buffer = this.buffer.slice(index + 2);
        this.onLine?.(line);
        if (line.startsWith('PING ')) this.send(`PONG ${line.slice(5)}`);
        for (const [key, waiter] of this.waiters) {
          if (line.includes(key)) {
            this.waiters.delete(key);
            waiter.done(line);
          }
        }
      }
    });
  }

  send(line) {
    this.socket.write(`${line}\r\n`);
  }

  waitFor(key, timeoutMs) {
    return new Promise((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`no ${key} in ${timeoutMs} ms`)), timeoutMs);
      this.waiters.set(key, {
        done: (line) => (clearTimeout(timer), done(line)),
        fail: (err) => (clearTimeout(timer), fail(err)),
      });
    });
  }

  async register(nick) {
    const welcome = this.waitFor(' 001 ', 10_000);
    this.send(`NICK ${nick}`);
    this.send(`USER ${nick} 0 * :${nick}`);
    await welcome;
  }

  roundTrip(token, timeoutMs) {
    const reply = this.waitFor(`PONG parley.local ${token}`, timeoutMs);
    this.send(`PING ${token}`);
    return reply;
  }

  close() {
    this.socket.destroy();
  }
}

// Last, so every declaration above is initialised.
if (!isMainThread) await flooder(workerData);
else await main();
