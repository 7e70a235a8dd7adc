// rooms: U users in rooms of K, every user sends `rate` messages/s to its room on a steady
// schedule (each user with its own phase). Every member parses and times what it receives.
//
// One RoomRunner runs a set of whole rooms: in this process (--workers 0), or one per forked
// worker (--workers N, rooms dealt out round-robin). A room never spans two processes, so each
// runner knows how many deliveries its own messages should make. All runners start their load
// at one instant of process.hrtime.bigint() (CLOCK_MONOTONIC, shared by every process), so
// their measured seconds coincide and their per-second series add up; the coordinator merges
// what they return (RoomsTally) into one result.
import { BenchConn, openMany, type Target } from './conn.js';
import { markText, readMark } from './mark.js';
import { SATURATED, SelfCpu } from './proc.js';
import { Progress } from './progress.js';
import type { Context, ScenarioResult } from './result.js';
import { countReasons, sleep } from './result.js';
import { histogram, LatencyLog, MAX_LATENCY_SAMPLES, summarize, TimeSeries, type LatencySamples } from './stats.js';
import { latencyRows } from './scenario-fanout.js';
import { dealOut, startWorkers } from './workers.js';

const TICK_MS = 10;
/** Between the last JOIN and the load: lets the JOIN/NAMES storm settle. */
const SETTLE_MS = 300;
const DRAIN_QUIET_MS = 2000;
const DRAIN_MAX_MS = 10_000;

/** What one runner is asked to run. */
export interface RoomsPlan {
  target: Target;
  runId: string;
  /** Room name prefix: user i is in `${room}-${floor(i / roomSize)}`. */
  room: string;
  roomSize: number;
  /** The users (global indices, nicks pb<run>x<i>) of whole rooms. */
  users: number[];
  rate: number;
  warmup: number;
  duration: number;
  timeoutMs: number;
  concurrency: number;
}

/** What one runner measured; plain data, sent by a worker to the coordinator. */
export interface RoomsTally {
  requested: number;
  connected: number;
  rooms: number;
  failures: Record<string, number>;
  sent: number;
  measuredSent: number;
  expected: number;
  received: number;
  deliveredInWindow: number;
  seconds: number;
  latency: LatencySamples;
  /** Per-second counters ('sent', 'delivered') from the start of the measurement. */
  counters: Record<string, number[]>;
  dropReasons: string[];
  cpuShare: number;
}

export async function roomsScenario(ctx: Context): Promise<ScenarioResult> {
  const o = ctx.options;
  const rooms = Math.ceil(o.clients / o.roomSize);
  // More processes than rooms would leave some with nothing to do.
  const workers = Math.min(o.workers, rooms);
  const processes = Math.max(1, workers);
  const concurrency = Math.max(1, Math.floor(o.concurrency / processes));
  const plans = dealOut(Array.from({ length: rooms }, (_, r) => r), processes).map((roomIndices) => planFor(ctx, roomIndices, concurrency));
  if (workers === 0) {
    const tally = await runInProcess(ctx, plans[0]!);
    return roomsResult(ctx, [tally], { cpuShare: tally.cpuShare, workers: [] });
  }
  const { tallies, cpuShare } = await runOnWorkers(ctx, plans);
  return roomsResult(ctx, tallies, { cpuShare, workers: tallies.map((t) => ({ cpuShare: t.cpuShare })) });
}

/** The users of the given rooms, and the shared settings. */
function planFor(ctx: Context, roomIndices: number[], concurrency: number): RoomsPlan {
  const o = ctx.options;
  const users: number[] = [];
  for (const r of roomIndices) for (let i = r * o.roomSize; i < Math.min(o.clients, (r + 1) * o.roomSize); i++) users.push(i);
  return { target: ctx.target, runId: ctx.runId, room: o.room, roomSize: o.roomSize, users, rate: o.rate, warmup: o.warmup, duration: o.duration, timeoutMs: o.timeoutMs, concurrency };
}

