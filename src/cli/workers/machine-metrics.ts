/**
 * The metrics of `parley serve --workers` as one machine: every running worker's registry
 * (`getMetricsAsJSON`, asked for over IPC) added up by prom-client's AggregatorRegistry, each
 * metric by its `aggregator` (sum unless it says otherwise, prometheus.ts).
 *
 * A worker that dies takes its counters with it, and the new one in its slot counts from 0:
 * the machine's sums would drop, and Prometheus reads any drop as a reset, so rate() and
 * increase() would jump by everything the other workers ever counted (a false alert after a
 * restart). So the counters and histograms of a worker as last collected are kept when it
 * ends ("retired") and added in from then on: a machine's counter never goes down. What it
 * counted after its last collection is lost, as for any process that dies between scrapes.
 * Gauges are not kept: they describe what is running.
 */
import { AggregatorRegistry, type Registry } from 'prom-client';

export type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

export class MachineMetrics {
  /** Each running worker's metrics as last collected, by worker id (node:cluster's, never reused). */
  private readonly last = new Map<number, MetricsJson>();
  /** Workers retired: what they sent in a collection that was under way as they ended is not theirs to add again. */
  private readonly gone = new Set<number>();
  /** Counters and histograms of workers that ended, added up into one set. */
  private retired: MetricsJson = [];

  readonly contentType = AggregatorRegistry.PROMETHEUS_CONTENT_TYPE;

  /** The text exposition of the running workers' fresh metrics (by worker id) and the retired ones. */
  async render(fresh: ReadonlyMap<number, MetricsJson>): Promise<string> {
    const sets: MetricsJson[] = [];
    for (const [worker, metrics] of fresh) {
      if (this.gone.has(worker)) continue;
      this.last.set(worker, metrics);
      sets.push(metrics);
    }
    if (this.retired.length > 0) sets.push(this.retired);
    return AggregatorRegistry.aggregate(sets).metrics();
  }

  /** `worker` ended: what it had counted stays in the machine's counters. */
  async retire(worker: number): Promise<void> {
    this.gone.add(worker);
    const last = this.last.get(worker);
    this.last.delete(worker);
    if (!last) return;
    // `type` is the exposition's word at run time ('counter'), whatever prom-client's typings say.
    const kept = last.filter((m) => ['counter', 'histogram'].includes(m.type as unknown as string) && (m.aggregator ?? 'sum') === 'sum');
    this.retired = await AggregatorRegistry.aggregate([this.retired, kept]).getMetricsAsJSON();
  }
}
