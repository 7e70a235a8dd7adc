// Percentiles, histograms and 1-second time series.

export interface Summary {
  count: number;
  min: number | null;
  mean: number | null;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

/** Nearest-rank percentile of sorted values; p is a fraction (0.99). */
export function percentile(sorted: ArrayLike<number>, p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

export function summarize(values: ArrayLike<number>): Summary {
  if (values.length === 0) return { count: 0, min: null, mean: null, p50: null, p90: null, p99: null, max: null };
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: sorted.length,
    min: sorted[0]!,
    mean: sum / sorted.length,
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p99: percentile(sorted, 0.99),
    max: sorted[sorted.length - 1]!,
  };
}

export interface HistogramBin {
  /** Lower and upper bound (ms); the last bin's upper bound is open. */
  from: number;
  to: number;
  count: number;
}

/** Log-spaced bins (4 per decade) from 0.01 ms, enough to cover every value. */
export function histogram(values: ArrayLike<number>): HistogramBin[] {
  if (values.length === 0) return [];
  let max = 0;
  for (let i = 0; i < values.length; i++) max = Math.max(max, values[i]!);
  const edges = [0];
  let edge = 0.01;
  while (edges[edges.length - 1]! <= max) {
    edges.push(Number(edge.toPrecision(3)));
    edge *= 10 ** 0.25;
  }
  const bins: HistogramBin[] = edges.slice(0, -1).map((from, i) => ({ from, to: edges[i + 1]!, count: 0 }));
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    let lo = 0;
    let hi = bins.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (bins[mid]!.from <= v) lo = mid;
      else hi = mid - 1;
    }
    bins[lo]!.count++;
  }
  // Leading empty bins say nothing.
  const first = bins.findIndex((b) => b.count > 0);
  return bins.slice(first);
}

/** Per-second buckets from the start of the measurement. */
export class TimeSeries {
  private latencies: number[][] = [];
  private counts = new Map<string, number[]>();

  constructor(private readonly startMs: number) {}

  bucket(atMs: number): number {
    return Math.max(0, Math.floor((atMs - this.startMs) / 1000));
  }

  addLatency(atMs: number, ms: number): void {
    const b = this.bucket(atMs);
    while (this.latencies.length <= b) this.latencies.push([]);
    this.latencies[b]!.push(ms);
  }

  add(name: string, atMs: number, n = 1): void {
    const b = this.bucket(atMs);
    let list = this.counts.get(name);
    if (!list) this.counts.set(name, (list = []));
    while (list.length <= b) list.push(0);
    list[b]! += n;
  }

  /** The counters, per second: what a worker sends its coordinator. */
  counters(): Record<string, number[]> {
    return Object.fromEntries([...this.counts].map(([name, list]) => [name, [...list]]));
  }

  /** Adds another process's counters (same start, so the same seconds). */
  addCounters(counters: Record<string, number[]>): void {
    for (const [name, list] of Object.entries(counters)) list.forEach((n, t) => this.add(name, this.startMs + t * 1000, n));
  }

  /**
   * One row per second of the measurement: t, the counters, and latency p50/p99/max of that
   * second. Samples that landed after it (an echo arriving as the run stops) are not a second
   * of their own: every chart shares the measured axis.
   */
  rows(seconds: number): SeriesRow[] {
    const rows: SeriesRow[] = [];
    for (let t = 0; t < seconds; t++) {
      const lat = summarize(this.latencies[t] ?? []);
      const row: SeriesRow = { t, p50: lat.p50, p99: lat.p99, max: lat.max };
      for (const [name, list] of this.counts) row[name] = list[t] ?? 0;
      rows.push(row);
    }
    return rows;
  }
}

/** Latency samples kept per process: beyond this, later ones are counted, not kept. */
export const MAX_LATENCY_SAMPLES = 2_000_000;

/** What a LatencyLog holds, as sent from a worker to its coordinator (copies, exact length). */
export interface LatencySamples {
  /** When each timed message was sent, ms from the start of the measurement. */
  at: Float64Array;
  ms: Float64Array;
  /** Samples not kept (over the cap). */
  overflow: number;
}

/**
 * Every latency sample with its message's send time, in growing typed arrays: exact percentiles
 * for the whole run, and the per-second series, from one record; cheap to send between processes.
 */
export class LatencyLog {
  private at: Float64Array<ArrayBuffer> = new Float64Array(1024);
  private ms: Float64Array<ArrayBuffer> = new Float64Array(1024);
  length = 0;
  overflow = 0;

  constructor(private readonly cap = MAX_LATENCY_SAMPLES) {}

  add(atMs: number, ms: number): void {
    if (this.length >= this.cap) {
      this.overflow++;
      return;
    }
    if (this.length === this.ms.length) {
      this.at = grow(this.at);
      this.ms = grow(this.ms);
    }
    this.at[this.length] = atMs;
    this.ms[this.length] = ms;
    this.length++;
  }

  addAll(samples: LatencySamples): void {
    for (let i = 0; i < samples.ms.length; i++) this.add(samples.at[i]!, samples.ms[i]!);
    this.overflow += samples.overflow;
  }

  /** The latencies (a view: valid until the next add). */
  values(): Float64Array {
    return this.ms.subarray(0, this.length);
  }

  /** The last n latencies (a view), for progress lines. */
  recent(n: number): Float64Array {
    return this.ms.subarray(Math.max(0, this.length - n), this.length);
  }

  samples(): LatencySamples {
    return { at: this.at.slice(0, this.length), ms: this.ms.slice(0, this.length), overflow: this.overflow };
  }

  addTo(series: TimeSeries): void {
    for (let i = 0; i < this.length; i++) series.addLatency(this.at[i]!, this.ms[i]!);
  }
}

function grow(a: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> {
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
}

export interface SeriesRow {
  t: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
  [counter: string]: number | null;
}

export const round = (value: number | null | undefined, digits = 2): number | null => (value === null || value === undefined ? null : Number(value.toFixed(digits)));
