// Preloaded into the Parley server by the bench (node --import), never by Parley itself:
// on SIGUSR2 it writes the process's memory figures to $BENCH_HEAP_FILE. Nothing runs
// otherwise, and nothing is forced (no GC).
import { writeFileSync } from 'node:fs';
import v8 from 'node:v8';

const file = process.env.BENCH_HEAP_FILE;
if (file) {
  process.on('SIGUSR2', () => {
    const heap = v8.getHeapStatistics();
    const usage = process.memoryUsage();
    writeFileSync(
      file,
      JSON.stringify({
        at: Date.now(),
        rss: usage.rss,
        heapUsed: usage.heapUsed,
        heapTotal: usage.heapTotal,
        external: usage.external,
        arrayBuffers: usage.arrayBuffers,
        totalPhysicalSize: heap.total_physical_size,
      }),
    );
  });
}
