// Preloaded into the Parley server by bench/idle-memory.mjs only (node --expose-gc --import):
// on SIGUSR2 it collects garbage, then writes the memory figures (<prefix>-<n>.json, from
// $BENCH_SNAPSHOT_PREFIX), and a V8 heap snapshot (<prefix>-<n>.heapsnapshot) if the bench
// asked for one (<prefix>-<n>.want): a snapshot itself leaves RSS higher, so the figures come first.
import { existsSync, writeFileSync } from 'node:fs';
import v8 from 'node:v8';

const prefix = process.env.BENCH_SNAPSHOT_PREFIX;
let taken = 0;
if (prefix) {
  process.on('SIGUSR2', () => {
    globalThis.gc?.();
    globalThis.gc?.();
    const n = taken++;
    const usage = process.memoryUsage();
    const heap = v8.getHeapStatistics();
    const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, s.space_used_size]));
    const figures = JSON.stringify({ ...usage, totalPhysicalSize: heap.total_physical_size, spaces });
    if (existsSync(`${prefix}-${n}.want`)) v8.writeHeapSnapshot(`${prefix}-${n}.heapsnapshot`);
    writeFileSync(`${prefix}-${n}.json`, figures);
  });
}
