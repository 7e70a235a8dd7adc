// fanout: M members in one room, S of them send, in one of two load modes:
// - rate (--rate R): R messages/s in total, round-robin over the senders, on a fixed schedule.
//   Latency at a given load.
// - window (--window W): each sender keeps at most W messages that the designated receiver (the
//   first sampler) has not received yet, and sends the next one as soon as one arrives there.
//   Throughput at saturation; latency is then mostly time spent queueing (Little's law:
//   messages in flight / rate), not the server's latency at a moderate load.
// Samplers parse every line and time each message from the send timestamp it carries
// (process.hrtime.bigint(): one monotonic clock for the whole machine); everyone else only
// counts. Expected deliveries: sent x (joined members - 1), no echo-message.
//
// Backlog guard, both modes: a sender holds back while its socket has MAX_PENDING_BYTES unsent
// (the server is not reading) or while the members as a whole are more than MAX_BACKLOG
// messages behind (the server is queueing for slow receivers), so the bench cannot grow the
// server's queues without bound.
import { BenchConn, openMany } from './conn.js';
import { markText, readMark } from './mark.js';
import { SATURATED, SelfCpu } from './proc.js';
import type { Context, ScenarioResult } from './result.js';
import { countReasons, sleep } from './result.js';
import { CumulativeCounter } from './cumulative.js';
import { histogram, LatencyLog, MAX_LATENCY_SAMPLES, summarize, TimeSeries } from './stats.js';
import { dealOut, Worker } from './workers.js';

const TICK_MS = 5;
const SETTLE_QUIET_MS = 300;
const SETTLE_MAX_MS = 10_000;
const DRAIN_QUIET_MS = 2000;
const DRAIN_MAX_MS = 10_000;
/** A sender with this much unsent output holds back. */
const MAX_PENDING_BYTES = 256 * 1024;
/** Senders hold back while the members are, on average, more than this many messages behind. */
const MAX_BACKLOG = 1000;
/** Below this many lines a second per sender, with a median wait over PACED_P50_MS, the server is pacing them. */
const PACED_LINES_PER_SECOND = 10;
const PACED_P50_MS = 500;
/** During the load, the workers' counts are asked for this often (for the backlog guard). */
const POLL_MS = 50;

export async function fanoutScenario(ctx: Context): Promise<ScenarioResult> {
  const run = new FanoutRun(ctx);
  try {
    await run.open();
    await run.settle();
    const window = await run.load();
    const expected = run.sent * (run.connected - 1);
    await run.drain(expected);
    return await run.finish(window, expected);
  } finally {
    run.close();
  }
}

/**
 * Roles by index (= join order within the coordinator): senders first, then k samplers spread
 * evenly over the rest, the others passive (in the workers when there are any).
 */
export function layoutMembers(members: number, senders: number, samplers: number, workers: number): { samplerAt: Set<number>; local: number[]; passive: number[] } {
  const rest = members - senders;
  const k = Math.min(samplers, rest);
  const samplerAt = new Set<number>();
  for (let j = 0; j < k; j++) samplerAt.add(senders + (k === 1 ? rest - 1 : Math.round((j * (rest - 1)) / (k - 1))));
  const local: number[] = [];
  const passive: number[] = [];
  for (let i = 0; i < members; i++) (i < senders || samplerAt.has(i) || workers === 0 ? local : passive).push(i);
  return { samplerAt, local, passive };
}

interface Sender {
  conn: BenchConn;
  /** Position in the senders list: the <sender> of its messages. */
  index: number;
  /** Messages sent so far (the next one's seq). */
  seq: number;
  /** Window mode: messages received by the designated receiver (all seq below this). */
  acked: number;
  /** Window mode: when `acked` last moved (performance.now()), to notice a stalled window. */
  lastAckAt: number;
}

/**
 * PRIVMSGs received by every member: this process's counted now, the workers' as last asked.
 * Every reading with all workers' answers goes into `readings`, timed, for the throughput.
 */
class Deliveries {
  readonly readings = new CumulativeCounter();
  private fromWorkers: { privmsgs: number; dropped: number }[];
  private polling = false;

  constructor(
    private readonly local: BenchConn[],
    private readonly workers: Worker[],
  ) {
    this.fromWorkers = workers.map(() => ({ privmsgs: 0, dropped: 0 }));
  }