async function runInProcess(ctx: Context, plan: RoomsPlan): Promise<RoomsTally> {
  const U = plan.users.length;
  let joined = 0;
  const runner = await RoomRunner.open(plan, () => ctx.progress.update('join', ++joined / U, `${joined}/${U} users`));
  try {
    checkJoined(runner.connected, ctx.options.clients, runner.failures);
    const startNs = process.hrtime.bigint() + BigInt(SETTLE_MS * 1e6);
    ctx.measuring(startNs + BigInt(Math.round(plan.warmup * 1e9)), plan.duration);
    return await runner.run(startNs, ctx.progress);
  } finally {
    runner.close();
  }
}

async function runOnWorkers(ctx: Context, plans: RoomsPlan[]): Promise<{ tallies: RoomsTally[]; cpuShare: number }> {
  const o = ctx.options;
  const workers = await startWorkers(plans.length, o.timeoutMs + 10_000);
  try {
    ctx.progress.update('join', 0, `${plans.length} workers opening ${o.clients} users`);
    const ready = await Promise.all(workers.map((w, i) => w.ask({ type: 'rooms-open', plan: plans[i]! }, 'rooms-ready', o.timeoutMs * (plans[i]!.users.length + 1) + 5000)));
    const failures: Record<string, number> = {};
    for (const r of ready) addCounts(failures, r.failures);
    checkJoined(ready.reduce((n, r) => n + r.connected, 0), o.clients, failures);
    // Every runner starts at the same instant of the shared monotonic clock.
    const startNs = process.hrtime.bigint() + BigInt(SETTLE_MS * 1e6);
    ctx.measuring(startNs + BigInt(Math.round(o.warmup * 1e9)), o.duration);
    const total = SETTLE_MS + (o.warmup + o.duration) * 1000;
    const started = performance.now();
    const progress = setInterval(() => {
      const f = (performance.now() - started) / total;
      ctx.progress.update(f < 1 ? 'rooms' : 'drain', f, `${plans.length} workers`);
    }, 200);
    const cpu = new SelfCpu();
    try {
      const runFor = total + DRAIN_MAX_MS + o.timeoutMs + 10_000;
      const tallies = await Promise.all(workers.map((w) => w.ask({ type: 'rooms-run', startNs }, 'rooms-result', runFor)));
      return { tallies: tallies.map((t) => t.tally), cpuShare: cpu.share() };
    } finally {
      clearInterval(progress);
    }
  } finally {
    for (const w of workers) w.kill();
  }
}

function checkJoined(connected: number, requested: number, failures: Record<string, number>): void {
  if (connected < 2) throw new Error(`rooms: only ${connected} of ${requested} users could connect (${Object.keys(failures)[0] ?? 'no reason'})`);
}

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, n] of Object.entries(from)) into[k] = (into[k] ?? 0) + n;
}

/** One set of whole rooms, in one process: open and join, then run(), then close(). */
export class RoomRunner {
  /** conns[j] is plan.users[j] (null: could not join). */
  private conns: (BenchConn | null)[] = [];
  private live: BenchConn[] = [];
  /** Joined members per room: a message to room r should reach roomSize(r) - 1 members. */
  private roomSize = new Map<string, number>();
  failures: Record<string, number> = {};
  /** Nothing is timed until run() sets the start of the measurement. */
  private measureStartNs: bigint | null = null;
  private readonly latency = new LatencyLog();

  private constructor(private readonly plan: RoomsPlan) {}

  get connected(): number {
    return this.live.length;
  }

  static async open(plan: RoomsPlan, onDone?: () => void): Promise<RoomRunner> {
    const runner = new RoomRunner(plan);
    await runner.openAll(onDone);
    return runner;
  }

  private roomOf(i: number): string {
    return `${this.plan.room}-${Math.floor(i / this.plan.roomSize)}`;
  }

