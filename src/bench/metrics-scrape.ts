// `parley bench --metrics URL[,URL...]`: reads each server's /metrics once a second during the
// run, so the report shows what the servers counted (messages in, deliveries, SendQ drops,
// event-loop delay, memory, bus lag) beside what the generator measured, on the same time axis.
import { CumulativeCounter } from './cumulative.js';
import { parsePromText, sumOf, type PromSample } from './prom-text.js';

/** A page bigger than this is not a Parley /metrics page (ours is ~15 KiB): it is refused. */
const MAX_TEXT_BYTES = 4 * 1024 * 1024;
const SCRAPE_TIMEOUT_MS = 2000;

interface Reading {
  key: string;
  metric: string;
  /** counter: shown per second (and as a total over the measurement); gauge: as read. */
  kind: 'counter' | 'gauge';
  /** Applied to what is read (seconds to ms, bytes to MiB). */
  scale?: number;
}

/** What is read from every page. Sums over label sets (transports, commands). */
export const READINGS: readonly Reading[] = [
  { key: 'messagesIn', metric: 'parley_messages_in_total', kind: 'counter' },
  { key: 'messagesOut', metric: 'parley_messages_out_total', kind: 'counter' },
  { key: 'deliveries', metric: 'parley_deliveries_total', kind: 'counter' },
  { key: 'bytesOut', metric: 'parley_bytes_out_total', kind: 'counter' },
  { key: 'sendqDrops', metric: 'parley_sendq_drops_total', kind: 'counter' },
  { key: 'floodDisconnects', metric: 'parley_flood_disconnects_total', kind: 'counter' },
  { key: 'commandErrors', metric: 'parley_command_errors_total', kind: 'counter' },
  { key: 'loginFailures', metric: 'parley_login_failures_total', kind: 'counter' },
  { key: 'commits', metric: 'parley_history_commit_seconds_count', kind: 'counter' },
  { key: 'commitMs', metric: 'parley_history_commit_seconds_sum', kind: 'counter', scale: 1000 },
  { key: 'cpuSeconds', metric: 'parley_process_cpu_seconds_total', kind: 'counter' },
  { key: 'connections', metric: 'parley_connections', kind: 'gauge' },
  { key: 'registeredUsers', metric: 'parley_registered_users', kind: 'gauge' },
  // prom-client resets its event-loop histogram at each scrape: this is the p99 since the last.
  { key: 'eventLoopP99Ms', metric: 'parley_nodejs_eventloop_lag_p99_seconds', kind: 'gauge', scale: 1000 },
  { key: 'heapUsedMiB', metric: 'parley_nodejs_heap_size_used_bytes', kind: 'gauge', scale: 1 / 2 ** 20 },
  { key: 'rssMiB', metric: 'parley_process_resident_memory_bytes', kind: 'gauge', scale: 1 / 2 ** 20 },
  { key: 'busLagMax', metric: 'parley_cluster_bus_lag_max', kind: 'gauge' },
];

/** One second of one server: counters as amounts in that second, gauges as last read in it. */
export interface MetricsRow {
  t: number;
  [key: string]: number | null;
}

export interface ServerMetricsReport {
  url: string;
  /** parley_info's node label (server.name), or the URL's host:port. */
  node: string;
  /** Pages read during the whole run. */
  scrapes: number;
  /** Counters over the measurement; gauges: their highest reading in it. */
  totals: Record<string, number | null>;
  series: MetricsRow[];
  /** Why reading failed (the first reason; the run goes on without the failed readings). */
  error: string | null;
}

/** Reads one page; throws with a reason a person can act on. */
export async function scrapeOnce(url: string): Promise<PromSample[]> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS), redirect: 'error' });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    throw new Error(`${url}: ${cause ?? (err instanceof Error ? err.message : String(err))}`);
  }
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > MAX_TEXT_BYTES) throw new Error(`${url}: page of ${declared} bytes is not a /metrics page`);
  const text = await readBounded(response, url);
  const samples = parsePromText(text);
  if (!samples.some((s) => s.name.startsWith('parley_'))) throw new Error(`${url}: no parley_ metrics on the page (is it a Parley server's /metrics?)`);
  return samples;
}

