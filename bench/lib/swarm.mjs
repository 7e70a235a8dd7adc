// Many clients at once: run a task for each index with at most `concurrency` in flight.
import { BenchClient } from './client.mjs';

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
 * Open `count` registered clients named prefix0, prefix1, ... (or made by `make(i)`), optionally
 * joined to a room. An attempt that fails or gets no answer in `timeoutMs` is retried up to
 * `attempts` times in all, under a new nick (the server may still hold the old one).
 */
export async function openClients({ port, count, prefix, concurrency, timeoutMs = 15_000, attempts = 3, deadlineMs = 240_000, join = null, make = null, onProgress }) {
  let retries = 0;
  const { results, failures, elapsedMs } = await runBounded({
    count,
    concurrency,
    deadlineMs,
    onProgress,
    task: async (i) => {
      for (let attempt = 1; ; attempt++) {
        const client = make ? make(i) : new BenchClient({ port, nick: `${prefix}${i}` });
        if (attempt > 1) client.nick = `${client.nick}_${attempt}`;
        try {
          await client.connect(timeoutMs);
          if (join) await client.join(join, timeoutMs);
          return client;
        } catch (err) {
          client.destroy();
          if (attempt >= attempts) throw err;
          retries++;
        }
      }
    },
  });
  return { clients: results.filter(Boolean), failures, retries, elapsedMs };
}

/** Count the distinct failure messages: "ECONNRESET x 12". */
export function summarizeFailures(failures, limit = 5) {
  const counts = new Map();
  for (const f of failures) counts.set(f.error, (counts.get(f.error) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]).slice(0, limit).map(([error, n]) => `${error} x ${n}`);
}