  known(): { privmsgs: number; dropped: number } {
    let privmsgs = 0;
    let dropped = 0;
    for (const c of this.local) {
      privmsgs += c.privmsgs;
      if (c.dropped) dropped++;
    }
    for (const w of this.fromWorkers) {
      privmsgs += w.privmsgs;
      dropped += w.dropped;
    }
    return { privmsgs, dropped };
  }

  /** Asks the workers first. */
  async now(): Promise<{ privmsgs: number; dropped: number }> {
    await this.ask();
    return this.known();
  }

  /** Refreshes the workers' counts in the background, one request at a time. */
  poll(): void {
    if (this.workers.length === 0) {
      this.readings.add(performance.now(), this.known().privmsgs);
      return;
    }
    if (this.polling) return;
    this.polling = true;
    void this.ask().finally(() => (this.polling = false));
  }

  private async ask(): Promise<void> {
    // A worker that does not answer keeps its last count.
    const counts = await Promise.all(this.workers.map((w) => w.ask({ type: 'count' }, 'count', 2000).catch(() => null)));
    counts.forEach((c, i) => c && (this.fromWorkers[i] = c));
    // With a worker's count missing (stale), the sum is no total at this moment.
    if (counts.every((c) => c !== null)) this.readings.add(performance.now(), this.known().privmsgs);
  }
}

class FanoutRun {
  private readonly o: Context['options'];
  private readonly layout: ReturnType<typeof layoutMembers>;
  private readonly workers: Worker[] = [];
  private readonly warnings: string[] = [];
  /** This process's members: conns[j] is member local[j] (null: could not join); mine: those that joined. */
  private conns: (BenchConn | null)[] = [];
  private mine: BenchConn[] = [];
  private senders: Sender[] = [];
  private deliveries!: Deliveries;
  private failures: Record<string, number> = {};
  connected = 0;

  // Load state.
  private running = false;
  /** Nothing is timed until the measurement starts. */
  private measureStartNs: bigint | null = null;
  private readonly latency = new LatencyLog();
  private readonly series = new TimeSeries(0);
  sent = 0;
  private measuredSent = 0;
  /** Deliveries as of the last tick: the backlog guard's view (at most a tick old). */
  private deliveredSoFar = 0;
  private guardOn = false;
  /** Rate mode: messages scheduled so far, and those of them not sent (backlog guard). */
  private scheduled = 0;
  private heldBack = 0;
  /** Times the backlog guard engaged. */
  private backlogPauses = 0;
  /** Window mode: windows given up after --timeout without an acknowledgement. */
  private stalls = 0;

  constructor(private readonly ctx: Context) {
    this.o = ctx.options;
    this.layout = layoutMembers(this.o.clients, this.o.senders, this.o.samplers, this.o.workers);
  }

  private nick(i: number): string {
    return `pb${this.ctx.runId}x${i}`;
  }

  // --- setup -----------------------------------------------------------------------------------

  /** Workers first (they open their share in parallel with this process), then the rest. */
  async open(): Promise<void> {
    const o = this.o;
    const M = o.clients;
    const shares = o.workers > 0 ? dealOut(this.layout.passive, o.workers) : [];
    const workerReady = shares.map((part) => {
      const worker = new Worker();
      this.workers.push(worker);
      const concurrency = Math.max(1, Math.floor(o.concurrency / o.workers));
      return worker.ask({ type: 'start', target: this.ctx.target, nicks: part.map((i) => this.nick(i)), room: o.room, timeoutMs: o.timeoutMs, concurrency }, 'ready', o.timeoutMs * (part.length + 1) + 5000);
    });
    let joined = 0;
    const opened = await openMany(
      this.layout.local.length,
      o.concurrency,
      (j) => this.openMember(this.layout.local[j]!),
      () => this.ctx.progress.update('join', ++joined / M, `${joined}/${M} members`),
    );
    const ready = await Promise.all(workerReady);
    this.conns = opened.conns;
    this.mine = opened.conns.filter((c): c is BenchConn => c !== null);
    this.failures = Object.fromEntries(opened.errors);
    this.connected = this.mine.length;
    for (const r of ready) {
      this.connected += r.connected;
      for (const [why, n] of Object.entries(r.failures)) this.failures[why] = (this.failures[why] ?? 0) + n;
    }
    this.deliveries = new Deliveries(this.mine, this.workers);
    this.senders = this.conns
      .slice(0, o.senders)
      .filter((c): c is BenchConn => c !== null)
      .map((conn, index) => ({ conn, index, seq: 0, acked: 0, lastAckAt: 0 }));
    if (this.senders.length === 0 || this.connected < 2) throw new Error(`fanout: only ${this.connected} of ${M} members could join (${Object.keys(this.failures)[0] ?? 'no reason'})`);
    if (this.connected < M) this.warnings.push(`${M - this.connected} of ${M} members could not join; expected deliveries use the ${this.connected} that did`);
    if (o.window !== null) this.designateReceiver();
  }