async function readBounded(response: Response, url: string): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > MAX_TEXT_BYTES) throw new Error(`${url}: page past ${MAX_TEXT_BYTES} bytes is not a /metrics page`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

interface Timed {
  atMs: number;
  values: Record<string, number | null>;
}

/** Scrapes one server; readings are timed at the middle of each request (performance.now). */
class ServerScrape {
  readonly readings: Timed[] = [];
  node: string;
  error: string | null = null;
  private current: Promise<void> | null = null;

  constructor(readonly url: string) {
    this.node = new URL(url).host;
  }

  /**
   * Reads the page once. The once-a-second reading is skipped while one is still out (a slow
   * server is asked one thing at a time); a reading at the measurement's start or end
   * (`exact`) waits for it and then goes, so the window's totals have both ends.
   */
  scrape(exact = false): Promise<void> {
    if (this.current) return exact ? this.current.then(() => this.scrape(true)) : this.current;
    this.current = this.read().finally(() => (this.current = null));
    return this.current;
  }

  private async read(): Promise<void> {
    const sentAt = performance.now();
    try {
      const samples = await scrapeOnce(this.url);
      const values: Record<string, number | null> = {};
      for (const r of READINGS) {
        const v = sumOf(samples, r.metric);
        values[r.key] = v === null ? null : v * (r.scale ?? 1);
      }
      this.readings.push({ atMs: (sentAt + performance.now()) / 2, values });
      this.node = samples.find((s) => s.name === 'parley_info')?.labels.node ?? this.node;
    } catch (err) {
      this.error ??= err instanceof Error ? err.message : String(err);
    }
  }

  report(startMs: number, endMs: number): ServerMetricsReport {
    const seconds = Math.max(1, Math.ceil((endMs - startMs - 50) / 1000));
    const series: MetricsRow[] = Array.from({ length: seconds }, (_, t) => ({ t }));
    const totals: Record<string, number | null> = {};
    for (const r of READINGS) {
      if (r.kind === 'counter') {
        const counter = new CumulativeCounter();
        for (const reading of this.readings) if (reading.values[r.key] !== null) counter.add(reading.atMs, reading.values[r.key]!);
        const known = counter.readings >= 2;
        const perSecond = known ? counter.perSecond(startMs, endMs) : [];
        series.forEach((row, t) => (row[r.key] = known ? (perSecond[t] ?? 0) : null));
        totals[r.key] = known ? Math.round(counter.between(startMs, endMs) * 1000) / 1000 : null;
      } else {
        let peak: number | null = null;
        for (const reading of this.readings) {
          const v = reading.values[r.key];
          if (v === null || v === undefined || reading.atMs < startMs || reading.atMs > endMs + 500) continue;
          const t = Math.min(seconds - 1, Math.floor((reading.atMs - startMs) / 1000));
          series[t]![r.key] = v;
          peak = peak === null ? v : Math.max(peak, v);
        }
        totals[r.key] = peak;
      }
    }
    return { url: this.url, node: this.node, scrapes: this.readings.length, totals, series, error: this.error };
  }
}

/**
 * Scrapes every URL once a second from start() to stop(). The report covers the measurement
 * (`measure`, as ServerSampler), read at its start and its end as well as every second, so the
 * totals are what the servers counted in exactly that window.
 */
export class MetricsScraper {
  private readonly servers: ServerScrape[];
  private timer: NodeJS.Timeout | null = null;
  private readonly windowTimers: NodeJS.Timeout[] = [];
  private window: { startMs: number; endMs: number } | null = null;
  private startedAt = 0;
  private readonly pending = new Set<Promise<void>>();

  constructor(urls: string[]) {
    this.servers = urls.map((url) => new ServerScrape(url));
  }

  /** Checks every URL answers with a Parley /metrics page; throws with the reason if not. */
  static async check(urls: string[]): Promise<void> {
    await Promise.all(urls.map((url) => scrapeOnce(url)));
  }

  start(): void {
    this.startedAt = performance.now();
    this.scrapeAll();
    this.timer = setInterval(() => this.scrapeAll(), 1000);
  }

  /** The measured window: from `fromNs` (process.hrtime, now or later) for `seconds`. */
  measure(fromNs: bigint, seconds: number): void {
    const inMs = Math.max(0, Number(fromNs - process.hrtime.bigint()) / 1e6);
    const startMs = performance.now() + inMs;
    this.window = { startMs, endMs: startMs + seconds * 1000 };
    this.windowTimers.push(
      setTimeout(() => this.scrapeAll(true), inMs),
      setTimeout(() => this.scrapeAll(true), inMs + seconds * 1000),
    );
  }

  /** Stops scraping (after the last page asked for has come) and reports each server. */
  async stop(): Promise<ServerMetricsReport[]> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const timer of this.windowTimers) clearTimeout(timer);
    await Promise.all(this.pending);
    const window = this.window ?? { startMs: this.startedAt, endMs: performance.now() };
    // A window cut short (the scenario stopped early) ends now.
    const endMs = Math.min(window.endMs, performance.now());
    // The end's reading, if its timer was cleared before it went.
    await Promise.all(this.servers.filter((s) => (s.readings.at(-1)?.atMs ?? 0) < endMs).map((s) => s.scrape(true)));
    return this.servers.map((s) => s.report(window.startMs, endMs));
  }

  private scrapeAll(exact = false): void {
    for (const server of this.servers) {
      const p = server.scrape(exact).finally(() => this.pending.delete(p));
      this.pending.add(p);
    }
  }
}
