// connect: N clients connect, register and join one room, `concurrency` at a time.
import { BenchConn, openMany } from './conn.js';
import type { BenchResult, Context } from './result.js';
import { countReasons, sleep } from './result.js';
import { SelfCpu } from './proc.js';
import { histogram, summarize, TimeSeries } from './stats.js';

export async function connectScenario(ctx: Context): Promise<Omit<BenchResult, 'server' | 'target' | 'startedAt'>> {
  const o = ctx.options;
  const cpu = new SelfCpu();
  const started = performance.now();
  const deadline = started + o.duration * 1000;
  const series = new TimeSeries(started);
  let done = 0;
  let skipped = 0;
  const opened = await openMany(
    o.clients,
    o.concurrency,
    async (i) => {
      if (performance.now() > deadline) {
        skipped++;
        throw new Error('not attempted: --duration ran out');
      }
      const conn = new BenchConn(ctx.target, `pb${ctx.runId}x${i}`);
      const t0 = performance.now();
      try {
        await conn.open(o.timeoutMs);
        await conn.join(o.room, o.timeoutMs);
      } catch (err) {
        conn.close();
        series.add('failed', performance.now());
        throw err;
      }
      const now = performance.now();
      series.add('connected', now);
      series.addLatency(now, now - t0);
      return conn;
    },
    () => {
      done++;
      ctx.progress.update('connect', done / o.clients, `${done}/${o.clients} done`);
    },
  );
  const seconds = (performance.now() - started) / 1000;
  const cpuShare = cpu.share();
  ctx.progress.done();
  // Still there a second later?
  await sleep(1000);
  const conns = opened.conns.filter((c): c is BenchConn => c !== null);
  const dropped = conns.filter((c) => c.dropped);
  for (const c of conns) c.close();
  const failed = o.clients - conns.length;
  const latency = summarize(opened.times);
  return {
    scenario: 'connect',
    seconds,
    figures: [
      ['clients', o.clients],
      ['connected+joined', conns.length],
      ['failed', failed],
      ['not attempted', skipped],
      ['disconnected after', dropped.length],
      ['total s', seconds.toFixed(2)],
      ['connections/s', (conns.length / seconds).toFixed(1)],
    ],
    clients: { requested: o.clients, connected: conns.length, failed, failures: Object.fromEntries(opened.errors), disconnects: dropped.length, disconnectReasons: countReasons(dropped.map((c) => c.error ?? 'closed')) },
    latencyOf: 'connect + register + JOIN, per client',
    latencyMs: latency,
    histogram: histogram(opened.times),
    series: series.rows(Math.ceil(seconds)),
    throughputOf: 'connected',
    messages: null,
    generator: { cpuShare, saturated: false, workers: [] },
    warnings: [],
  };
}
