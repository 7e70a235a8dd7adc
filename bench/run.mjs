#!/usr/bin/env node
// Parley's benchmarks: memory per idle connection and room fanout, for Parley and, when
// installed, ngIRCd and InspIRCd. See bench/README.md. `npm run bench` builds first.
//
// The server under test is pinned to CPU 0; this process re-executes itself pinned to CPU 1
// (with its open-file limit raised), and its worker processes inherit that CPU.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isFullSuite, parseArgs, USAGE, UsageError } from './lib/args.mjs';
import { measureFanout } from './lib/fanout.mjs';
import { measureMemory } from './lib/memory.mjs';
import { readAffinity, readFdLimit } from './lib/proc.mjs';
import { formatProfile, summarizeProfile } from './lib/profile.mjs';
import { fanoutTable, fanoutWarnings, memoryTable, memoryWarnings, summaryTable, writeResults } from './lib/report.mjs';
import { availability, version } from './lib/servers.mjs';
import { goals, resultsMarkdown, summarize, writeText } from './lib/summary.mjs';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const SERVER_CPU = 0;
const LOAD_CPU = 1;

function log(message) {
  process.stderr.write(`${message}\n`);
}

/** Re-run this script under `taskset -c 1` with the fd limit at its hard limit; false if not possible. */
function repinSelf(argv) {
  if (process.env.BENCH_PINNED === '1') return null;
  const hasTaskset = spawnSync('bash', ['-c', 'command -v taskset'], { stdio: 'ignore' }).status === 0;
  if (os.platform() !== 'linux' || !hasTaskset || os.cpus().length < 2) return false;
  const child = spawn(
    'bash',
    ['-c', 'ulimit -n "$(ulimit -Hn)" && exec taskset -c "$0" "$@"', String(LOAD_CPU), process.execPath, fileURLToPath(import.meta.url), ...argv],
    { stdio: 'inherit', env: { ...process.env, BENCH_PINNED: '1' } },
  );
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  return true;
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`bench: ${err.message}\n\n${USAGE}`);
      process.exit(2);
    }
    throw err;
  }
  if (opts.help) {
    process.stdout.write(USAGE);
    return;
  }
  const repinned = repinSelf(process.argv.slice(2));
  if (repinned) return; // the pinned copy does the work
  const notes = [];
  if (repinned === false) notes.push('could not pin the bench to CPU 1 (needs Linux, taskset and 2 CPUs): server and bench share CPUs');

  const watchdog = setTimeout(() => {
    log(`bench: watchdog: still running after ${opts.timeout} s, giving up`);
    process.exit(3);
  }, opts.timeout * 1000);
  watchdog.unref();

  opts.serverCpu = SERVER_CPU;
  opts.outDir = resolve(BENCH_DIR, 'out');
  mkdirSync(opts.outDir, { recursive: true });
  const outFile = opts.out ? resolve(opts.out) : join(opts.outDir, 'results.json');
  if (opts.parleyNagle) notes.push('experiment: Parley ran with Nagle on (bench/lib/no-nodelay.mjs preloaded), not as shipped');
  if (opts.profile) {
    notes.push("Parley ran under --cpu-prof: its figures include the profiler's overhead");
    opts.profileDir = `/tmp/parley-cpuprof-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    mkdirSync(opts.profileDir, { recursive: true });
  }

  const fdLimit = readFdLimit(process.pid);
  if (fdLimit !== null && opts.only.includes('memory') && opts.connections + 200 > fdLimit) {
    const capped = Math.max(100, fdLimit - 200);
    notes.push(`open-file limit is ${fdLimit}: --connections lowered from ${opts.connections} to ${capped}`);
    opts.connections = capped;
  }

  const meta = {
    date: new Date().toISOString(),
    host: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), kernel: os.release() },
    node: process.version,
    pinning: { server: `CPU ${SERVER_CPU}`, bench: readAffinity(process.pid) },
    fdLimit,
    options: { ...opts, outDir: undefined },
    versions: {},
  };
  const results = { meta, rounds: [], summary: null, goals: null, notes };

  const kinds = [];
  const skipped = [];
  for (const kind of opts.servers) {
    const a = availability(kind);
    if (!a.ok) {
      log(`bench: skipping ${kind}: ${a.why}`);
      skipped.push({ server: kind, skipped: a.why });
      continue;
    }
    meta.versions[kind] = version(kind);
    kinds.push(kind);
  }
  log(`bench: server on CPU ${SERVER_CPU}, bench on CPUs ${meta.pinning.bench}; open-file limit ${fdLimit}`);

  for (let round = 1; round <= opts.rounds; round++) {
    // Rotate the order each round, so no server always runs first (fresh machine) or last.
    const order = kinds.map((_, i) => kinds[(i + round - 1) % kinds.length]);
    const record = { round, order, memory: [...skipped], throughput: [...skipped], latency: [...skipped] };
    results.rounds.push(record);
    for (const kind of order) {
      for (const measurement of opts.only) {
        log(`bench: round ${round}/${opts.rounds}: ${measurement} ${kind}`);
        record[measurement].push(await measure(measurement, kind, opts));
      }
    }
  }
  results.summary = summarize(results.rounds, opts.servers, opts);
  results.goals = goals(results.summary, opts.servers);

  if (opts.profileDir) results.profiles = summarizeProfiles(opts.profileDir);
  writeResults(outFile, results);
  const mdFile = resolve(opts.resultsMd ?? (isFullSuite(opts) ? join(BENCH_DIR, 'RESULTS.md') : join(opts.outDir, 'RESULTS.md')));
  const warnings = results.rounds.flatMap((r) => roundWarnings(r).map((w) => `round ${r.round}: ${w}`)).concat(notes);
  writeText(mdFile, resultsMarkdown({ meta, summary: results.summary, goalList: results.goals, servers: opts.servers, warnings, command: benchCommand() }));
  printReport(results, opts, outFile, mdFile);
  // Anything still holding the event loop open (a stray socket) must not keep the bench alive.
  setTimeout(() => process.exit(0), 2000).unref();
}

/** How this run was started, for the report's first line. */
function benchCommand() {
  const args = process.argv.slice(2);
  return args.length === 0 ? 'npm run bench' : `node bench/run.mjs ${args.join(' ')}`;
}

/** Throughput is fanout as fast as acknowledgements allow; latency is fanout at a fixed rate. */
const MEASURE = {
  memory: (kind, opts) => measureMemory(kind, opts, log),
  throughput: (kind, opts) => measureFanout(kind, { ...opts, rate: null }, log),
  latency: (kind, opts) => measureFanout(kind, { ...opts, window: 10000 }, log),
};

/** One measurement; a fanout disturbed by other processes is measured again (--retries). */
async function measure(measurement, kind, opts) {
  try {
    let best = null;
    const tries = measurement === 'memory' ? 1 : 1 + opts.retries;
    for (let i = 1; i <= tries; i++) {
      const result = await MEASURE[measurement](kind, opts);
      result.attempt = i;
      if (!best || result.otherCpu < best.otherCpu) best = result;
      if (!(result.otherCpu > 0.1) || i === tries) break;
      log(`  ${kind}: other processes used ${result.otherCpu.toFixed(2)} cores meanwhile; measuring again`);
    }
    return best;
  } catch (err) {
    log(`bench: ${measurement} ${kind} failed: ${err.stack ?? err}`);
    return { server: kind, skipped: `failed: ${err.message}` };
  }
}

function roundWarnings(round) {
  return [...round.memory.flatMap(memoryWarnings), ...round.throughput.flatMap(fanoutWarnings), ...round.latency.flatMap(fanoutWarnings)];
}

function summarizeProfiles(dir) {
  const out = [];
  const walk = (d) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.cpuprofile')) out.push(path);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out.map((file) => {
    try {
      const summary = summarizeProfile(file);
      return { file, totalMs: summary.totalMs, functions: summary.functions.slice(0, 30), files: summary.files.slice(0, 15), text: formatProfile(summary, 20) };
    } catch (err) {
      return { file, error: err.message };
    }
  });
}

const pctOf = (v) => `${Math.round(v * 100)}%`;

function printReport(results, opts, outFile, mdFile) {
  const { meta } = results;
  const say = (s = '') => process.stdout.write(`${s}\n`);
  say();
  say(`Parley benchmarks — ${meta.date}`);
  say(`host: ${meta.host.cpus} CPUs (${meta.host.model}), ${meta.host.memoryGiB} GiB, Linux ${meta.host.kernel}, node ${meta.node}`);
  say(`pinning: server on CPU 0 (taskset -c 0); bench (coordinator and workers) on CPU ${meta.pinning.bench}`);
  for (const [kind, v] of Object.entries(meta.versions)) say(`  ${kind}: ${v}${kind === 'parley' && opts.parleyNagle ? ' [--parley-nagle experiment]' : ''}`);

  for (const round of results.rounds) {
    say();
    say(`== Round ${round.round} of ${opts.rounds} (order: ${round.order.join(', ')})`);
    if (opts.only.includes('memory')) printMemory(say, round.memory, opts);
    if (opts.only.includes('throughput')) printFanout(say, round.throughput, `Throughput: window ${opts.window} per sender`, opts);
    if (opts.only.includes('latency')) printFanout(say, round.latency, `Latency: ${opts.rate} msg/s in total`, opts);
  }
  say();
  say(`== Medians of ${opts.rounds} round(s); ratio = server / parley`);
  say(summaryTable(results.summary, opts.servers));
  for (const g of results.goals) say(`  goal ${g.verdict}: ${g.goal}`);
  say('  note: the bench has one core (CPU 1) for all its processes. Loopback TCP work lands on whichever CPU');
  say('  runs it: ngIRCd and InspIRCd leave Nagle on, so data they hold back is sent when the client\'s ACK is');
  say('  processed, on CPU 1; compare "both CPUs" per delivery, not only CPU 0. See bench/README.md.');
  for (const n of results.notes) say(`  note: ${n}`);
  for (const p of results.profiles ?? []) {
    say();
    say(`CPU profile ${p.file}`);
    say(p.error ? `  could not read: ${p.error}` : p.text);
  }
  say();
  say(`results: ${outFile}`);
  say(`summary: ${mdFile}`);
}

function printMemory(say, runs, opts) {
  say();
  say(`Memory per idle registered connection (${opts.connections} connections, ${opts.concurrency} in flight while opening)`);
  say(memoryTable(runs));
  for (const w of runs.flatMap(memoryWarnings)) say(`  ! ${w}`);
}

function printFanout(say, runs, title, opts) {
  say();
  say(`${title}: ${opts.members} members in one room, ${opts.senders} senders, ${opts.samplers} sampled receivers, ${opts.warmup} s warm-up + ${opts.duration} s measured`);
  say(fanoutTable(runs));
  for (const r of runs) {
    if (r.skipped) continue;
    const split = Object.entries(r.cpuBusy)
      .map(([cpu, v]) => `${cpu} user ${pctOf(v.user)} sys ${pctOf(v.system)} softirq ${pctOf(v.softirq)}`)
      .join('; ');
    say(
      `  ${r.server}: ideal deliveries/s ${Math.round(r.idealDeliveriesPerSecond).toLocaleString('en-US')} (sent x ${r.members.joined - 1}); ` +
        `per delivery: CPU 0 ${r.serverCoreUsPerDelivery?.toFixed(2)} us, both CPUs ${r.machineUsPerDelivery?.toFixed(2)} us, ` +
        `TCP segments ${r.tcpSegmentsPerDelivery?.toFixed(2)}; latency samples ${r.latencyMs.count.toLocaleString('en-US')}`,
    );
    say(`  ${' '.repeat(r.server.length)}  ${split}; bench: coordinator ${pctOf(r.generatorCpuMain)} + ${r.workers} workers`);
    say(`  ${' '.repeat(r.server.length)}  p50 ms per sampler, in join order: ` + r.latencyBySampler.map((s) => (s.p50 === null ? '-' : s.p50.toFixed(1))).join(' '));
  }
  for (const w of runs.flatMap(fanoutWarnings)) say(`  ! ${w}`);
}

main().catch((err) => {
  log(`bench: ${err.stack ?? err}`);
  process.exit(1);
});
