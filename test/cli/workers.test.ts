/**
 * `parley serve --workers`: the option and key, how many workers `auto` means, the
 * configurations refused before anything forks, and the restart back-off. The processes
 * themselves: test/integration/serve-workers.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseServeArgs, UsageError } from '../../src/cli/serve-args.js';
import { workerCount, workersProblem } from '../../src/cli/workers/checks.js';
import { RestartPolicy } from '../../src/cli/workers/restart-policy.js';
import { MachineMetrics } from '../../src/cli/workers/machine-metrics.js';
import { Counter, Gauge, Registry } from 'prom-client';
import { loadConfig } from '../../src/config/load.js';
import { runParley } from '../helpers/cli.js';

const config = (env: Record<string, string>, overrides = {}) => loadConfig({ env, overrides });

test('--workers N|auto sets cluster.workers; anything else is a usage error', () => {
  assert.deepEqual(parseServeArgs(['--workers', '4']).overrides, { cluster: { workers: 4 } });
  assert.deepEqual(parseServeArgs(['--workers=auto', '--cluster', 'redis://h:1/0']).overrides, { cluster: { url: 'redis://h:1/0', workers: 'auto' } });
  assert.throws(() => parseServeArgs(['--workers', 'two']), UsageError);
  assert.throws(() => parseServeArgs(['--workers', '-1']), UsageError);
});

test('cluster.workers: 1 by default; a number in range or auto, from the file, env or flags', () => {
  assert.equal(config({}).cluster.workers, 1);
  assert.equal(config({ PARLEY_CLUSTER__WORKERS: '3' }).cluster.workers, 3);
  assert.equal(config({ PARLEY_CLUSTER__WORKERS: 'auto' }).cluster.workers, 'auto');
  assert.equal(config({}, { cluster: { workers: 2 } }).cluster.workers, 2);
  assert.throws(() => config({ PARLEY_CLUSTER__WORKERS: '0' }), /cluster\.workers: must be at least 1/);
  assert.throws(() => config({ PARLEY_CLUSTER__WORKERS: '257' }), /cluster\.workers: must be at most 256/);
  assert.throws(() => config({ PARLEY_CLUSTER__WORKERS: 'many' }), /cluster\.workers: must be a number of processes from 1 to 256, or auto/);
});

test('auto is one worker per core the process may use', () => {
  assert.equal(workerCount(config({ PARLEY_CLUSTER__WORKERS: 'auto' }), () => 6), 6);
  assert.equal(workerCount(config({ PARLEY_CLUSTER__WORKERS: 'auto' }), () => 0), 1);
  assert.equal(workerCount(config({ PARLEY_CLUSTER__WORKERS: '3' }), () => 6), 3);
});

test('more than one worker needs cluster.url; a shared SQLite file on a filesystem that allows it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-workers-'));
  try {
    const base = { PARLEY_DATA_DIR: dir };
    assert.equal(workersProblem(config(base), 1), null, 'one process needs nothing');
    assert.match(workersProblem(config(base), 2)!, /2 workers need cluster\.url \(--cluster redis:\/\/\.\.\.\)/);
    // tmpdir is tmpfs or ext4 here: the WAL index is shared, so the file can be.
    assert.equal(workersProblem(config({ ...base, PARLEY_CLUSTER__URL: 'redis://127.0.0.1:6379/0' }), 2), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('parley serve --workers 2 without --cluster: a readable error, exit 2, nothing started', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-workers-'));
  try {
    const result = runParley(['serve', '--workers', '2', '--listen', '127.0.0.1:0', '--http', '127.0.0.1:0', '--data', dir]);
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /^parley serve: 2 workers need cluster\.url/);
    assert.equal(result.stdout, '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('restarts back off exponentially, reset by a long run, and a slot failing too often is given up', () => {
  const policy = new RestartPolicy({ baseMs: 100, maxMs: 1000, windowMs: 60_000, maxExits: 5 });
  let now = 1_000_000;
  assert.equal(policy.exited(1, now, 50), 100);
  assert.equal(policy.exited(1, (now += 200), 50), 200);
  assert.equal(policy.exited(1, (now += 300), 50), 400);
  assert.equal(policy.exited(2, now, 50), 100, 'slots are counted apart');
  assert.equal(policy.exited(1, (now += 500), 50), 800);
  assert.equal(policy.exited(1, (now += 900), 50), null, 'the fifth quick exit gives up');
  const fresh = new RestartPolicy({ baseMs: 100, maxMs: 1000, windowMs: 60_000, maxExits: 5 });
  for (let i = 0; i < 4; i++) fresh.exited(1, (now += 10), 10);
  assert.equal(fresh.exited(1, (now += 10), 60_000), 100, 'a worker that ran a whole window starts afresh');
  const capped = new RestartPolicy({ baseMs: 100, maxMs: 300, windowMs: 60_000, maxExits: 10 });
  const delays = Array.from({ length: 5 }, () => capped.exited(1, (now += 10), 10));
  assert.deepEqual(delays, [100, 200, 300, 300, 300]);
});

test('the machine\'s metrics: workers added up; a dead worker\'s counters stay, its gauges go', async () => {
  const worker = () => {
    const registry = new Registry();
    const counter = new Counter({ name: 'c_total', help: 'c', registers: [registry] });
    const gauge = new Gauge({ name: 'g', help: 'g', registers: [registry] });
    return { registry, counter, gauge };
  };
  const value = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
  const machine = new MachineMetrics();
  const [one, two] = [worker(), worker()];
  one.counter.inc(5);
  one.gauge.set(3);
  two.counter.inc(2);
  two.gauge.set(4);
  let text = await machine.render(new Map([[1, await one.registry.getMetricsAsJSON()], [2, await two.registry.getMetricsAsJSON()]]));
  assert.equal(value(text, 'c_total'), 7);
  assert.equal(value(text, 'g'), 7);
  // Worker 1 dies; worker 3 takes its slot and counts from 0. A late answer of worker 1 is not added again.
  const lateOne = await one.registry.getMetricsAsJSON();
  await machine.retire(1);
  const three = worker();
  three.counter.inc(1);
  three.gauge.set(1);
  text = await machine.render(new Map([[1, lateOne], [2, await two.registry.getMetricsAsJSON()], [3, await three.registry.getMetricsAsJSON()]]));
  assert.equal(value(text, 'c_total'), 8, 'never below the 7 reported before');
  assert.equal(value(text, 'g'), 5, 'gauges of running workers only');
  await machine.retire(9); // never collected: nothing to keep
  assert.equal(value(await machine.render(new Map()), 'c_total'), 5);
});
