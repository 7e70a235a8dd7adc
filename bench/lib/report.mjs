// Readable tables on stdout, and the JSON file with every figure.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const fixed = (v, digits = 1) => (v === null || v === undefined || Number.isNaN(v) ? '-' : v.toFixed(digits));
const int = (v) => (v === null || v === undefined ? '-' : Math.round(v).toLocaleString('en-US'));
const mib = (kb) => (kb === null || kb === undefined ? '-' : (kb / 1024).toFixed(1));
const pct = (v) => (v === null || v === undefined ? '-' : `${Math.round(v * 100)}%`);

/** A plain-text table: first column left-aligned, the others right-aligned. */
export function table(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function memoryTable(results) {
  const rows = results.map((r) =>
    r.skipped
      ? [r.server, 'skipped', '', '', '', '', '', '']
      : [
          r.server,
          `${r.connections.registered}/${r.connections.requested}`,
          mib(r.rssBeforeKb),
          mib(r.rssAfterKb),
          fixed(r.rssPerConnectionKb, 2),
          r.heap ? fixed(r.heap.usedPerConnectionKb, 2) : '-',
          fixed(r.registerSeconds, 1),
          int(r.registerPerSecond),
        ],
  );
  return table(['server', 'registered', 'RSS before MiB', 'RSS after MiB', 'RSS KB/conn', 'heap KB/conn', 'open s', 'conn/s'], rows);
}

export function fanoutTable(results) {
  const rows = results.map((r) =>
    r.skipped
      ? [r.server, 'skipped', '', '', '', '', '', '', '', '', '', '', '', '']
      : [
          r.server,
          r.mode === 'rate' ? `rate ${r.targetRate}/s` : `window ${r.window}`,
          int(r.sentPerSecond),
          int(r.deliveriesPerSecond),
          fixed(r.latencyMs.p50, 2),
          fixed(r.latencyMs.p90, 2),
          fixed(r.latencyMs.p99, 2),
          fixed(r.latencyMs.max, 2),
          int(r.lost),
          int(r.disconnects),
          pct(r.serverCpu),
          pct(r.cpuBusy?.cpu0?.busy),
          pct(r.generatorCpu),
          pct(r.cpuBusy?.cpu1?.busy),
        ],
  );
  return table(
    ['server', 'load', 'sent msg/s', 'deliveries/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'lost', 'disc.', 'server proc', 'CPU0 busy', 'bench procs', 'CPU1 busy'],
    rows,
  );
}

/** Warnings a reader must see next to the figures. */
export function fanoutWarnings(r) {
  if (r.skipped) return [`${r.server}: skipped: ${r.skipped}`];
  const out = [];
  const cpu1 = r.cpuBusy?.cpu1?.busy;
  const cpu0 = r.cpuBusy?.cpu0?.busy;
  if (r.generatorCpu > 0.9 || (cpu1 !== undefined && cpu1 > 0.95)) {
    out.push(
      `${r.server}: the load generator was saturated (bench processes ${pct(r.generatorCpu)} of one core, CPU 1 busy ${pct(cpu1)}): ` +
        `throughput is a lower bound for the server, latency includes bench queueing`,
    );
  }
  if (cpu0 !== undefined && cpu0 < 0.85 && r.mode === 'window') {
    out.push(`${r.server}: CPU 0 (the server's) was only ${pct(cpu0)} busy: the server was not the bottleneck in this run`);
  }
  if (r.lost !== 0) out.push(`${r.server}: ${int(r.lost)} deliveries missing after ${fixed(r.drainSeconds)} s of drain (of ${int(r.expectedDeliveries)})`);
  if (r.disconnects > 0) out.push(`${r.server}: ${r.disconnects} members disconnected during the run: ${JSON.stringify(r.disconnectReasons)}`);
  if (r.members.joined < r.members.requested) {
    out.push(`${r.server}: only ${r.members.joined}/${r.members.requested} members joined: ${r.setupFailures.join('; ')}`);
  }
  if (r.skippedForBacklog > 0 || r.skippedForWindow > 0) {
    out.push(`${r.server}: ${r.skippedForBacklog + r.skippedForWindow} scheduled messages not sent (receivers behind / window full): the target rate was not met`);
  }
  if (r.backlogPauses > 0) out.push(`${r.server}: senders paused ${r.backlogPauses} times because the receivers were more than --max-backlog behind`);
  if (r.otherCpu > 0.05) {
    out.push(`${r.server}: other processes on this machine used ${pct(r.otherCpu)} of a core during the measurement: figures are disturbed`);
  }
  if (r.machineBefore && !r.machineBefore.idle) {
    out.push(`${r.server}: the machine was not idle before the run (${fixed(r.machineBefore.busyCores, 2)} cores busy)`);
  }
  if (r.samplerGaps > 0) out.push(`${r.server}: sampled receivers saw ${r.samplerGaps} gaps in sequence numbers`);
  if (r.serverExitedDuringRun) out.push(`${r.server}: the server exited during the run: ${JSON.stringify(r.serverExitedDuringRun)}`);
  return out;
}

export function memoryWarnings(r) {
  if (r.skipped) return [`${r.server}: skipped: ${r.skipped}`];
  const out = [];
  if (r.connections.retried > 0) out.push(`${r.server}: ${r.connections.retried} registrations were retried after no answer in 15 s`);
  if (r.connections.failed > 0) out.push(`${r.server}: ${r.connections.failed} connections failed: ${r.failures.join('; ')}`);
  if (r.connections.stillOpen < r.connections.registered) {
    out.push(`${r.server}: ${r.connections.registered - r.connections.stillOpen} registered connections were closed before the second reading`);
  }
  if (r.machineBefore && !r.machineBefore.idle) {
    out.push(`${r.server}: the machine was not idle before the run (${fixed(r.machineBefore.busyCores, 2)} cores busy)`);
  }
  if (r.serverExited) out.push(`${r.server}: the server exited: ${JSON.stringify(r.serverExited)}`);
  return out;
}

/** Medians per figure and server, with each peer's ratio to Parley. */
export function summaryTable(summary, servers) {
  const rows = summary.map((f) => [
    f.label,
    f.better,
    ...servers.flatMap((s) => {
      const v = f.byServer[s];
      const value = v.median === null ? '-' : v.median.toLocaleString('en-US', { maximumFractionDigits: f.digits });
      return s === 'parley' ? [value] : [value, v.ratioToParley === null ? '-' : `${v.ratioToParley.toFixed(2)}x`];
    }),
  ]);
  return table(['figure', 'better', ...servers.flatMap((s) => (s === 'parley' ? [s] : [s, 'ratio']))], rows);
}

export function writeResults(file, results) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
}
