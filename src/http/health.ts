import type { ServerResponse } from 'node:http';
import type { Server } from '../core/server.js';

/**
 * One condition /readyz requires. `problem` returns null while it holds, else a sentence
 * saying what is wrong. app.ts adds its own (shutting down); the cluster adds the bus and lease.
 */
export interface ReadinessCheck {
  readonly name: string;
  problem(): string | null;
}

/** The store: history commits succeed and a networked store has its database. */
export function storeReadiness(server: Server): ReadinessCheck {
  return {
    name: 'store',
    problem() {
      const failingSince = server.history.storeFailingSince;
      if (failingSince !== null) return `history store failing since ${new Date(failingSince).toISOString()}: messages are refused`;
      const connection = server.store.health?.() ?? { ok: true };
      return connection.ok ? null : `store unreachable: ${connection.error}`;
    },
  };
}

/**
 * GET /readyz: 200 `{"status":"ready","checks":{...}}` when every check holds, else 503 with
 * `"status":"unavailable"` and `problems`, one sentence per failing check. A load balancer
 * sends new clients only to ready nodes; /healthz (liveness) stays 200 meanwhile unless the
 * store is failing.
 */
export function answerReadiness(res: ServerResponse, checks: readonly ReadinessCheck[]): void {
  const results: Record<string, string> = {};
  const problems: string[] = [];
  for (const check of checks) {
    let problem: string | null;
    try {
      problem = check.problem();
    } catch (err) {
      problem = `check failed: ${err instanceof Error ? err.message : String(err)}`;
    }
    results[check.name] = problem === null ? 'ok' : 'failing';
    if (problem !== null) problems.push(`${check.name}: ${problem}`);
  }
  const ready = problems.length === 0;
  const body = JSON.stringify(ready ? { status: 'ready', checks: results } : { status: 'unavailable', checks: results, problems });
  res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(body);
}

/** What serves GET /metrics (observability/prometheus.ts `Metrics`). */
export interface MetricsEndpoint {
  readonly contentType: string;
  render(): Promise<string>;
}

/** GET /metrics in the Prometheus text format (version 0.0.4). */
export function answerMetrics(res: ServerResponse, endpoint: MetricsEndpoint): void {
  endpoint.render().then(
    (text) => {
      res.writeHead(200, { 'content-type': endpoint.contentType, 'cache-control': 'no-store' });
      res.end(text);
    },
    (err: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`metrics could not be collected: ${err instanceof Error ? err.message : String(err)}\n`);
    },
  );
}
