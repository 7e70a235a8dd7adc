// Many clients at once: run a task for each index with at most `concurrency` in flight.
//
// The client is Parley's own bench client, BenchConn (src/bench/conn.ts), compiled to dist/ by
// `npm run build` (`npm run bench` builds first). Every client of the suite is made here, so this
// is where a missing or stale build is caught: the run ends with a message, not a stack trace.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const CONN_MODULE = new URL('../../dist/bench/conn.js', import.meta.url);

async function loadBenchConn() {
  if (!existsSync(fileURLToPath(CONN_MODULE))) stop('dist/ is missing: run npm run build');
  const { BenchConn } = await import(CONN_MODULE.href);
  // resume() came with what this suite needs (lazy readers): a build without it is older.
  if (typeof BenchConn?.prototype.resume !== 'function') stop('dist/ is out of date: run npm run build');
  return BenchConn;
}

function stop(message) {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(1);
}

const BenchConn = await loadBenchConn();

/**
 * Run `task(i)` for i in [0, count) with at most `concurrency` running. Stops starting new
 * tasks after `deadlineMs`. Resolves to { results, failures, elapsedMs } where results[i] is the
 * task's value (undefined if it failed or never started).
 */
export async function runBounded({ count, concurrency, deadlineMs, task, onProgress }) {
  const started = Date.now();
  const results = new Array(count);
  const failures = [];
  let next = 0;
  let done = 0;
  const lane = async () => {
    while (next < count) {
      const i = next++;
      if (Date.now() - started > deadlineMs) {
        failures.push({ index: i, error: 'not started: deadline passed' });
        continue;
      }
      try {
        results[i] = await task(i);
      } catch (err) {
        failures.push({ index: i, error: err instanceof Error ? err.message : String(err) });
      }
      done++;
      onProgress?.(done, failures.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  return { results, failures, elapsedMs: Date.now() - started };
}

/**
 * Open `count` registered clients (BenchConn) on 127.0.0.1:port, named `nick(i)` (default
 * prefix0, prefix1, ...), optionally joined to a room. An attempt that fails or gets no answer
 * in `timeoutMs` is retried up to `attempts` times in all, under a new nick (the server may
 * still hold the old one). `clients` are the ones that opened; `byIndex[i]` is client i, or
 * undefined if it could not be opened.
 */
export async function openClients({
  port,
  count,
  prefix,
  nick = (i) => `${prefix}${i}`,
  concurrency,
  timeoutMs = 15_000,
  attempts = 3,
  deadlineMs = 240_000,
  join = null,
  onProgress,
}) {
  const target = { host: '127.0.0.1', port, tls: false, ws: null };
  let retries = 0;
  const { results, failures, elapsedMs } = await runBounded({
    count,
    concurrency,
    deadlineMs,
    onProgress,
    task: async (i) => {
      for (let attempt = 1; ; attempt++) {
        const client = new BenchConn(target, attempt === 1 ? nick(i) : `${nick(i)}_${attempt}`);
        try {
          await client.open(timeoutMs);
          if (join) await client.join(join, timeoutMs);
          return client;
        } catch (err) {
          client.close();
          if (attempt >= attempts) throw err;
          retries++;
        }
      }
    },
  });
  return { clients: results.filter(Boolean), byIndex: results, failures, retries, elapsedMs };
}

/** Count the distinct failure messages: "ECONNRESET x 12". */
export function summarizeFailures(failures, limit = 5) {
  const counts = new Map();
  for (const f of failures) counts.set(f.error, (counts.get(f.error) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]).slice(0, limit).map(([error, n]) => `${error} x ${n}`);
}