  private async openAll(onDone?: () => void): Promise<void> {
    const p = this.plan;
    const opened = await openMany(
      p.users.length,
      p.concurrency,
      async (j) => {
        const i = p.users[j]!;
        const conn = new BenchConn(p.target, `pb${p.runId}x${i}`);
        try {
          await conn.open(p.timeoutMs);
          await conn.join(this.roomOf(i), p.timeoutMs);
        } catch (err) {
          conn.close();
          throw err;
        }
        conn.onPrivmsg = (_source, text, now) => this.onPrivmsg(text, now);
        return conn;
      },
      onDone,
    );
    this.conns = opened.conns;
    this.live = opened.conns.filter((c): c is BenchConn => c !== null);
    this.failures = Object.fromEntries(opened.errors);
    this.conns.forEach((c, j) => {
      const room = this.roomOf(p.users[j]!);
      if (c) this.roomSize.set(room, (this.roomSize.get(room) ?? 0) + 1);
    });
  }

  private onPrivmsg(text: string, now: bigint): void {
    const mark = readMark(this.plan.runId, text);
    if (mark === null || this.measureStartNs === null || mark.sentNs < this.measureStartNs) return;
    this.latency.add(Number(mark.sentNs - this.measureStartNs) / 1e6, Number(now - mark.sentNs) / 1e6);
  }

  private received(): number {
    return this.live.reduce((s, c) => s + c.privmsgs, 0);
  }

  /**
   * Waits until startNs, sends for warmup + duration seconds, drains, and closes the
   * connections. Measured: messages sent from startNs + warmup on.
   */
  async run(startNs: bigint, progress: Progress = new Progress(false)): Promise<RoomsTally> {
    const p = this.plan;
    await sleep(Math.max(0, Number(startNs - process.hrtime.bigint()) / 1e6));
    for (const c of this.live) c.resetCounters();
    const measureStartNs = startNs + BigInt(Math.round(p.warmup * 1e9));
    this.measureStartNs = measureStartNs;
    const sinceStart = () => Number(process.hrtime.bigint() - startNs) / 1e6;
    const measureFrom = p.warmup * 1000;
    const loadEnd = measureFrom + p.duration * 1000;
    const series = new TimeSeries(0);
    const cpu = new SelfCpu();
    const phase = p.users.map((i) => (i * 0.618034) % 1);
    const sentBy = new Array<number>(p.users.length).fill(0);
    const maxPerUser = Math.ceil(p.rate * (p.warmup + p.duration)) + 1;
    let sent = 0;
    let measuredSent = 0;
    let expected = 0;
    let measuring = false;
    let nextSecond = 0;
    let lastReceived = 0;
    let receivedAtStart = 0;
    for (let now = sinceStart(); now < loadEnd; now = sinceStart()) {
      if (!measuring && now >= measureFrom) {
        measuring = true;
        cpu.reset();
        receivedAtStart = lastReceived = this.received();
        nextSecond = measureFrom + 1000;
      }
      for (let j = 0; j < p.users.length; j++) {
        const conn = this.conns[j];
        if (!conn || conn.closed) continue;
        const i = p.users[j]!;
        const due = Math.min(maxPerUser, Math.floor((now / 1000) * p.rate + phase[j]!));
        while (sentBy[j]! < due) {
          const ns = process.hrtime.bigint();
          conn.send(`PRIVMSG ${this.roomOf(i)} :${markText(p.runId, i, sentBy[j]!++, ns)}`);
          sent++;
          expected += this.roomSize.get(this.roomOf(i))! - 1;
          if (ns >= measureStartNs) {
            measuredSent++;
            series.add('sent', Number(ns - measureStartNs) / 1e6);
          }
        }
      }
      if (measuring && now >= nextSecond) {
        const r = this.received();
        series.add('delivered', nextSecond - 1000 - measureFrom, r - lastReceived);
        lastReceived = r;
        nextSecond += 1000;
      }
      progress.update('rooms', now / loadEnd, () => `${sent} sent, p99 ${summarize(this.latency.recent(2000)).p99?.toFixed(2) ?? '-'} ms`);
      await sleep(TICK_MS);
    }
    const seconds = Math.max(0.001, (Math.min(sinceStart(), loadEnd) - measureFrom) / 1000);
    const cpuShare = cpu.share();
    const atEnd = this.received();
    // The last, partial second.
    if (measuring && atEnd > lastReceived) series.add('delivered', nextSecond - 1000 - measureFrom, atEnd - lastReceived);
    await this.drain(expected);
    progress.done();
    const dropReasons = this.live.filter((c) => c.dropped).map((c) => c.error ?? 'closed');
    const received = this.received();
    this.close();
    return {
      requested: p.users.length,
      connected: this.live.length,
      rooms: this.roomSize.size,
      failures: this.failures,
      sent,
      measuredSent,
      expected,
      received,
      deliveredInWindow: atEnd - receivedAtStart,
      seconds,
      latency: this.latency.samples(),
      counters: series.counters(),
      dropReasons,
      cpuShare,
    };
  }

