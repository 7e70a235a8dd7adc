/**
 * The cluster's health as /healthz and /readyz see it. Readiness checks are synchronous (http/
 * health.ts), a round trip to Redis is not, so a timer pings every `intervalMs` and the checks
 * read the last answer. A node is healthy while its lease is live and the last ping, no older
 * than `staleMs`, succeeded: a dead bus turns a node unready within about a second and a half
 * (the failure other systems report: health green while the bus was dead, centrifugo#1189).
 */
import type { Cluster } from './cluster.js';

export interface ClusterHealthReport {
  ok: boolean;
  /** This node's id (the single-process default has one too). */
  node: string;
  live: boolean;
  /** Milliseconds of the last ping's round trip, or null before the first answer. */
  pingMs: number | null;
  problem: string | null;
}

export class ClusterHealth {
  private lastOkAt = 0;
  private lastMs: number | null = null;
  private lastError: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private inFlight = false;

  constructor(
    private readonly cluster: Cluster,
    private readonly clock: () => number = () => performance.now(),
    private readonly intervalMs = 1000,
    private readonly staleMs = 3000,
  ) {}

  /** Pings once now (resolves when answered) and then every intervalMs. */
  async start(): Promise<void> {
    await this.ping();
    this.timer = setInterval(() => void this.ping(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async ping(): Promise<void> {
    // A ping still waiting (Redis stalled) is not joined by another: staleness reports it.
    if (this.inFlight) return;
    this.inFlight = true;
    try {
      const result = await this.cluster.ping();
      this.lastMs = result.ms;
      if (result.ok) {
        this.lastOkAt = this.clock();
        this.lastError = null;
      } else {
        this.lastError = result.error ?? 'ping failed';
      }
    } finally {
      this.inFlight = false;
    }
  }

  /** Null while healthy, else a sentence saying what is wrong. */
  problem(): string | null {
    if (!this.cluster.nodes.live) return `node ${this.cluster.nodes.id} is fenced (its lease was lost)`;
    if (this.lastError !== null) return `cluster unreachable: ${this.lastError}`;
    const age = this.clock() - this.lastOkAt;
    if (age > this.staleMs) return `cluster has not answered a ping for ${Math.round(age)} ms`;
    return null;
  }

  report(): ClusterHealthReport {
    const problem = this.problem();
    return { ok: problem === null, node: this.cluster.nodes.id, live: this.cluster.nodes.live, pingMs: this.lastMs, problem };
  }
}
