// history: Q clients join a room that holds --seed messages (sent here first), then each
// loops CHATHISTORY LATEST <room> * <limit>, one query in flight, until --duration is over.
import { BenchConn, openMany } from './conn.js';
import { SATURATED, SelfCpu } from './proc.js';
import type { Context, ScenarioResult } from './result.js';
import { countReasons, sleep } from './result.js';
import { histogram, summarize, TimeSeries } from './stats.js';
import { fmt } from './scenario-fanout.js';

const CAPS = ['batch', 'draft/chathistory'];

/** One CHATHISTORY query: resolves with the number of messages in the batch. */
async function query(conn: BenchConn, room: string, limit: number, timeoutMs: number): Promise<number> {
  const before = conn.privmsgs;
  const state = { failure: null as string | null };
  const end = conn.waitFor(
    (cmd, params, line) => {
      if (cmd === 'FAIL' && params[0] === 'CHATHISTORY') {
        state.failure = line;
        return true;
      }
      return cmd === 'BATCH' && (params[0] ?? '').startsWith('-');
    },
    timeoutMs,
    'CHATHISTORY',
  );
  conn.send(`CHATHISTORY LATEST ${room} * ${limit}`);
  await end;
  if (state.failure !== null) throw new Error(state.failure);
  return conn.privmsgs - before;
}

export async function historyScenario(ctx: Context): Promise<ScenarioResult> {
  const o = ctx.options;
  const warnings: string[] = [];
  const opened = await openMany(o.clients, o.concurrency, async (i) => {
    const conn = new BenchConn(ctx.target, `pb${ctx.runId}x${i}`);
    let acked = true;
    conn.onLine = (cmd, params) => {
      if (cmd === 'CAP' && params[1] === 'NAK') acked = false;
    };
    try {
      await conn.open(o.timeoutMs, CAPS);
      if (!acked) throw new Error(`the server refused the capabilities ${CAPS.join(' ')} (no CHATHISTORY)`);
      await conn.join(o.room, o.timeoutMs);
    } catch (err) {
      conn.close();
      throw err;
    }
    return conn;
  });
  const live = opened.conns.filter((c): c is BenchConn => c !== null);
  if (live.length === 0) throw new Error(`history: no client could connect (${[...opened.errors.keys()][0] ?? 'no reason'})`);
  if (live.length < o.clients) warnings.push(`${o.clients - live.length} of ${o.clients} clients could not connect`);
  // Seed, in bursts of 50, then wait until a query sees them (at most 10 s).
  const seeder = live[0]!;
  for (let n = 0; n < o.seed; n++) {
    seeder.send(`PRIVMSG ${o.room} :pb ${ctx.runId} seed ${n}`);
    if (n % 50 === 49) await sleep(20);
    ctx.progress.update('seed', (n + 1) / o.seed, `${n + 1}/${o.seed} messages`);
  }
  const want = Math.min(o.seed, o.limit);
  const seedUntil = performance.now() + 10_000;
  let seen = 0;
  while (performance.now() < seedUntil) {
    seen = await query(live[live.length - 1]!, o.room, o.limit, o.timeoutMs);
    if (seen >= want) break;
    await sleep(100);
  }
  if (seen < want) warnings.push(`after seeding ${o.seed} messages a query returned only ${seen}`);

  const series = new TimeSeries(0);
  const latencies: number[] = [];
  const failures: string[] = [];
  let queries = 0;
  let messages = 0;
  const cpu = new SelfCpu();
  const start = performance.now();
  ctx.measuring(process.hrtime.bigint(), o.duration);
  const end = start + o.duration * 1000;
  const progress = setInterval(() => ctx.progress.update('history', (performance.now() - start) / (end - start), `${queries} queries`), 200);
  await Promise.all(
    live.map(async (conn) => {
      while (performance.now() < end && !conn.closed) {
        const t0 = performance.now();
        try {
          const n = await query(conn, o.room, o.limit, o.timeoutMs);
          const t1 = performance.now();
          queries++;
          messages += n;
          latencies.push(t1 - t0);
          series.addLatency(t0 - start, t1 - t0);
          series.add('queries', t1 - start);
          series.add('messages', t1 - start, n);
        } catch (err) {
          failures.push(err instanceof Error ? err.message.slice(0, 120) : String(err));
          if (failures.length > 1000) return;
          await sleep(50);
        }
      }
    }),
  );
  clearInterval(progress);
  const seconds = (performance.now() - start) / 1000;
  const cpuShare = cpu.share();
  ctx.progress.done();
  const dropped = live.filter((c) => c.dropped);
  for (const c of live) c.close();
  const latency = summarize(latencies);
  return {
    scenario: 'history',
    seconds,
    figures: [
      ['clients', `${live.length}/${o.clients}`],
      ['seeded messages', o.seed],
      ['limit', o.limit],
      ['queries', queries],
      ['queries/s', (queries / seconds).toFixed(1)],
      ['messages/query', queries ? (messages / queries).toFixed(1) : null],
      ['messages/s', (messages / seconds).toFixed(0)],
      ['latency p50 ms', fmt(latency.p50)],
      ['latency p90 ms', fmt(latency.p90)],
      ['latency p99 ms', fmt(latency.p99)],
      ['latency max ms', fmt(latency.max)],
      ['errors', failures.length],
      ['disconnects', dropped.length],
    ],
    clients: { requested: o.clients, connected: live.length, failed: o.clients - live.length, failures: { ...Object.fromEntries(opened.errors), ...countReasons(failures) }, disconnects: dropped.length, disconnectReasons: countReasons(dropped.map((c) => c.error ?? 'closed')) },
    latencyOf: 'CHATHISTORY request to end of its batch',
    latencyMs: latency,
    histogram: histogram(latencies),
    series: series.rows(Math.ceil(o.duration)),
    throughputOf: 'queries',
    messages: null,
    generator: { cpuShare, saturated: cpuShare > SATURATED, workers: [] },
    warnings,
  };
}
