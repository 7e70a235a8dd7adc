// A self-contained HTML report: figures, and charts drawn here as inline SVG (no scripts, no
// external assets): latency over time, latency histogram, throughput over time.
import { tableRows } from './report.js';
import type { BenchResult } from './result.js';

const W = 720;
const H = 260;
const PAD = { left: 60, right: 20, top: 20, bottom: 40 };

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

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
    parts.push(`<line x1="${PAD.left}" y1="${y}" x2="${W - PAD.right}" y2="${y}" stroke="#ddd"/>`, `<text x="${PAD.left - 6}" y="${y + 4}" text-anchor="end" font-size="11">${+v.toPrecision(3)}</text>`);
  }
  for (const [x, label] of xTicks) parts.push(`<text x="${x}" y="${H - PAD.bottom + 16}" text-anchor="middle" font-size="11">${esc(label)}</text>`);
  parts.push(`<text x="14" y="${PAD.top + ih / 2}" transform="rotate(-90 14 ${PAD.top + ih / 2})" text-anchor="middle" font-size="12">${esc(yLabel)}</text>`);
  parts.push(`<line x1="${PAD.left}" y1="${PAD.top + ih}" x2="${W - PAD.right}" y2="${PAD.top + ih}" stroke="#333"/>`, body, '</svg>');
  return parts.join('\n');
}

/** Line chart of series over seconds. */
export function lineChart(id: string, title: string, yLabel: string, seconds: number[], lines: { name: string; colour: string; values: (number | null)[] }[]): string {
  const iw = W - PAD.left - PAD.right;
  const ih = H - PAD.top - PAD.bottom;
  const yMax = niceMax(Math.max(0, ...lines.flatMap((l) => l.values.filter((v): v is number => v !== null))));
  const n = Math.max(1, seconds.length - 1);
  const x = (i: number) => PAD.left + (iw * i) / n;
  const y = (v: number) => PAD.top + ih - (ih * v) / yMax;
  const body: string[] = [];
  lines.forEach((l, li) => {
    const points = l.values.map((v, i) => (v === null ? null : `${x(i).toFixed(1)},${y(v).toFixed(1)}`)).filter((p): p is string => p !== null);
    if (points.length === 1) body.push(`<circle cx="${points[0]!.split(',')[0]}" cy="${points[0]!.split(',')[1]}" r="3" fill="${l.colour}"/>`);
    else if (points.length > 1) body.push(`<polyline fill="none" stroke="${l.colour}" stroke-width="2" points="${points.join(' ')}"/>`);
    body.push(`<rect x="${PAD.left + 10 + li * 110}" y="${PAD.top - 14}" width="10" height="10" fill="${l.colour}"/><text x="${PAD.left + 24 + li * 110}" y="${PAD.top - 5}" font-size="11">${esc(l.name)}</text>`);
  });
  const step = Math.max(1, Math.ceil(seconds.length / 10));
  const ticks: [number, string][] = seconds.filter((_, i) => i % step === 0).map((s, j) => [x(j * step), `${s}s`]);
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

export function toHtml(r: BenchResult): string {
  const seconds = r.series.map((row) => row.t);
  const latency = lineChart('latency-over-time', `Latency over time (${r.latencyOf})`, 'ms', seconds, [
    { name: 'p50', colour: '#2a9d3a', values: r.series.map((row) => row.p50) },
    { name: 'p99', colour: '#e08a00', values: r.series.map((row) => row.p99) },
    { name: 'max', colour: '#c0392b', values: r.series.map((row) => row.max) },
  ]);
  const hist = barChart(
    'latency-histogram',
    'Latency histogram',
    'count',
    r.histogram.map((b) => ({ label: `${+b.from.toPrecision(2)}`, value: b.count })),
  );
  const throughputLines = [{ name: r.throughputOf, colour: '#4a7bd0', values: r.series.map((row) => (row[r.throughputOf] as number | null | undefined) ?? 0) }];
  const throughput = lineChart('throughput-over-time', `Throughput over time (${r.throughputOf} per second)`, `${r.throughputOf}/s`, seconds, throughputLines);
  const serverChart = r.server && r.server.samples.length > 0 ? lineChart('server-cpu', 'Server CPU (% of a core)', '%', r.server.samples.map((s) => s.t), [{ name: 'CPU %', colour: '#8e44ad', values: r.server.samples.map((s) => s.cpuPercent) }]) : '';
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
<h2>Latency over time</h2>
${latency}
<h2>Latency histogram (ms, log-spaced bins)</h2>
${hist}
<h2>Throughput over time</h2>
${throughput}
${serverChart ? `<h2>Server CPU</h2>\n${serverChart}` : ''}
</body></html>
`;
}
