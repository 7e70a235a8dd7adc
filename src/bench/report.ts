// The table on stdout and the JSON file.
import type { BenchResult } from './result.js';

/** The figures, then the server's (with --pid) and the generator's CPU. */
export function tableRows(r: BenchResult): [string, string][] {
  const rows: [string, string][] = r.figures.map(([k, v]) => [k, v === null ? '-' : String(v)]);
  if (r.server) {
    rows.push(['server CPU avg %', fmt1(r.server.cpuPercentAvg)], ['server CPU max %', fmt1(r.server.cpuPercentMax)], ['server RSS peak MiB', r.server.rssKbPeak === null ? '-' : (r.server.rssKbPeak / 1024).toFixed(1)]);
  }
  rows.push(...metricsRows(r.metrics));
  rows.push(generatorCpuRow(r.generator));
  return rows;
}

/** What the servers' /metrics counted in the measurement: summed over nodes, peaks of gauges. */
export function metricsRows(metrics: BenchResult['metrics']): [string, string][] {
  if (!metrics || metrics.length === 0) return [];
  const sum = (key: string) => (metrics.every((m) => m.totals[key] === null) ? null : metrics.reduce((total, m) => total + (m.totals[key] ?? 0), 0));
  const peak = (key: string) => (metrics.every((m) => m.totals[key] === null) ? null : Math.max(...metrics.map((m) => m.totals[key] ?? 0)));
  const whole = (v: number | null) => (v === null ? '-' : String(Math.round(v)));
  const commits = sum('commits');
  const commitMs = sum('commitMs');
  const of = metrics.length === 1 ? 'server' : `${metrics.length} servers`;
  return [
    [`${of}: messages in`, whole(sum('messagesIn'))],
    [`${of}: deliveries`, whole(sum('deliveries'))],
    [`${of}: SendQ drops`, whole(sum('sendqDrops'))],
    [`${of}: flood disconnects`, whole(sum('floodDisconnects'))],
    [`${of}: command errors`, whole(sum('commandErrors'))],
    [`${of}: history commits, mean ms`, commits ? (commitMs! / commits).toFixed(2) : '-'],
    [`${of}: event-loop p99 peak ms`, fmt1(peak('eventLoopP99Ms'))],
    [`${of}: heap used peak MiB`, fmt1(peak('heapUsedMiB'))],
    [`${of}: bus lag peak`, whole(peak('busLagMax'))],
  ];
}

/** The load generator's CPU, per process: "34" alone, or "main 2, workers 9 and 9". */
export function generatorCpuRow(generator: BenchResult['generator']): [string, string] {
  const pct = (share: number) => (share * 100).toFixed(0);
  if (generator.workers.length === 0) return ['generator CPU, % of a core', pct(generator.cpuShare)];
  const workers = generator.workers.map((w) => pct(w.cpuShare));
  const list = workers.length === 1 ? workers[0]! : `${workers.slice(0, -1).join(', ')} and ${workers.at(-1)}`;
  return ['generator CPU, % of a core', `main ${pct(generator.cpuShare)}, worker${workers.length === 1 ? '' : 's'} ${list}`];
}

export function formatTable(r: BenchResult): string {
  const rows = tableRows(r);
  const width = Math.max(...rows.map(([k]) => k.length));
  const valueWidth = Math.max(...rows.map(([, v]) => v.length));
  const lines = [`parley bench ${r.scenario} against ${r.target}, ${r.seconds.toFixed(1)} s measured`, `${'-'.repeat(width + valueWidth + 3)}`];
  for (const [k, v] of rows) lines.push(`${k.padEnd(width)}   ${v.padStart(valueWidth)}`);
  const failures = Object.entries(r.clients.failures);
  if (failures.length > 0) lines.push('', 'failures:', ...failures.slice(0, 10).map(([why, n]) => `  ${n} x ${why}`));
  const reasons = Object.entries(r.clients.disconnectReasons);
  if (reasons.length > 0) lines.push('', 'disconnect reasons:', ...reasons.slice(0, 10).map(([why, n]) => `  ${n} x ${why}`));
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return `${lines.join('\n')}\n`;
}

const fmt1 = (v: number | null) => (v === null ? '-' : v.toFixed(1));

export function toJson(r: BenchResult, options: object): string {
  return `${JSON.stringify({ ...r, options }, null, 2)}\n`;
}
