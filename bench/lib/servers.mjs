// Start and stop the servers under test, each pinned to one CPU with `taskset`, its open-file
// limit raised to the hard limit. Parley runs from dist/ (npm run build); the peers (ngIRCd,
// InspIRCd) run from their Debian packages with configs rendered from bench/peers/*.in.
import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ROOT = resolve(BENCH_DIR, '..');
const HEAP_PROBE = pathToFileURL(join(BENCH_DIR, 'lib', 'heap-probe.mjs')).href;
const NO_NODELAY = pathToFileURL(join(BENCH_DIR, 'lib', 'no-nodelay.mjs')).href;

/** Children still running, killed if the bench exits early. */
const running = new Set();
process.on('exit', () => {
  for (const child of running) {
    try {
      child.kill('SIGKILL');
    } catch {}
  }
});

function which(cmd) {
  try {
    return execFileSync('bash', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

/** Whether a server can be run here; `why` says what is missing. */
export function availability(kind) {
  if (kind === 'parley') {
    return existsSync(join(ROOT, 'dist', 'cli', 'main.js'))
      ? { ok: true }
      : { ok: false, why: 'dist/ is missing: run `npm run build` (npm run bench does)' };
  }
  const bin = which(kind);
  if (!bin) return { ok: false, why: `${kind} is not installed (apt-get install -y ${kind})` };
  return { ok: true, bin };
}

export function version(kind) {
  try {
    if (kind === 'parley') return `parley ${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version} (node ${process.version})`;
    if (kind === 'ngircd') return execFileSync('ngircd', ['--version'], { encoding: 'utf8' }).split('\n')[0].trim();
    if (kind === 'inspircd') return execFileSync('inspircd', ['--version'], { encoding: 'utf8' }).trim();
  } catch {}
  return kind;
}

/**
 * Whether this build of Parley knows a config key. Unknown keys are errors, so a setting the
 * bench wants (e.g. exempting 127.0.0.1 from per-address limits) is only passed if it exists.
 */
function parleyHasConfigKey(key) {
  try {
    return readFileSync(join(ROOT, 'dist', 'config', 'schema.js'), 'utf8').includes(key);
  } catch {
    return false;
  }
}

/** A free TCP port on 127.0.0.1 (asked of the OS, then released). */
export function freePort() {
  return new Promise((done, fail) => {
    const server = net.createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

function canConnect(port) {
  return new Promise((done) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

function render(template, values) {
  let text = readFileSync(join(BENCH_DIR, 'peers', template), 'utf8');
  for (const [key, value] of Object.entries(values)) text = text.replaceAll(`@${key}@`, String(value));
  return text;
}

/**
 * Start a server. Resolves to a handle: { kind, pid, port, logFile, stop(), heap() }.
 * @param {string} kind parley | ngircd | inspircd
 * @param {object} o
 * @param {string} o.label used to name the log and work files (e.g. "parley-memory")
 * @param {number} o.cpu the CPU to pin the server to
 * @param {number} o.sendq per-client send queue in bytes (Parley and InspIRCd; ngIRCd's is fixed)
 * @param {number} o.maxConnections connection limit to configure (peers)
 * @param {string|null} o.profileDir Parley only: run under --cpu-prof, writing there
 * @param {boolean} o.nagle Parley only: preload lib/no-nodelay.mjs (experiment)
 */
export async function launchServer(kind, { label, cpu, sendq, maxConnections, profileDir = null, nagle = false, outDir }) {
  const workDir = join(outDir, 'work', label);
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  const logFile = join(outDir, `${label}.log`);
  let port = 0;
  let command;
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('PARLEY_')) delete env[key];

  if (kind === 'parley') {
    const nodeFlags = ['--import', HEAP_PROBE];
    if (nagle) nodeFlags.push('--import', NO_NODELAY);
    if (profileDir) nodeFlags.push('--cpu-prof', `--cpu-prof-dir=${profileDir}`);
    command = [process.execPath, ...nodeFlags, join(ROOT, 'bin', 'parley.js'), 'serve', '--listen', '127.0.0.1:0', '--http', '127.0.0.1:0', '--data', join(workDir, 'data')];
    Object.assign(env, {
      PARLEY_LIMITS__SENDQ_BYTES: String(sendq),
      PARLEY_LOG__LEVEL: 'warn',
      BENCH_HEAP_FILE: join(workDir, 'heap.json'),
    });
    // Every bench client is 127.0.0.1: exempt it from per-address connection limits and flood
    // control, as the peers' configs do.
    if (parleyHasConfigKey('exempt_addresses')) env.PARLEY_LIMITS__EXEMPT_ADDRESSES = '127.0.0.1';
  } else if (kind === 'ngircd') {
    port = await freePort();
    mkdirSync(join(workDir, 'conf.d'));
    writeFileSync(join(workDir, 'ngircd.conf'), render('ngircd.conf.in', { PORT: port, DIR: workDir }));
    command = ['ngircd', '--nodaemon', '--config', join(workDir, 'ngircd.conf')];
  } else if (kind === 'inspircd') {
    port = await freePort();
    writeFileSync(join(workDir, 'motd.txt'), 'Parley benchmark peer\n');
    writeFileSync(join(workDir, 'inspircd.conf'), render('inspircd.conf.in', { PORT: port, DIR: workDir, MAXCONN: maxConnections, SENDQ: sendq }));
    // InspIRCd refuses to run as root unless told; the bench runs as whoever started it.
    const asRoot = process.getuid?.() === 0 ? ['--runasroot'] : [];
    command = ['inspircd', '--nofork', '--nopid', ...asRoot, '--config', join(workDir, 'inspircd.conf')];
  } else {
    throw new Error(`unknown server ${kind}`);
  }

  // bash raises the soft fd limit, then execs taskset, which execs the server: one pid throughout.
  const child = spawn('bash', ['-c', 'ulimit -n "$(ulimit -Hn)" && exec taskset -c "$0" "$@"', String(cpu), ...command], {
    cwd: workDir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const log = createWriteStream(logFile);
  child.stderr.pipe(log);
  let stdout = '';
  child.stdout.on('data', (chunk) => {
    log.write(chunk);
    if (stdout.length < 65536) stdout += chunk.toString('utf8');
  });
  const exited = new Promise((done) => child.once('exit', (code, signal) => done({ code, signal })));
  exited.then(() => running.delete(child));
  let exitInfo = null;
  exited.then((info) => (exitInfo = info));

  // Ready: Parley prints its address; the peers are ready when their port accepts.
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (exitInfo) throw new Error(`${kind} exited during start (${JSON.stringify(exitInfo)}); see ${logFile}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${kind} did not become ready in 20 s; see ${logFile}`);
    }
    if (kind === 'parley') {
      const match = stdout.match(/IRC on 127\.0\.0\.1:(\d+)/);
      if (match) {
        port = Number(match[1]);
        break;
      }
    } else if (await canConnect(port)) break;
    await sleep(50);
  }

  const heapFile = join(workDir, 'heap.json');
  return {
    kind,
    pid: child.pid,
    port,
    logFile,
    /** Parley only: the server's own memory figures (via the preloaded heap probe), or null. */
    async heap() {
      if (kind !== 'parley' || exitInfo) return null;
      rmSync(heapFile, { force: true });
      child.kill('SIGUSR2');
      for (let i = 0; i < 40; i++) {
        await sleep(50);
        if (existsSync(heapFile)) {
          try {
            return JSON.parse(readFileSync(heapFile, 'utf8'));
          } catch {}
        }
      }
      return null;
    },
    get exited() {
      return exitInfo;
    },
    /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
    async stop(graceMs = 10_000) {
      if (exitInfo) return exitInfo;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const info = await exited;
      clearTimeout(timer);
      log.end();
      return info;
    },
  };
}
