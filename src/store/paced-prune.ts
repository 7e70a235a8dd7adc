/**
 * Retention deletes are background work: they must not take the database (or, for SQLite, the
 * server's own thread) away from chat for long. Both stores delete in bounded batches, oldest
 * first, each its own transaction, and rest between batches as long as the last batch took, so
 * pruning uses at most about half of the store's time however large the backlog
 * (bench/retention-prune.mjs measures the prune time and the chat latency meanwhile).
 */
export async function deleteInPacedBatches(batchSize: number, deleteBatch: () => number | Promise<number>): Promise<number> {
  return inPacedBatches(batchSize, deleteBatch);
}

/** Runs `batch` (which handles at most `batchSize` rows) until it handles fewer, pacing as above. */
export async function inPacedBatches(batchSize: number, batch: () => number | Promise<number>): Promise<number> {
  let total = 0;
  for (;;) {
    const started = performance.now();
    const n = await batch();
    total += n;
    if (n < batchSize) return total;
    const rest = Math.max(1, performance.now() - started);
    await new Promise<void>((resolve) => setTimeout(resolve, rest));
  }
}
