// `parley bench`: parse options, run one scenario, print the table, write JSON and HTML.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { toHtml } from './html.js';
import { BENCH_USAGE, BenchUsageError, parseBenchArgs, type BenchOptions } from './options.js';
import { MetricsScraper } from './metrics-scrape.js';
import { checkPid, SATURATED, ServerSampler } from './proc.js';
import { Progress } from './progress.js';
import { formatTable, toJson } from './report.js';
import type { BenchResult, Context, ScenarioResult } from './result.js';
import { connectScenario } from './scenario-connect.js';
import { fanoutScenario } from './scenario-fanout.js';
import { historyScenario } from './scenario-history.js';
import { roomsScenario } from './scenario-rooms.js';

export interface BenchRun {
  result: BenchResult;
  jsonPath: string;
  htmlPath: string;
}

/** Runs a scenario with parsed options; throws if it cannot run at all. */
export async function runBench(options: BenchOptions, progress = new Progress(!options.quiet)): Promise<BenchRun> {
  const target = { host: options.host, port: options.port, ports: options.ports, tls: options.tls, ws: options.ws };
  if (options.pid !== null) {
    const why = checkPid(options.pid);
    if (why) throw new BenchUsageError(`--pid: ${why}`);
  }
  const sampler = options.pid !== null ? new ServerSampler(options.pid) : null;
  if (options.metrics.length > 0) {
    try {
      await MetricsScraper.check(options.metrics);
    } catch (err) {
      throw new BenchUsageError(`--metrics: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const scraper = options.metrics.length > 0 ? new MetricsScraper(options.metrics) : null;
  const measuring = (fromNs: bigint, seconds: number) => {
    sampler?.measure(fromNs, seconds);
    scraper?.measure(fromNs, seconds);
  };
  const ctx: Context = { options, target, progress, runId: randomBytes(3).toString('hex'), measuring };
  const startedAt = new Date().toISOString();
  sampler?.start();
  scraper?.start();
  let partial: ScenarioResult;
  try {
    switch (options.scenario) {
      case 'connect':
        partial = await connectScenario(ctx);
        break;
      case 'fanout':
        partial = await fanoutScenario(ctx);
        break;
      case 'rooms':
        partial = await roomsScenario(ctx);
        break;
      case 'history':
        partial = await historyScenario(ctx);
        break;
    }
  } finally {
    progress.done();
  }
  const metrics = scraper ? await scraper.stop() : null;
  const serverStats = sampler?.stop();
  const result: BenchResult = {
    ...partial,
    target: options.ws ?? `${options.tls ? 'tls://' : ''}${options.host}:${options.ports.join(',')}`,
    startedAt,
    server: sampler && serverStats ? { pid: options.pid!, ...serverStats, samples: sampler.samples } : null,
    metrics,
  };
  const saturation = saturationWarning(result.generator);
  if (saturation) result.warnings.push(saturation);
  if (result.server?.error) result.warnings.push(`--pid: ${result.server.error}`);
  for (const m of metrics ?? []) if (m.error) result.warnings.push(`--metrics: a reading failed (${m.error}); the figures from ${m.node} have gaps`);
  mkdirSync(options.out, { recursive: true });
  const jsonPath = join(options.out, `bench-${options.scenario}.json`);
  const htmlPath = join(options.out, `bench-${options.scenario}.html`);
  const { help: _help, quiet: _quiet, ...recorded } = options;
  // In window mode the rate (a default) was not used: do not record one.
  writeFileSync(jsonPath, toJson(result, options.window !== null ? { ...recorded, rate: null } : recorded));
  writeFileSync(htmlPath, toHtml(result));
  return { result, jsonPath, htmlPath };
}

/** A warning when the generator (or one of its workers) used more than SATURATED of a core. */
export function saturationWarning(generator: BenchResult['generator']): string | null {
  const shares = [generator.cpuShare, ...generator.workers.map((w) => w.cpuShare)];
  if (!generator.saturated && shares.every((s) => s <= SATURATED)) return null;
  const worst = Math.max(...shares);
  return `the load generator used ${(worst * 100).toFixed(0)}% of a core (over ${SATURATED * 100}%): figures may be limited by it, not by the server (try --workers, fewer samplers, or a lower rate)`;
}

/**
 * Fewer than half the users connected: figures from the few that did describe no load anyone
 * asked for. Says how many, and the commonest reason.
 */
export function mostlyRefused(clients: BenchResult['clients']): string | null {
  if (clients.requested === 0 || clients.connected * 2 >= clients.requested) return null;
  const [reason, count] = Object.entries(clients.failures).sort((a, b) => b[1] - a[1])[0] ?? [];
  const why = reason === undefined ? '' : ` (${count} x ${reason})`;
  return `only ${clients.connected} of ${clients.requested} users could connect${why}: the figures describe too few to mean anything. Is the server's per-address or connection limit in the way?`;
}

/**
 * The command: exit 0 when the run completed, 1 when it could not run or most of its users
 * could not connect, 2 for bad options.
 */
export async function benchCommand(argv: string[]): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseBenchArgs(argv);
  } catch (err) {
    if (err instanceof BenchUsageError) {
      process.stderr.write(`parley bench: ${err.message}\nRun 'parley bench --help' for the options.\n`);
      return 2;
    }
    throw err;
  }
  if (options.help) {
    process.stdout.write(BENCH_USAGE);
    return 0;
  }
  try {
    const run = await runBench(options);
    process.stdout.write(formatTable(run.result));
    process.stdout.write(`\nreport: ${run.jsonPath}, ${run.htmlPath}\n`);
    const refused = mostlyRefused(run.result.clients);
    if (refused) process.stderr.write(`parley bench: ${refused}\n`);
    return refused ? 1 : 0;
  } catch (err) {
    if (err instanceof BenchUsageError) {
      process.stderr.write(`parley bench: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`parley bench: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