  /** Until everything expected arrived, or nothing moved for 2 s (at most 10 s). */
  private async drain(expected: number): Promise<void> {
    const drainEnd = performance.now() + DRAIN_MAX_MS;
    let last = this.received();
    let lastMove = performance.now();
    while (last < expected && performance.now() < drainEnd && performance.now() - lastMove < DRAIN_QUIET_MS) {
      await sleep(100);
      const r = this.received();
      if (r !== last) lastMove = performance.now();
      last = r;
    }
  }

  close(): void {
    for (const c of this.live) c.close();
  }
}

/** One result from the runners' tallies (one in-process, or one per worker). */
function roomsResult(ctx: Context, tallies: RoomsTally[], generator: { cpuShare: number; workers: { cpuShare: number }[] }): ScenarioResult {
  const o = ctx.options;
  const U = o.clients;
  const sum = (f: (t: RoomsTally) => number) => tallies.reduce((n, t) => n + f(t), 0);
  const connected = sum((t) => t.connected);
  const sent = sum((t) => t.sent);
  const expected = sum((t) => t.expected);
  const received = sum((t) => t.received);
  const seconds = Math.max(...tallies.map((t) => t.seconds));
  const failures: Record<string, number> = {};
  const log = new LatencyLog(Infinity);
  const series = new TimeSeries(0);
  for (const t of tallies) {
    addCounts(failures, t.failures);
    log.addAll(t.latency);
    series.addCounters(t.counters);
  }
  log.addTo(series);
  const dropReasons = tallies.flatMap((t) => t.dropReasons);
  const latency = summarize(log.values());
  const lost = Math.max(0, expected - received);
  const warnings: string[] = [];
  if (connected < U) warnings.push(`${U - connected} of ${U} users could not join`);
  if (log.overflow > 0) warnings.push(`${log.overflow} latency samples were not kept (over ${MAX_LATENCY_SAMPLES} per process): percentiles cover the earlier ones`);
  const saturated = [generator.cpuShare, ...generator.workers.map((w) => w.cpuShare)].some((s) => s > SATURATED);
  return {
    scenario: 'rooms',
    seconds,
    figures: [
      ['users joined', `${connected}/${U}`],
      ['rooms', sum((t) => t.rooms)],
      ['processes', generator.workers.length === 0 ? 1 : `${generator.workers.length} workers`],
      ['rate per user msg/s', o.rate],
      ['sent msg/s', (sum((t) => t.measuredSent) / seconds).toFixed(1)],
      ['deliveries/s', (sum((t) => t.deliveredInWindow) / seconds).toFixed(0)],
      ...latencyRows(latency),
      ['sent (whole run)', sent],
      ['expected deliveries', expected],
      ['received', received],
      ['lost', lost],
      ['disconnects', dropReasons.length],
    ],
    clients: { requested: U, connected, failed: U - connected, failures, disconnects: dropReasons.length, disconnectReasons: countReasons(dropReasons) },
    latencyOf: 'PRIVMSG send to receipt, every member',
    latencyMs: latency,
    histogram: histogram(log.values()),
    series: series.rows(Math.ceil(o.duration)),
    throughputOf: 'delivered',
    messages: { sent, expected, received, lost },
    generator: { cpuShare: generator.cpuShare, saturated, workers: generator.workers },
    warnings,
  };
}
