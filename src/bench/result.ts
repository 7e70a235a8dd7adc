// What a scenario returns, and what the reporters print.
import type { BenchOptions } from './options.js';
import type { Target } from './conn.js';
import type { Progress } from './progress.js';
import type { ServerMetricsReport } from './metrics-scrape.js';
import type { HistogramBin, SeriesRow, Summary } from './stats.js';

export interface Context {
  options: BenchOptions;
  target: Target;
  progress: Progress;
  /** Unique per run: nicks are pb<run>x<i>. */
  runId: string;
  /**
   * The scenario says when it measures (process.hrtime, now or later; for `seconds`), so what
   * is sampled outside the scenario (the server's CPU) shares its time axis.
   */
  measuring(fromNs: bigint, seconds: number): void;
}

export interface BenchResult {
  scenario: string;
  target: string;
  startedAt: string;
  seconds: number;
  /** Label and value, in order: the table. */
  figures: [string, string | number | null][];
  clients: { requested: number; connected: number; failed: number; failures: Record<string, number>; disconnects: number; disconnectReasons: Record<string, number> };
  /** What was measured as latency (end-to-end delivery, registration, query). */
  latencyOf: string;
  latencyMs: Summary;
  histogram: HistogramBin[];
  series: SeriesRow[];
  /** Name of the series counter that is the throughput (delivered, queries, connected). */
  throughputOf: string;
  messages: { sent: number; expected: number; received: number; lost: number } | null;
  generator: { cpuShare: number; saturated: boolean; workers: { cpuShare: number }[] };
  server: { pid: number; cpuPercentAvg: number | null; cpuPercentMax: number | null; rssKbPeak: number | null; rssKbEnd: number | null; samples: { t: number; cpuPercent: number; rssKb: number | null }[]; error: string | null } | null;
  /** What each server's /metrics said during the run (--metrics), else null. */
  metrics: ServerMetricsReport[] | null;
  warnings: string[];
}

export function countReasons(reasons: Iterable<string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of reasons) out[r] = (out[r] ?? 0) + 1;
  return out;
}

export const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/** What a scenario itself returns; runBench adds the target and what was sampled beside it. */
export type ScenarioResult = Omit<BenchResult, 'server' | 'target' | 'startedAt' | 'metrics'>;