  private async openMember(i: number): Promise<BenchConn> {
    const conn = new BenchConn(this.ctx.target, this.nick(i));
    try {
      await conn.open(this.o.timeoutMs);
      await conn.join(this.o.room, this.o.timeoutMs);
    } catch (err) {
      conn.close();
      throw err;
    }
    if (i < this.o.senders || this.layout.samplerAt.has(i)) conn.onPrivmsg = (_source, text, now) => this.time(text, now);
    else conn.countOnly();
    return conn;
  }

  /** Window mode: the first sampler that joined also acknowledges what it receives. */
  private designateReceiver(): void {
    const j = this.layout.local.findIndex((i, j) => this.layout.samplerAt.has(i) && this.conns[j] !== null);
    if (j === -1) throw new Error('fanout --window: no sampler could join to acknowledge the messages');
    this.conns[j]!.onPrivmsg = (_source, text, now) => {
      this.time(text, now);
      this.acknowledge(text);
    };
  }

  /** Waits for the JOIN storm to settle (no line received for a while), then counts from zero. */
  async settle(): Promise<void> {
    const until = performance.now() + SETTLE_MAX_MS;
    let lastLines = -1;
    while (performance.now() < until) {
      const lines = this.mine.reduce((s, c) => s + c.lines, 0);
      if (lines === lastLines) break;
      lastLines = lines;
      await sleep(SETTLE_QUIET_MS);
    }
    for (const c of this.mine) c.resetCounters();
    await Promise.all(this.workers.map((w) => w.ask({ type: 'reset' }, 'ok', 5000)));
  }

  // --- receiving -------------------------------------------------------------------------------

  private time(text: string, now: bigint): void {
    const mark = readMark(this.ctx.runId, text);
    if (mark === null || this.measureStartNs === null || mark.sentNs < this.measureStartNs) return;
    this.latency.add(Number(mark.sentNs - this.measureStartNs) / 1e6, Number(now - mark.sentNs) / 1e6);
  }

  private acknowledge(text: string): void {
    const mark = readMark(this.ctx.runId, text);
    const sender = mark === null ? undefined : this.senders[mark.sender];
    if (!mark || !sender) return;
    if (mark.seq + 1 > sender.acked) {
      sender.acked = mark.seq + 1;
      sender.lastAckAt = performance.now();
    }
    this.pump(sender);
  }

  // --- sending ---------------------------------------------------------------------------------

  /** Sends n messages from one sender in one write. */
  private send(sender: Sender, n: number): void {
    const lines: string[] = [];
    for (let m = 0; m < n; m++) {
      const ns = process.hrtime.bigint();
      lines.push(`PRIVMSG ${this.o.room} :${markText(this.ctx.runId, sender.index, sender.seq++, ns)}`);
      this.sent++;
      if (this.measureStartNs !== null) {
        this.measuredSent++;
        this.series.add('sent', Number(ns - this.measureStartNs) / 1e6);
      }
    }
    sender.conn.sendLines(lines);
  }

  /** The backlog guard (see the top of the file). */
  private held(sender: Sender): boolean {
    if (sender.conn.closed || sender.conn.pendingBytes > MAX_PENDING_BYTES) return true;
    const recipients = this.connected - 1;
    const behind = this.sent * recipients - this.deliveredSoFar > MAX_BACKLOG * recipients;
    if (behind && !this.guardOn) this.backlogPauses++;
    this.guardOn = behind;
    return behind;
  }

  /** Window mode: tops the sender up to W unacknowledged messages. */
  private pump(sender: Sender): void {
    if (!this.running) return;
    const room = this.o.window! - (sender.seq - sender.acked);
    if (room > 0 && !this.held(sender)) this.send(sender, room);
  }

  /**
   * Window mode: a window with no acknowledgement for --timeout is given up (its messages were
   * lost, or the receiver is stuck), so one lost message cannot stop a sender for the whole run.
   */
  private unstall(now: number): void {
    for (const s of this.senders) {
      if (s.seq - s.acked >= this.o.window! && now - s.lastAckAt > this.o.timeoutMs) {
        this.stalls++;
        s.acked = s.seq;
        s.lastAckAt = now;
      }
    }
  }

