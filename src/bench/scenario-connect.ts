// connect: N clients connect, register and join one room, `concurrency` at a time. With
// --workers N the clients are dealt out to N forked workers, each running connectPart() on its
// share (concurrency split between them) from one instant of the shared monotonic clock; the
// coordinator merges their tallies.
import { BenchConn, openMany, type Target } from './conn.js';
import type { Context, ScenarioResult } from './result.js';
import { countReasons, sleep } from './result.js';
import { SATURATED, SelfCpu } from './proc.js';
import { histogram, LatencyLog, summarize, TimeSeries, type LatencySamples } from './stats.js';
import { dealOut, startWorkers } from './workers.js';

/** How long connections stay open after the last one joined, to see if the server drops them. */
const HOLD_MS = 1000;

export interface ConnectPlan {
  target: Target;
  runId: string;
  room: string;
  /** Global client indices (nicks pb<run>x<i>). */
  clients: number[];
  concurrency: number;
  timeoutMs: number;
  /** Seconds after the start when no new attempt begins. */
  duration: number;
}

export interface ConnectTally {
  requested: number;
  connected: number;
  /** Not attempted: --duration ran out first. */
  skipped: number;
  failures: Record<string, number>;
  /** From the start to the last attempt's end. */
  seconds: number;
  /** connect + register + JOIN per client, at its completion (ms since the start). */
  latency: LatencySamples;
  counters: Record<string, number[]>;
  /** Closed by the server during the HOLD_MS after the last join. */
  dropReasons: string[];
  cpuShare: number;
}

export async function connectScenario(ctx: Context): Promise<ScenarioResult> {
  const o = ctx.options;
  const workers = Math.min(o.workers, o.clients);
  const processes = Math.max(1, workers);
  const concurrency = Math.max(1, Math.floor(o.concurrency / processes));
  const plans: ConnectPlan[] = dealOut(Array.from({ length: o.clients }, (_, i) => i), processes).map((clients) => ({ target: ctx.target, runId: ctx.runId, room: o.room, clients, concurrency, timeoutMs: o.timeoutMs, duration: o.duration }));
  if (workers === 0) {
    let done = 0;
    const startNs = process.hrtime.bigint();
    ctx.measuring(startNs, o.duration);
    const tally = await connectPart(plans[0]!, startNs, () => ctx.progress.update('connect', ++done / o.clients, `${done}/${o.clients} done`));
    ctx.progress.done();
    return connectResult(ctx, [tally], { cpuShare: tally.cpuShare, workers: [] });
  }
  const pool = await startWorkers(workers, o.timeoutMs + 10_000);
  try {
    const cpu = new SelfCpu();
    const startNs = process.hrtime.bigint();
    ctx.measuring(startNs, o.duration);
    const started = performance.now();
    const progress = setInterval(() => ctx.progress.update('connect', (performance.now() - started) / (o.duration * 1000), `${workers} workers`), 200);
    const replies = await Promise.all(
      pool.map((w, i) => w.ask({ type: 'connect-run', plan: plans[i]!, startNs }, 'connect-result', (o.duration + HOLD_MS / 1000) * 1000 + o.timeoutMs * 2 + 10_000)),
    ).finally(() => clearInterval(progress));
    ctx.progress.done();
    const tallies = replies.map((r) => r.tally);
    return connectResult(ctx, tallies, { cpuShare: cpu.share(), workers: tallies.map((t) => ({ cpuShare: t.cpuShare })) });
  } finally {
    for (const w of pool) w.kill();
  }
}

/** Opens plan.clients from startNs on, holds them HOLD_MS, closes them. */
export async function connectPart(plan: ConnectPlan, startNs: bigint, onDone?: () => void): Promise<ConnectTally> {
  await sleep(Math.max(0, Number(startNs - process.hrtime.bigint()) / 1e6));
  const sinceStart = () => Number(process.hrtime.bigint() - startNs) / 1e6;
  const cpu = new SelfCpu();
  const series = new TimeSeries(0);
  const latency = new LatencyLog();
  let skipped = 0;
  const opened = await openMany(
    plan.clients.length,
    plan.concurrency,
    async (j) => {
      if (sinceStart() > plan.duration * 1000) {
        skipped++;
        throw new Error('not attempted: --duration ran out');
      }
      const conn = new BenchConn(plan.target, `pb${plan.runId}x${plan.clients[j]}`);
      const t0 = sinceStart();
      try {
        await conn.open(plan.timeoutMs);
        await conn.join(plan.room, plan.timeoutMs);
      } catch (err) {
        conn.close();
        series.add('failed', sinceStart());
        throw err;
      }
      const now = sinceStart();
      series.add('connected', now);
      latency.add(now, now - t0);
      return conn;
    },
    onDone,
  );
  const seconds = sinceStart() / 1000;
  const cpuShare = cpu.share();
  // Still there a second later?
  await sleep(HOLD_MS);
  const conns = opened.conns.filter((c): c is BenchConn => c !== null);
  const dropReasons = conns.filter((c) => c.dropped).map((c) => c.error ?? 'closed');
  for (const c of conns) c.close();
  return { requested: plan.clients.length, connected: conns.length, skipped, failures: Object.fromEntries(opened.errors), seconds, latency: latency.samples(), counters: series.counters(), dropReasons, cpuShare };
}

function connectResult(ctx: Context, tallies: ConnectTally[], generator: { cpuShare: number; workers: { cpuShare: number }[] }): ScenarioResult {
  const o = ctx.options;
  const sum = (f: (t: ConnectTally) => number) => tallies.reduce((n, t) => n + f(t), 0);
  const connected = sum((t) => t.connected);
  const seconds = Math.max(0.001, ...tallies.map((t) => t.seconds));
  const failures: Record<string, number> = {};
  const log = new LatencyLog(Infinity);
  const series = new TimeSeries(0);
  for (const t of tallies) {
    for (const [why, n] of Object.entries(t.failures)) failures[why] = (failures[why] ?? 0) + n;
    log.addAll(t.latency);
    series.addCounters(t.counters);
  }
  log.addTo(series);
  const dropReasons = tallies.flatMap((t) => t.dropReasons);
  const failed = o.clients - connected;
  const saturated = [generator.cpuShare, ...generator.workers.map((w) => w.cpuShare)].some((s) => s > SATURATED);
  return {
    scenario: 'connect',
    seconds,
    figures: [
      ['clients', o.clients],
      ['processes', generator.workers.length === 0 ? 1 : `${generator.workers.length} workers`],
      ['connected+joined', connected],
      ['failed', failed],
      ['not attempted', sum((t) => t.skipped)],
      ['disconnected after', dropReasons.length],
      ['total s', seconds.toFixed(2)],
      ['connections/s', (connected / seconds).toFixed(1)],
    ],
    clients: { requested: o.clients, connected, failed, failures, disconnects: dropReasons.length, disconnectReasons: countReasons(dropReasons) },
    latencyOf: 'connect + register + JOIN, per client',
    latencyMs: summarize(log.values()),
    histogram: histogram(log.values()),
    series: series.rows(Math.ceil(seconds)),
    throughputOf: 'connected',
    messages: null,
    generator: { cpuShare: generator.cpuShare, saturated, workers: generator.workers },
    warnings: [],
  };
}
