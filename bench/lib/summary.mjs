// Medians over rounds, ratios to Parley, the goals, and bench/RESULTS.md.
//
// One round measures every server once; a figure's value for a server is the median of its
// rounds, so one disturbed run (a build on the other core, a GC at the wrong moment) does not
// decide the comparison. The spread (min to max) is shown next to it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** The figures the summary compares. `better` says which direction wins. */
export function figures(opts) {
  return [
    { id: 'memory', measurement: 'memory', label: 'memory per idle connection (KB of RSS)', better: 'lower', digits: 2, value: (r) => r.rssPerConnectionKb },
    { id: 'deliveries', measurement: 'throughput', label: `deliveries/s at saturation (${opts.members} members, ${opts.senders} senders)`, better: 'higher', digits: 0, value: (r) => r.deliveriesPerSecond },
    { id: 'saturationP99', measurement: 'throughput', label: 'p99 latency at saturation (ms)', better: 'lower', digits: 1, value: (r) => r.latencyMs.p99 },
    { id: 'serverCoreUs', measurement: 'throughput', label: 'server core time per delivery (µs)', better: 'lower', digits: 2, value: (r) => r.serverCoreUsPerDelivery },
    { id: 'machineUs', measurement: 'throughput', label: 'both cores per delivery, kernel and bench included (µs)', better: 'lower', digits: 2, value: (r) => r.machineUsPerDelivery },
    { id: 'latencyDeliveries', measurement: 'latency', label: `deliveries/s at ${opts.rate} msg/s`, better: 'higher', digits: 0, value: (r) => r.deliveriesPerSecond },
    { id: 'latencyP50', measurement: 'latency', label: `p50 latency at ${opts.rate} msg/s (ms)`, better: 'lower', digits: 2, value: (r) => r.latencyMs.p50 },
    { id: 'latencyP99', measurement: 'latency', label: `p99 latency at ${opts.rate} msg/s (ms)`, better: 'lower', digits: 2, value: (r) => r.latencyMs.p99 },
    { id: 'latencyMax', measurement: 'latency', label: `max latency at ${opts.rate} msg/s (ms)`, better: 'lower', digits: 1, value: (r) => r.latencyMs.max },
  ];
}

export function median(values) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Per figure and server: every round's value, the median, min, max and the ratio of the
 * median to Parley's. A run that was skipped or failed has no value for that round.
 */
export function summarize(rounds, servers, opts) {
  return figures(opts).map((figure) => {
    const byServer = {};
    for (const server of servers) {
      const values = rounds.map((round) => {
        const run = (round[figure.measurement] ?? []).find((r) => r.server === server);
        const v = run && !run.skipped ? figure.value(run) : null;
        return typeof v === 'number' && Number.isFinite(v) ? v : null;
      });
      const present = values.filter((v) => v !== null);
      byServer[server] = { values, median: median(present), min: present.length ? Math.min(...present) : null, max: present.length ? Math.max(...present) : null };
    }
    const parley = byServer.parley?.median;
    for (const s of Object.values(byServer)) s.ratioToParley = parley && s.median !== null ? s.median / parley : null;
    return { id: figure.id, measurement: figure.measurement, label: figure.label, better: figure.better, digits: figure.digits, byServer };
  });
}

/** The goals the issue sets, each with its verdict from the medians. */
export function goals(summary, servers) {
  const get = (id) => summary.find((f) => f.id === id)?.byServer ?? {};
  const peers = servers.filter((s) => s !== 'parley');
  const out = [];
  const against = (id, what, better) => {
    const fig = get(id);
    const parley = fig.parley?.median ?? null;
    const peerValues = peers.map((p) => [p, fig[p]?.median ?? null]).filter(([, v]) => v !== null);
    if (parley === null || peerValues.length === 0) return out.push({ goal: what, verdict: 'not measured' });
    const [bestPeer, best] = peerValues.reduce((a, b) => ((better === 'higher' ? b[1] > a[1] : b[1] < a[1]) ? b : a));
    const met = better === 'higher' ? parley >= best : parley <= best;
    out.push({ goal: what, verdict: met ? 'met' : 'not met', parley, bestPeer, best, digits: summary.find((f) => f.id === id).digits });
  };
  against('deliveries', 'deliveries/s at or above the best peer', 'higher');
  against('memory', 'memory per connection at or below the best peer', 'lower');
  const p99 = get('latencyP99').parley?.median ?? null;
  const achieved = get('latencyDeliveries').parley?.median ?? null;
  out.push({
    goal: 'p99 under 2 ms at about 100,000 deliveries/s',
    verdict: p99 === null ? 'not measured' : p99 < 2 ? 'met' : 'not met',
    parley: p99,
    deliveriesPerSecond: achieved,
  });
  return out;
}