  /** Rate mode: message k is due at k / rate seconds, from sender k mod S. */
  private sendDue(elapsedMs: number, maxMessages: number): void {
    const due = Math.min(maxMessages, Math.floor((elapsedMs / 1000) * this.o.rate));
    while (this.scheduled < due) {
      const sender = this.senders[this.scheduled % this.senders.length]!;
      this.scheduled++;
      if (this.held(sender)) this.heldBack++;
      else this.send(sender, 1);
    }
  }

  // --- load ------------------------------------------------------------------------------------

  /** Warm-up, then the measured seconds. Returns what was measured in that window. */
  async load(): Promise<{ seconds: number; cpuShare: number; delivered: number }> {
    const o = this.o;
    const cpu = new SelfCpu();
    const loadStart = performance.now();
    const measureFrom = loadStart + o.warmup * 1000;
    const loadEnd = measureFrom + o.duration * 1000;
    const maxMessages = o.window === null ? Math.ceil(o.rate * (o.warmup + o.duration)) : Infinity;
    /** When the measurement really started (the loop may be late for measureFrom). */
    let measuredFrom = Infinity;
    let lastPoll = 0;
    this.running = true;
    for (const s of this.senders) s.lastAckAt = loadStart;
    while (performance.now() < loadEnd && this.scheduled < maxMessages) {
      const now = performance.now();
      if (this.measureStartNs === null && now >= measureFrom) {
        this.measureStartNs = process.hrtime.bigint();
        this.ctx.measuring(this.measureStartNs, o.duration);
        cpu.reset();
        measuredFrom = now;
      }
      if (now - lastPoll >= POLL_MS) {
        this.deliveries.poll();
        lastPoll = now;
      }
      this.deliveredSoFar = this.deliveries.known().privmsgs;
      if (o.window === null) this.sendDue(now - loadStart, maxMessages);
      else {
        this.unstall(now);
        for (const s of this.senders) this.pump(s);
      }
      this.ctx.progress.update('fanout', (now - loadStart) / (loadEnd - loadStart), () => `${this.sent} sent, p99 ${summarize(this.latency.recent(2000)).p99?.toFixed(2) ?? '-'} ms`);
      await sleep(TICK_MS);
    }
    this.running = false;
    const measuredTo = Math.min(performance.now(), loadEnd);
    const seconds = Math.max(0.001, (measuredTo - measuredFrom) / 1000);
    const cpuShare = cpu.share();
    await this.deliveries.now();
    // Deliveries per second by when each count was read, from the measurement's start.
    const { readings } = this.deliveries;
    if (this.measureStartNs === null) return { seconds, cpuShare, delivered: 0 };
    readings.perSecond(measuredFrom, measuredTo).forEach((n, t) => this.series.add('delivered', t * 1000, n));
    return { seconds, cpuShare, delivered: Math.round(readings.between(measuredFrom, measuredTo)) };
  }

  /** Until everything expected arrived, or nothing moved for 2 s (at most 10 s). */
  async drain(expected: number): Promise<void> {
    const drainEnd = performance.now() + DRAIN_MAX_MS;
    let last = await this.deliveries.now();
    let lastMove = performance.now();
    while (last.privmsgs < expected && performance.now() < drainEnd && performance.now() - lastMove < DRAIN_QUIET_MS) {
      this.ctx.progress.update('drain', last.privmsgs / Math.max(1, expected), `${last.privmsgs}/${expected} delivered`);
      await sleep(100);
      const now = await this.deliveries.now();
      if (now.privmsgs !== last.privmsgs) lastMove = performance.now();
      last = now;
    }
    this.ctx.progress.done();
  }

  // --- result ----------------------------------------------------------------------------------

