// rooms: U users in rooms of K, every user sends `rate` messages/s to its room on a steady
// schedule (each user with its own phase). Every member parses and times what it receives.
import { BenchConn, openMany } from './conn.js';
import { SATURATED, SelfCpu } from './proc.js';
import type { BenchResult, Context } from './result.js';
import { countReasons, sleep } from './result.js';
import { histogram, summarize, TimeSeries } from './stats.js';
import { latencyRows } from './scenario-fanout.js';

const TICK_MS = 10;

export async function roomsScenario(ctx: Context): Promise<Omit<BenchResult, 'server' | 'target' | 'startedAt'>> {
  const o = ctx.options;
  const U = o.clients;
  const K = o.roomSize;
  const roomOf = (i: number) => `${o.room}-${Math.floor(i / K)}`;
  const warnings: string[] = [];
  let measuring = false;
  let measureStartNs = 0n;
  const latencies: number[] = [];
  const series = new TimeSeries(0);
  const onPrivmsg = (_source: string, text: string, now: bigint) => {
    const parts = text.split(' ');
    if (!measuring || parts[0] !== 'pb' || parts[1] !== ctx.runId) return;
    const sentNs = BigInt(parts[4] ?? '0');
    if (sentNs < measureStartNs) return;
    const ms = Number(now - sentNs) / 1e6;
    latencies.push(ms);
    series.addLatency(Number(sentNs - measureStartNs) / 1e6, ms);
  };
  let joined = 0;
  const opened = await openMany(
    U,
    o.concurrency,
    async (i) => {
      const conn = new BenchConn(ctx.target, `pb${ctx.runId}x${i}`);
      try {
        await conn.open(o.timeoutMs);
        await conn.join(roomOf(i), o.timeoutMs);
      } catch (err) {
        conn.close();
        throw err;
      }
      conn.onPrivmsg = onPrivmsg;
      return conn;
    },
    () => ctx.progress.update('join', ++joined / U, `${joined}/${U} users`),
  );
  const conns = opened.conns;
  const live = conns.filter((c): c is BenchConn => c !== null);
  if (live.length < 2) {
    for (const c of live) c.close();
    throw new Error(`rooms: only ${live.length} of ${U} users could connect (${[...opened.errors.keys()][0] ?? 'no reason'})`);
  }
  if (live.length < U) warnings.push(`${U - live.length} of ${U} users could not join`);
  // Members per room that actually joined: a message to room r should reach size(r) - 1.
  const roomSize = new Map<string, number>();
  conns.forEach((c, i) => c && roomSize.set(roomOf(i), (roomSize.get(roomOf(i)) ?? 0) + 1));
  await sleep(300);
  for (const c of live) c.resetCounters();

  const cpu = new SelfCpu();
  const loadStart = performance.now();
  const measureFrom = loadStart + o.warmup * 1000;
  const loadEnd = measureFrom + o.duration * 1000;
  const phase = conns.map((_, i) => (i * 0.618034) % 1);
  const sentBy = new Array<number>(U).fill(0);
  const maxPerUser = Math.ceil(o.rate * (o.warmup + o.duration)) + 1;
  let sent = 0;
  let measuredSent = 0;
  let expected = 0;
  let seq = 0;
  let nextSecond = 0;
  let lastReceived = 0;
  let receivedAtStart = 0;
  const received = () => live.reduce((s, c) => s + c.privmsgs, 0);
  while (performance.now() < loadEnd) {
    const now = performance.now();
    if (!measuring && now >= measureFrom) {
      measuring = true;
      measureStartNs = process.hrtime.bigint();
      cpu.reset();
      receivedAtStart = lastReceived = received();
      nextSecond = now + 1000;
    }
    const elapsedS = (now - loadStart) / 1000;
    for (let i = 0; i < U; i++) {
      const conn = conns[i];
      if (!conn || conn.closed) continue;
      const due = Math.min(maxPerUser, Math.floor(elapsedS * o.rate + phase[i]!));
      while (sentBy[i]! < due) {
        sentBy[i]!++;
        const ns = process.hrtime.bigint();
        conn.send(`PRIVMSG ${roomOf(i)} :pb ${ctx.runId} ${i} ${seq++} ${ns}`);
        sent++;
        expected += roomSize.get(roomOf(i))! - 1;
        if (measuring) {
          measuredSent++;
          series.add('sent', Number(ns - measureStartNs) / 1e6);
        }
      }
    }
    if (measuring && now >= nextSecond) {
      const r = received();
      series.add('delivered', nextSecond - 1000 - measureFrom, r - lastReceived);
      lastReceived = r;
      nextSecond += 1000;
    }
    ctx.progress.update('rooms', (now - loadStart) / (loadEnd - loadStart), () => `${sent} sent, p99 ${summarize(latencies.slice(-2000)).p99?.toFixed(2) ?? '-'} ms`);
    await sleep(TICK_MS);
  }
  const measuredSeconds = Math.max(0.001, (Math.min(performance.now(), loadEnd) - measureFrom) / 1000);
  const cpuShare = cpu.share();
  const atEnd = received();
  const deliveredInWindow = atEnd - receivedAtStart;
  // The last, partial second.
  if (measuring && atEnd > lastReceived) series.add('delivered', nextSecond - 1000 - measureFrom, atEnd - lastReceived);
  const drainEnd = performance.now() + 10_000;
  let last = received();
  let lastMove = performance.now();
  while (last < expected && performance.now() < drainEnd && performance.now() - lastMove < 2000) {
    await sleep(100);
    const r = received();
    if (r !== last) lastMove = performance.now();
    last = r;
  }
  ctx.progress.done();
  const total = received();
  const dropped = live.filter((c) => c.dropped);
  for (const c of live) c.close();
  const latency = summarize(latencies);
  const lost = Math.max(0, expected - total);
  return {
    scenario: 'rooms',
    seconds: measuredSeconds,
    figures: [
      ['users joined', `${live.length}/${U}`],
      ['rooms', roomSize.size],
      ['rate per user msg/s', o.rate],
      ['sent msg/s', (measuredSent / measuredSeconds).toFixed(1)],
      ['deliveries/s', (deliveredInWindow / measuredSeconds).toFixed(0)],
      ...latencyRows(latency),
      ['sent (whole run)', sent],
      ['expected deliveries', expected],
      ['received', total],
      ['lost', lost],
      ['disconnects', dropped.length],
    ],
    clients: { requested: U, connected: live.length, failed: U - live.length, failures: Object.fromEntries(opened.errors), disconnects: dropped.length, disconnectReasons: countReasons(dropped.map((c) => c.error ?? 'closed')) },
    latencyOf: 'PRIVMSG send to receipt, every member',
    latencyMs: latency,
    histogram: histogram(latencies),
    series: series.rows(Math.ceil(o.duration)),
    throughputOf: 'delivered',
    messages: { sent, expected, received: total, lost },
    generator: { cpuShare, saturated: cpuShare > SATURATED, workers: [] },
    warnings,
  };
}