const num = (v, digits) => (v === null || v === undefined ? '–' : v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));

/** The Markdown report: setup, medians and ratios, goals, every round, warnings. */
export function resultsMarkdown({ meta, summary, goalList, servers, warnings, command }) {
  const lines = [];
  const say = (s = '') => lines.push(s);
  const rounds = meta.options.rounds;
  say('# Reference benchmark results');
  say();
  say(`Written by \`${command}\` on ${meta.date.slice(0, 10)} (${meta.date}). ${rounds} round${rounds === 1 ? '' : 's'}: each round measures every server`);
  say('once, the servers in a rotated order (round 1 starts with the first, round 2 with the second, ...),');
  say('so slow drifts of the machine fall on all of them alike. Each figure is the **median of the rounds**;');
  say('the range under it is min–max. **Ratio** = the server\'s median ÷ Parley\'s. How each figure is');
  say('measured: [bench/README.md](README.md).');
  say();
  say('## Machine and versions');
  say();
  say(`- ${meta.host.cpus} CPUs (${meta.host.model}), ${meta.host.memoryGiB} GiB, Linux ${meta.host.kernel}, Node ${meta.node}`);
  say(`- the server under test alone on CPU 0 (\`taskset -c 0\`), the load generator on CPU ${meta.pinning.bench}; open-file limit ${meta.fdLimit}`);
  for (const server of servers) say(`- ${server}: ${meta.versions[server] ?? 'not installed'}`);
  const o = meta.options;
  say(
    `- memory: ${o.connections.toLocaleString('en-US')} idle registered connections; fanout: ${o.members.toLocaleString('en-US')} members in one room, ${o.senders} senders, ` +
      `${o.samplers} sampled receivers, ${o.warmup} s warm-up + ${o.duration} s measured; throughput: window ${o.window} per sender; latency: ${o.rate} msg/s in total`,
  );
  say();
  say('## Medians');
  say();
  const header = ['figure', 'better', ...servers.flatMap((s) => (s === 'parley' ? [s] : [s, `${s} ÷ parley`]))];
  say(`| ${header.join(' | ')} |`);
  say(`|${header.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`);
  for (const f of summary) {
    const cells = servers.flatMap((s) => {
      const v = f.byServer[s];
      const spread = v.values.filter((x) => x !== null).length > 1 ? `<br><sub>${num(v.min, f.digits)}–${num(v.max, f.digits)}</sub>` : '';
      const value = `${num(v.median, f.digits)}${spread}`;
      return s === 'parley' ? [value] : [value, v.ratioToParley === null ? '–' : `${v.ratioToParley.toFixed(2)}×`];
    });
    say(`| ${f.label} | ${f.better} | ${cells.join(' | ')} |`);
  }
  say();
  say('## Goals');
  say();
  for (const g of goalList) {
    let detail = '';
    if (g.bestPeer) detail = `: Parley ${num(g.parley, g.digits)}, best peer ${g.bestPeer} ${num(g.best, g.digits)}`;
    else if (g.parley !== undefined && g.parley !== null) detail = `: Parley p99 ${num(g.parley, 2)} ms at ${num(g.deliveriesPerSecond, 0)} deliveries/s`;
    say(`- **${g.verdict}**: ${g.goal}${detail}`);
  }
  say();
  say('## Every round');
  say();
  for (const f of summary) {
    say(`- ${f.label}: ${servers.map((s) => `${s} ${f.byServer[s].values.map((v) => num(v, f.digits)).join(' / ')}`).join('; ')}`);
  }
  say();
  if (warnings.length > 0) {
    say('## Warnings from the runs');
    say();
    for (const w of warnings) say(`- ${w}`);
    say();
  }
  return `${lines.join('\n')}\n`;
}

export function writeText(file, text) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}
