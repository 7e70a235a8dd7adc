// A self-contained HTML report: figures, and charts drawn here as inline SVG (no scripts, no
// external assets): latency over time, latency histogram, throughput over time, server CPU.
// The charts over time share one axis: seconds from the start of the measurement, each value
// drawn in the middle of its second.
import { tableRows } from './report.js';
import type { BenchResult } from './result.js';

const W = 720;
const H = 260;
// The y-axis title sits above the axis, clear of the tick labels; the legend at the top right.
const PAD = { left: 60, right: 20, top: 34, bottom: 40 };

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** Tick labels people read: 5M, 2.5k, 0.25. */
export function formatTick(v: number): string {
  const abs = Math.abs(v);
  for (const [size, unit] of [[1e9, 'G'], [1e6, 'M'], [1e3, 'k']] as const) if (abs >= size) return `${+(v / size).toPrecision(3)}${unit}`;
  return String(+v.toPrecision(3));
}

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function frame(id: string, title: string, yMax: number, yLabel: string, xTicks: [number, string][], body: string): string {
  const iw = W - PAD.left - PAD.right;
  const ih = H - PAD.top - PAD.bottom;
  const parts = [`<svg id="${id}" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">`, `<title>${esc(title)}</title>`];
  for (let i = 0; i <= 4; i++) {
    const y = PAD.top + ih - (ih * i) / 4;
    const v = (yMax * i) / 4;
    parts.push(`<line x1="${PAD.left}" y1="${y}" x2="${W - PAD.right}" y2="${y}" stroke="#ddd"/>`, `<text x="${PAD.left - 6}" y="${y + 4}" text-anchor="end" font-size="11">${formatTick(v)}</text>`);
  }
  for (const [x, label] of xTicks) parts.push(`<text x="${x}" y="${H - PAD.bottom + 16}" text-anchor="middle" font-size="11">${esc(label)}</text>`);
  parts.push(`<text x="${PAD.left - 6}" y="${PAD.top - 12}" text-anchor="start" font-size="12" font-weight="bold">${esc(yLabel)}</text>`);
  parts.push(`<line x1="${PAD.left}" y1="${PAD.top + ih}" x2="${W - PAD.right}" y2="${PAD.top + ih}" stroke="#333"/>`, body, '</svg>');
  return parts.join('\n');
}

/** A value for second t of the measurement: the second [t, t+1). */
export interface SecondValue {
  t: number;
  value: number | null;
}

/** Line chart over the measurement's seconds 0..axisSeconds, the same axis for every chart. */
export function lineChart(id: string, title: string, yLabel: string, axisSeconds: number, lines: { name: string; colour: string; values: SecondValue[] }[]): string {
  const iw = W - PAD.left - PAD.right;
  const ih = H - PAD.top - PAD.bottom;
  const span = Math.max(1, axisSeconds);
  const yMax = niceMax(Math.max(0, ...lines.flatMap((l) => l.values.map((v) => v.value).filter((v): v is number => v !== null))));
  const x = (seconds: number) => PAD.left + (iw * seconds) / span;
  const y = (v: number) => PAD.top + ih - (ih * v) / yMax;
  const body: string[] = [];
  let legendX = W - PAD.right;
  [...lines].reverse().forEach((l) => {
    const points = l.values.filter((v) => v.value !== null && v.t < span).map((v) => `${x(v.t + 0.5).toFixed(1)},${y(v.value!).toFixed(1)}`);
    if (points.length === 1) body.push(`<circle cx="${points[0]!.split(',')[0]}" cy="${points[0]!.split(',')[1]}" r="3" fill="${l.colour}"/>`);
    else if (points.length > 1) body.push(`<polyline fill="none" stroke="${l.colour}" stroke-width="2" points="${points.join(' ')}"/>`);
    const width = 18 + l.name.length * 6.5;
    legendX -= width;
    body.push(`<rect x="${legendX.toFixed(1)}" y="${PAD.top - 22}" width="10" height="10" fill="${l.colour}"/><text x="${(legendX + 14).toFixed(1)}" y="${PAD.top - 13}" font-size="11">${esc(l.name)}</text>`);
  });
  const step = Math.max(1, Math.ceil(span / 10));
  const ticks: [number, string][] = [];
  for (let s = 0; s <= span; s += step) ticks.push([x(s), `${s}s`]);
  return frame(id, title, yMax, yLabel, ticks, body.join('\n'));
}

/** Bar chart: one bar per bin. */
export function barChart(id: string, title: string, yLabel: string, bars: { label: string; value: number }[]): string {
  const iw = W - PAD.left - PAD.right;
  const ih = H - PAD.top - PAD.bottom;
  const yMax = niceMax(Math.max(0, ...bars.map((b) => b.value)));
  const bw = iw / Math.max(1, bars.length);
  const body: string[] = [];
  const ticks: [number, string][] = [];
  const step = Math.max(1, Math.ceil(bars.length / 8));
  bars.forEach((b, i) => {
    const h = (ih * b.value) / yMax;
    body.push(`<rect x="${(PAD.left + i * bw + 1).toFixed(1)}" y="${(PAD.top + ih - h).toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="#4a7bd0"><title>${esc(b.label)}: ${b.value}</title></rect>`);
    if (i % step === 0) ticks.push([PAD.left + i * bw + bw / 2, b.label]);
  });
  return frame(id, title, yMax, yLabel, ticks, body.join('\n'));
}

