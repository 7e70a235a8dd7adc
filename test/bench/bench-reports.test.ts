/**
 * Issue 16, `parley bench` for a new operator: a non-zero exit when most users could not
 * connect, reports in a git-ignored folder by default, throughput per second from timed
 * readings, one time axis for every chart, readable ticks and generator CPU.
 * Real servers on 127.0.0.1 port 0; every run is small and bounded.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CumulativeCounter } from '../../src/bench/cumulative.js';
import { axisSeconds, formatTick } from '../../src/bench/html.js';
import { parseBenchArgs } from '../../src/bench/options.js';
import { Progress } from '../../src/bench/progress.js';
import { generatorCpuRow } from '../../src/bench/report.js';
import { runBench } from '../../src/bench/run.js';
import { ROOT } from '../helpers/cli-server.js';
import { runParleyAsync } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const out = mkdtempSync(join(tmpdir(), 'parley-bench-reports-'));
const bench = (args: string[]) => runBench(parseBenchArgs([...args, '--out', out, '--quiet']), new Progress(false));

describe('parley bench exit status', () => {
  let server: TestServer;
  before(async () => {
    // Per-address limits on for loopback (the default exempts it): 3 connections at most.
    server = await startTestServer({ limits: { exempt_loopback: false, exempt_addresses: [], max_connections_per_address: 3 } });
  });
  after(() => server.stop());

  it('exits 1 and says so when most users could not connect; the report is still written', async () => {
    const run = await runParleyAsync(['bench', 'connect', '--port', String(server.port), '--clients', '8', '--timeout', '3', '--duration', '3', '--out', out, '--quiet']);
    assert.equal(run.status, 1, run.stdout + run.stderr);
    assert.match(run.stderr, /only [0-3] of 8 users could connect \(\d+ x [^)]+\)/);
    assert.match(run.stdout, /report: .*bench-connect\.json/);
  });

  it('exits 0 when they did', async () => {
    const run = await runParleyAsync(['bench', 'connect', '--port', String(server.port), '--clients', '3', '--timeout', '3', '--duration', '3', '--out', out, '--quiet']);
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.doesNotMatch(run.stderr, /could connect/);
  });
});

describe('parley bench reports', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.stop());

  it('go to bench-results/ by default, which git ignores', () => {
    assert.equal(parseBenchArgs(['fanout']).out, 'bench-results');
    assert.match(readFileSync(join(ROOT, '.gitignore'), 'utf8'), /^bench-results\/$/m);
  });

  it('per-second amounts come from when each reading was taken; late and stale readings do not pile up', () => {
    const counter = new CumulativeCounter();
    // 1000 a second, read at irregular times; one reading came 2.5 s late, one was stale.
    for (const [at, total] of [[-200, 0], [300, 500], [2800, 3000], [2900, 2000], [3100, 3300], [4000, 4200]] as const) counter.add(at, total);
    assert.equal(counter.readings, 5, 'the stale (lower) total is ignored');
    assert.deepEqual(counter.perSecond(0, 4000), [1000, 1000, 1000, 1000]);
    assert.equal(counter.between(0, 4000), 4000);
    assert.deepEqual(counter.perSecond(0, 3500), [1000, 1000, 1000, 500], 'the last, partial second');
    assert.equal(counter.valueAt(-1000), 0);
    assert.equal(counter.valueAt(9000), 4200);
  });

  it('fanout in window mode with a worker: no second has more than was possible, the last is not empty, one axis', async () => {
    const { result, htmlPath } = await bench(['fanout', '--port', String(server.port), '--members', '16', '--senders', '2', '--samplers', '2', '--window', '4', '--duration', '2', '--warmup', '0.3', '--workers', '1', '--pid', String(process.pid)]);
    const m = result.messages!;
    assert.equal(m.lost, 0);
    const delivered = result.series.map((row) => Number(row.delivered));
    assert.equal(delivered.length, 2);
    for (const n of delivered) {
      assert.ok(n > 0, `every measured second delivered something: ${delivered}`);
      assert.ok(n <= m.received, `a second cannot hold more than everything received: ${delivered} of ${m.received}`);
    }
    // The headline figure and the chart come from the same readings.
    const perSecond = Number(result.figures.find(([k]) => k === 'deliveries/s')![1]);
    const sum = delivered.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - perSecond * result.seconds) <= Math.max(2, sum * 0.001), `series ${sum} vs ${perSecond}/s x ${result.seconds} s`);

    // The server's CPU was sampled over the measured seconds only, on the same axis.
    const samples = result.server!.samples;
    assert.ok(samples.length >= 1);
    const axis = axisSeconds(result);
    assert.equal(axis, 2);
    for (const s of samples) assert.ok(s.t >= 0 && s.t < axis, `sample at ${s.t} s`);

    const html = readFileSync(htmlPath, 'utf8');
    for (const id of ['latency-over-time', 'throughput-over-time', 'server-cpu']) {
      const svg = html.slice(html.indexOf(`<svg id="${id}"`), html.indexOf('</svg>', html.indexOf(`<svg id="${id}"`)));
      const xTicks = [...svg.matchAll(/>(\d+)s</g)].map((match) => Number(match[1]));
      assert.deepEqual([xTicks[0], xTicks.at(-1)], [0, 2], `${id} runs 0-2 s: ${xTicks}`);
      // The y-axis title is above the plot, not rotated over the tick labels.
      assert.doesNotMatch(svg, /rotate\(-90/);
    }
    assert.match(html, /generator CPU, % of a core<\/th><td>main \d+, worker \d+</);
  });

  it('tick labels are short and generator CPU says what it counts', () => {
    assert.deepEqual([5_000_000, 2_500_000, 62_500, 1500, 100, 0.25, 0].map(formatTick), ['5M', '2.5M', '62.5k', '1.5k', '100', '0.25', '0']);
    assert.deepEqual(generatorCpuRow({ cpuShare: 0.34, saturated: false, workers: [] }), ['generator CPU, % of a core', '34']);
    assert.deepEqual(generatorCpuRow({ cpuShare: 0.004, saturated: false, workers: [{ cpuShare: 0.09 }, { cpuShare: 0.091 }] }), ['generator CPU, % of a core', 'main 0, workers 9 and 9']);
  });
});
