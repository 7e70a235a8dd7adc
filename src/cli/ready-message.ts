/**
 * What `parley serve` prints once it listens: each address with what it is for, and where the
 * data is, so nobody has to guess which port the browser wants or which directory holds the
 * accounts.
 */
import { resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import type { AddressInfo, ListenerInfo } from './workers/messages.js';

/** Where a server listens: a RunningServer, or what a worker of `--workers` reported. */
export interface ListeningAt {
  readonly listeners: readonly ListenerInfo[];
  readonly http: AddressInfo | null;
  readonly metricsHttp: AddressInfo | null;
}

/** `--workers`: how many processes share the listeners, and their node ids. */
export interface WorkersInfo {
  readonly count: number;
  readonly nodes: readonly string[];
}

const hostForUrl = (host: string) => (host.includes(':') ? `[${host}]` : host);

export function readyMessage(running: ListeningAt, config: Config, workers?: WorkersInfo): string {
  const lines = [
    workers
      ? `Parley is running: ${workers.count} worker processes (nodes ${workers.nodes.join(', ')}) share the addresses below.`
      : 'Parley is running.',
  ];
  for (const l of running.listeners) {
    const host = hostForUrl(l.host);
    if (l.proxy) {
      // Only the load balancers in proxy.trusted can connect here; no client instructions.
      lines.push(`  IRC ${l.kind === 'tls' ? 'over TLS ' : ''}behind a PROXY-protocol load balancer, at ${host}:${l.port}`);
      continue;
    }
    const how = l.kind === 'tls' ? ` (TLS; irssi: /connect -tls ${l.host} ${l.port}; parley chat ${host}:${l.port} --tls)` : ` (irssi: /connect ${l.host} ${l.port}; parley chat ${host}:${l.port})`;
    lines.push(`  IRC ${l.kind === 'tls' ? 'over TLS ' : ''}on ${host}:${l.port}${how}`);
  }
  if (running.http) {
    const secure = config.http.tls;
    const base = `${secure ? 'https' : 'http'}://${hostForUrl(running.http.host)}:${running.http.port}`;
    lines.push(`  Web client: ${base}/`);
    lines.push(`  IRC over WebSocket: ${secure ? 'wss' : 'ws'}://${hostForUrl(running.http.host)}:${running.http.port}/ (for web IRC clients)`);
    const metrics = config.metrics.enabled && !running.metricsHttp ? ', /metrics' : '';
    lines.push(`  Health: ${base}/healthz, /readyz${metrics}`);
  }
  if (running.metricsHttp) lines.push(`  Metrics: http://${hostForUrl(running.metricsHttp.host)}:${running.metricsHttp.port}/metrics`);
  // A relative data_dir is relative to its config file, or else to the working directory
  // (config/load.ts): the absolute path settles which.
  lines.push(config.store.url ? '  Data: PostgreSQL (store.url)' : `  Data in ${resolve(config.data_dir)} (SQLite)`);
  lines.push('Press Ctrl+C to stop.');
  return lines.join('\n') + '\n';
}