/** Seconds on the shared time axis: the measurement, and every series and sample in it. */
export function axisSeconds(r: BenchResult): number {
  return Math.max(1, Math.ceil(r.seconds - 0.05), r.series.length, ...(r.server?.samples ?? []).map((s) => s.t + 1), ...(r.metrics ?? []).map((m) => m.series.length));
}

const NODE_COLOURS = ['#4a7bd0', '#e08a00', '#2a9d3a', '#c0392b', '#8e44ad', '#16a085', '#7f8c8d', '#d35400'];

/** The servers' own figures over time (--metrics), a line per node on the shared axis. */
function serverMetricsCharts(metrics: NonNullable<BenchResult['metrics']>, axis: number): string {
  const perNode = (key: string) =>
    metrics.map((m, i) => ({ name: m.node, colour: NODE_COLOURS[i % NODE_COLOURS.length]!, values: m.series.map((row) => ({ t: row.t, value: row[key] ?? null })) }));
  const charts: [string, string, string, string][] = [
    ['metrics-deliveries', 'Deliveries per second, as the servers counted them', 'deliveries per second', 'deliveries'],
    ['metrics-messages-in', 'Messages in per second (PRIVMSG, NOTICE, TAGMSG)', 'messages per second', 'messagesIn'],
    ['metrics-event-loop', 'Event-loop delay, p99 between readings', 'event-loop p99, ms', 'eventLoopP99Ms'],
    ['metrics-heap', 'Heap used', 'heap used, MiB', 'heapUsedMiB'],
    ['metrics-sendq-drops', 'SendQ drops per second', 'drops per second', 'sendqDrops'],
  ];
  if (metrics.some((m) => m.series.some((row) => (row.busLagMax ?? 0) > 0))) charts.push(['metrics-bus-lag', 'Cluster bus lag (events not yet delivered, most behind one log)', 'bus lag, events', 'busLagMax']);
  const drawn = charts.map(([id, title, yLabel, key]) => lineChart(id, title, yLabel, axis, perNode(key)));
  return `<h2>The servers' own metrics (/metrics, read once a second)</h2>\n<p>From ${metrics.map((m) => `${esc(m.node)} (${esc(m.url)}, ${m.scrapes} readings)`).join(', ')}.</p>\n${drawn.join('\n')}`;
}

export function toHtml(r: BenchResult): string {
  const axis = axisSeconds(r);
  const column = (name: string): SecondValue[] => r.series.map((row) => ({ t: row.t, value: row[name] ?? null }));
  const latency = lineChart('latency-over-time', `Latency over time (${r.latencyOf})`, 'latency, ms', axis, [
    { name: 'p50', colour: '#2a9d3a', values: column('p50') },
    { name: 'p99', colour: '#e08a00', values: column('p99') },
    { name: 'max', colour: '#c0392b', values: column('max') },
  ]);
  const hist = barChart(
    'latency-histogram',
    'Latency histogram',
    'samples',
    r.histogram.map((b) => ({ label: `${+b.from.toPrecision(2)}`, value: b.count })),
  );
  const throughputLines = [{ name: r.throughputOf, colour: '#4a7bd0', values: r.series.map((row) => ({ t: row.t, value: row[r.throughputOf] ?? 0 })) }];
  const throughput = lineChart('throughput-over-time', `Throughput over time (${r.throughputOf} per second)`, `${r.throughputOf} per second`, axis, throughputLines);
  const serverChart = r.server && r.server.samples.length > 0 ? lineChart('server-cpu', 'Server CPU (% of a core)', 'server CPU, % of a core', axis, [{ name: 'CPU %', colour: '#8e44ad', values: r.server.samples.map((s) => ({ t: s.t, value: s.cpuPercent })) }]) : '';
  const metricsCharts = r.metrics && r.metrics.length > 0 ? serverMetricsCharts(r.metrics, axis) : '';
  const rows = tableRows(r).map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('\n');
  const warnings = [...r.warnings, ...(r.generator.saturated ? ['the load generator used more than 90% of a core: figures may be limited by it, not by the server'] : [])];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>parley bench ${esc(r.scenario)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:760px}table{border-collapse:collapse}th,td{padding:2px 10px;border-bottom:1px solid #eee}th{text-align:left;font-weight:normal;color:#555}td{text-align:right;font-variant-numeric:tabular-nums}.warn{color:#b35900}svg{display:block;margin:1em 0}</style>
</head><body>
<h1>parley bench ${esc(r.scenario)}</h1>
<p>Against ${esc(r.target)}, started ${esc(r.startedAt)}, ${r.seconds.toFixed(1)} s measured. Latency: ${esc(r.latencyOf)}.</p>
${warnings.map((w) => `<p class="warn">Warning: ${esc(w)}</p>`).join('\n')}
<table>${rows}</table>
<p>Charts over time: seconds from the start of the measurement (after connecting and warm-up).</p>
<h2>Latency over time</h2>
${latency}
<h2>Latency histogram (ms, log-spaced bins)</h2>
${hist}
<h2>Throughput over time</h2>
${throughput}
${serverChart ? `<h2>Server CPU</h2>\n${serverChart}` : ''}
${metricsCharts}
</body></html>
`;
}