  async finish(window: { seconds: number; cpuShare: number; delivered: number }, expected: number): Promise<ScenarioResult> {
    const o = this.o;
    const M = o.clients;
    const finals = await Promise.all(this.workers.map((w) => w.ask({ type: 'stop' }, 'final', 5000).catch(() => null)));
    const reasons = this.mine.filter((c) => c.dropped).map((c) => c.error ?? 'closed');
    let total = this.mine.reduce((s, c) => s + c.privmsgs, 0);
    const workerCpu: { cpuShare: number }[] = [];
    for (const f of finals) {
      if (f === null) {
        this.warnings.push('a worker did not report its final counts');
        continue;
      }
      total += f.privmsgs;
      reasons.push(...f.reasons);
      workerCpu.push({ cpuShare: f.cpuShare });
    }
    const lost = Math.max(0, expected - total);
    this.latency.addTo(this.series);
    const latency = summarize(this.latency.values());
    const saturated = window.cpuShare > SATURATED || workerCpu.some((w) => w.cpuShare > SATURATED);
    const sentPerSecond = this.measuredSent / window.seconds;
    this.warn(total, expected);
    this.warnIfPaced(sentPerSecond, latency.p50);
    return {
      scenario: 'fanout',
      seconds: window.seconds,
      figures: [
        ['members joined', `${this.connected}/${M}`],
        ['senders', this.senders.length],
        ['samplers', this.layout.samplerAt.size + this.senders.length],
        ['load', o.window === null ? `rate ${o.rate}/s` : `window ${o.window}`],
        ['sent msg/s', sentPerSecond.toFixed(1)],
        ['deliveries/s', (window.delivered / window.seconds).toFixed(0)],
        ['ideal deliveries/s', (sentPerSecond * (this.connected - 1)).toFixed(0)],
        ...latencyRows(latency),
        ['sent (whole run)', this.sent],
        ['expected deliveries', expected],
        ['received', total],
        ['lost', lost],
        ['disconnects', reasons.length],
      ],
      clients: { requested: M, connected: this.connected, failed: M - this.connected, failures: this.failures, disconnects: reasons.length, disconnectReasons: countReasons(reasons) },
      latencyOf: o.window === null ? 'PRIVMSG send to receipt at a sampler (end to end)' : 'PRIVMSG send to receipt at a sampler (end to end; window mode: mostly queueing at saturation)',
      latencyMs: latency,
      histogram: histogram(this.latency.values()),
      series: this.series.rows(Math.ceil(o.duration)),
      throughputOf: 'delivered',
      messages: { sent: this.sent, expected, received: total, lost },
      generator: { cpuShare: window.cpuShare, saturated, workers: workerCpu },
      warnings: this.warnings,
    };
  }

  private warn(total: number, expected: number): void {
    const w = this.warnings;
    const guard = `the server not reading a sender's socket (${MAX_PENDING_BYTES / 1024} KiB unsent), or the members more than ${MAX_BACKLOG} messages behind on average`;
    if (this.heldBack > 0) w.push(`${this.heldBack} scheduled messages were not sent because of the backlog guard: ${guard}`);
    if (this.o.window !== null && this.backlogPauses > 0) w.push(`the senders were held back ${this.backlogPauses} times by the backlog guard: ${guard}`);
    if (this.stalls > 0) w.push(`${this.stalls} times a sender's window got no acknowledgement in ${this.o.timeoutMs / 1000} s and was given up (messages lost?)`);
    if (this.latency.overflow > 0) w.push(`${this.latency.overflow} latency samples were not kept (over ${MAX_LATENCY_SAMPLES}): percentiles cover the earlier ones`);
    if (total > expected) w.push(`${total - expected} more PRIVMSGs arrived than expected (duplicates or foreign traffic in ${this.o.room})`);
  }

  /**
   * Senders that each get only a few lines a second through while messages wait for seconds
   * are being paced by the server's flood control (fakelag), not measured: say so, since the
   * figures then describe the limit, not the server (a new user's first run against a default
   * server looks exactly like this).
   */
  private warnIfPaced(sentPerSecond: number, p50: number | null): void {
    const perSender = sentPerSecond / Math.max(1, this.senders.length);
    if (perSender > PACED_LINES_PER_SECOND || p50 === null || p50 < PACED_P50_MS) return;
    this.warnings.push(
      `each sender got only ${perSender.toFixed(1)} messages/s through, with a median latency of ${Math.round(p50)} ms: ` +
        `the server's flood control is probably pacing the senders (Parley: limits.commands_per_second, 4 by default); ` +
        `exempt the bench's address (for Parley: PARLEY_LIMITS__EXEMPT_ADDRESSES=127.0.0.1) or use more senders`,
    );
  }

  close(): void {
    this.running = false;
    for (const c of this.mine) c.close();
    for (const w of this.workers) w.kill();
  }
}

export const fmt = (v: number | null) => (v === null ? null : v.toFixed(2));

/** The latency lines every message scenario's table shows. */
export function latencyRows(latency: { p50: number | null; p90: number | null; p99: number | null; max: number | null }): [string, string | null][] {
  return [
    ['latency p50 ms', fmt(latency.p50)],
    ['latency p90 ms', fmt(latency.p90)],
    ['latency p99 ms', fmt(latency.p99)],
    ['latency max ms', fmt(latency.max)],
  ];
}
