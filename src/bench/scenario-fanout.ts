// fanout: M members in one room, S of them send `rate` messages/s in total (round-robin, on a
// fixed schedule). Samplers parse every line and time each message from the send timestamp it
// carries (process.hrtime.bigint(): one monotonic clock for the whole machine); everyone else
// only counts. Expected deliveries: sent x (joined members - 1), no echo-message.
import { BenchConn, openMany } from './conn.js';
import { SATURATED, SelfCpu } from './proc.js';
import type { BenchResult, Context } from './result.js';
import { countReasons, sleep } from './result.js';
import { histogram, summarize, TimeSeries } from './stats.js';
import { Worker } from './workers.js';

const TICK_MS = 5;
const DRAIN_QUIET_MS = 2000;
const DRAIN_MAX_MS = 10_000;
/** A sender with this much unsent output skips its turn (counted as "held back"). */
const MAX_PENDING_BYTES = 256 * 1024;

export async function fanoutScenario(ctx: Context): Promise<Omit<BenchResult, 'server' | 'target' | 'startedAt'>> {
  const o = ctx.options;
  const M = o.clients;
  const S = o.senders;
  const warnings: string[] = [];
  // Roles by index (= join order within the coordinator): senders first, then samplers spread
  // evenly over the rest, the others passive (in the workers when there are any).
  const rest = M - S;
  const k = Math.min(o.samplers, rest);
  const samplerAt = new Set<number>();
  for (let j = 0; j < k; j++) samplerAt.add(S + (k === 1 ? rest - 1 : Math.round((j * (rest - 1)) / (k - 1))));
  const local: number[] = [];
  const passive: number[] = [];
  for (let i = 0; i < M; i++) (i < S || samplerAt.has(i) || o.workers === 0 ? local : passive).push(i);

  const nick = (i: number) => `pb${ctx.runId}x${i}`;
  let measuring = false;
  let measureStartNs = 0n;
  const latencies: number[] = [];
  const series = new TimeSeries(0);
  const onPrivmsg = (_source: string, text: string, now: bigint) => {
    if (!measuring) return;
    const parts = text.split(' ');
    if (parts[0] !== 'pb' || parts[1] !== ctx.runId) return;
    const sentNs = BigInt(parts[4] ?? '0');
    if (sentNs < measureStartNs) return;
    const ms = Number(now - sentNs) / 1e6;
    latencies.push(ms);
    series.addLatency(Number(sentNs - measureStartNs) / 1e6, ms);
  };

  // Workers first (they open their share in parallel with the coordinator).
  const workers: Worker[] = [];
  const workerReady: Promise<{ connected: number; failures: Record<string, number> }>[] = [];
  for (let w = 0; w < o.workers; w++) {
    const nicks = passive.filter((_, j) => j % o.workers === w).map(nick);
    const worker = new Worker();
    workers.push(worker);
    workerReady.push(worker.ask({ type: 'start', target: ctx.target, nicks, room: o.room, timeoutMs: o.timeoutMs, concurrency: Math.max(1, Math.floor(o.concurrency / o.workers)) }, 'ready', o.timeoutMs * (nicks.length + 1) + 5000));
  }
  let joined = 0;
  try {
    const opened = await openMany(
      local.length,
      o.concurrency,
      async (j) => {
        const i = local[j]!;
        const conn = new BenchConn(ctx.target, nick(i));
        try {
          await conn.open(o.timeoutMs);
          await conn.join(o.room, o.timeoutMs);
        } catch (err) {
          conn.close();
          throw err;
        }
        if (i < S || samplerAt.has(i)) conn.onPrivmsg = onPrivmsg;
        else conn.countOnly();
        return conn;
      },
      () => ctx.progress.update('join', ++joined / M, `${joined}/${M} members`),
    );
    const ready = await Promise.all(workerReady);
    const conns = opened.conns;
    const failures: Record<string, number> = Object.fromEntries(opened.errors);
    let connected = conns.filter((c) => c !== null).length;
    for (const r of ready) {
      connected += r.connected;
      for (const [why, n] of Object.entries(r.failures)) failures[why] = (failures[why] ?? 0) + n;
    }
    const senders = conns.slice(0, S).filter((c): c is BenchConn => c !== null);
    const mine = conns.filter((c): c is BenchConn => c !== null);
    if (senders.length === 0 || connected < 2) throw new Error(`fanout: only ${connected} of ${M} members could join (${Object.keys(failures)[0] ?? 'no reason'})`);
    if (connected < M) warnings.push(`${M - connected} of ${M} members could not join; expected deliveries use the ${connected} that did`);

    // Wait for the JOIN storm to settle: no line received for 300 ms (at most 10 s).
    const settleUntil = performance.now() + 10_000;
    let lastLines = -1;
    while (performance.now() < settleUntil) {
      const lines = mine.reduce((s, c) => s + c.lines, 0);
      if (lines === lastLines) break;
      lastLines = lines;
      await sleep(300);
    }
    for (const c of mine) c.resetCounters();
    await Promise.all(workers.map((w) => w.ask({ type: 'reset' }, 'ok', 5000)));

    // Load: warm-up, then measured seconds.
    const received = async (): Promise<{ privmsgs: number; dropped: number }> => {
      let privmsgs = mine.reduce((s, c) => s + c.privmsgs, 0);
      let dropped = mine.filter((c) => c.dropped).length;
      const counts = await Promise.all(workers.map((w) => w.ask({ type: 'count' }, 'count', 2000).catch(() => ({ privmsgs: 0, dropped: 0 }))));
      for (const c of counts) {
        privmsgs += c.privmsgs;
        dropped += c.dropped;
      }
      return { privmsgs, dropped };
    };
    const cpu = new SelfCpu();
    const loadStart = performance.now();
    const measureFrom = loadStart + o.warmup * 1000;
    const loadEnd = measureFrom + o.duration * 1000;
    const maxMessages = Math.ceil(o.rate * (o.warmup + o.duration));
    let sent = 0;
    let scheduled = 0;
    let heldBack = 0;
    let measuredSent = 0;
    let seq = 0;
    let nextSecond = measureFrom + 1000;
    let lastReceived = 0;
    let receivedAtMeasureStart = 0;
    while (performance.now() < loadEnd && scheduled < maxMessages) {
      const now = performance.now();
      if (!measuring && now >= measureFrom) {
        measuring = true;
        measureStartNs = process.hrtime.bigint();
        cpu.reset();
        receivedAtMeasureStart = lastReceived = (await received()).privmsgs;
        nextSecond = performance.now() + 1000;
      }
      const due = Math.min(maxMessages, Math.floor(((now - loadStart) / 1000) * o.rate));
      while (scheduled < due) {
        const sender = senders[scheduled % senders.length]!;
        scheduled++;
        if (sender.closed || sender.pendingBytes > MAX_PENDING_BYTES) {
          heldBack++;
          continue;
        }
        const ns = process.hrtime.bigint();
        sender.send(`PRIVMSG ${o.room} :pb ${ctx.runId} ${scheduled % senders.length} ${seq++} ${ns}`);
        sent++;
        if (measuring) {
          measuredSent++;
          series.add('sent', Number(ns - measureStartNs) / 1e6);
        }
      }
      if (measuring && now >= nextSecond) {
        const r = (await received()).privmsgs;
        series.add('delivered', nextSecond - 1000 - (measureFrom), r - lastReceived);
        lastReceived = r;
        nextSecond += 1000;
      }
      const elapsed = performance.now() - loadStart;
      ctx.progress.update('fanout', elapsed / (o.warmup * 1000 + o.duration * 1000), () => `${sent} sent, p99 ${summarize(latencies.slice(-2000)).p99?.toFixed(2) ?? '-'} ms`);
      await sleep(TICK_MS);
    }
    const measuredSeconds = Math.max(0.001, (Math.min(performance.now(), loadEnd) - measureFrom) / 1000);
    const cpuShare = cpu.share();
    const atEnd = (await received()).privmsgs;
    const deliveredInWindow = atEnd - receivedAtMeasureStart;
    // The last, partial second.
    if (measuring && atEnd > lastReceived) series.add('delivered', nextSecond - 1000 - measureFrom, atEnd - lastReceived);
    measuring = true; // keep timing the drained messages that were sent in the window

    // Drain: until everything expected arrived, or nothing moved for 2 s (at most 10 s).
    const expected = sent * (connected - 1);
    const drainEnd = performance.now() + DRAIN_MAX_MS;
    let last = await received();
    let lastMove = performance.now();
    while (last.privmsgs < expected && performance.now() < drainEnd && performance.now() - lastMove < DRAIN_QUIET_MS) {
      ctx.progress.update('drain', last.privmsgs / Math.max(1, expected), `${last.privmsgs}/${expected} delivered`);
      await sleep(100);
      const now = await received();
      if (now.privmsgs !== last.privmsgs) lastMove = performance.now();
      last = now;
    }
    ctx.progress.done();
    const finals = await Promise.all(workers.map((w) => w.ask({ type: 'stop' }, 'final', 5000).catch(() => null)));
    const droppedConns = mine.filter((c) => c.dropped);
    const reasons = droppedConns.map((c) => c.error ?? 'closed');
    let total = mine.reduce((s, c) => s + c.privmsgs, 0);
    const workerCpu: { cpuShare: number }[] = [];
    for (const f of finals) {
      if (f === null) {
        warnings.push('a worker did not report its final counts');
        continue;
      }
      total += f.privmsgs;
      reasons.push(...f.reasons);
      workerCpu.push({ cpuShare: f.cpuShare });
    }
    for (const c of mine) c.close();
    const lost = Math.max(0, expected - total);
    const latency = summarize(latencies);
    const saturated = cpuShare > SATURATED || workerCpu.some((w) => w.cpuShare > SATURATED);
    if (heldBack > 0) warnings.push(`${heldBack} scheduled messages were not sent: the sender's socket had more than ${MAX_PENDING_BYTES / 1024} KiB unsent (server not reading fast enough)`);
    if (total > expected) warnings.push(`${total - expected} more PRIVMSGs arrived than expected (duplicates or foreign traffic in ${o.room})`);
    return {
      scenario: 'fanout',
      seconds: measuredSeconds,
      figures: [
        ['members joined', `${connected}/${M}`],
        ['senders', senders.length],
        ['samplers', k + senders.length],
        ['target rate msg/s', o.rate],
        ['sent msg/s', (measuredSent / measuredSeconds).toFixed(1)],
        ['deliveries/s', (deliveredInWindow / measuredSeconds).toFixed(0)],
        ['ideal deliveries/s', ((measuredSent / measuredSeconds) * (connected - 1)).toFixed(0)],
        ...latencyRows(latency),
        ['sent (whole run)', sent],
        ['expected deliveries', expected],
        ['received', total],
        ['lost', lost],
        ['disconnects', droppedConns.length + finals.reduce((s, f) => s + (f?.dropped ?? 0), 0)],
      ],
      clients: { requested: M, connected, failed: M - connected, failures, disconnects: reasons.length, disconnectReasons: countReasons(reasons) },
      latencyOf: 'PRIVMSG send to receipt at a sampler (end to end)',
      latencyMs: latency,
      histogram: histogram(latencies),
      series: series.rows(Math.ceil(o.duration)),
      throughputOf: 'delivered',
      messages: { sent, expected, received: total, lost },
      generator: { cpuShare, saturated, workers: workerCpu },
      warnings,
    };
  } finally {
    for (const w of workers) w.kill();
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
