import http from 'node:http';
import type { ServerMetrics } from '../observability/metrics.js';
import { answerMetrics, type MetricsEndpoint } from './health.js';
import { listenOn, type HttpListener } from './listen.js';

/**
 * metrics.listen: a plain HTTP listener that serves GET /metrics and nothing else, so the
 * metrics can stay off the public port (bind it to loopback or a management network; it has
 * no authentication). Short timeouts: a scraper sends one small request.
 */
export function listenMetrics(host: string, port: number, endpoint: MetricsEndpoint, metrics: ServerMetrics): Promise<HttpListener> {
  const httpServer = http.createServer({ headersTimeout: 10_000, requestTimeout: 10_000, keepAliveTimeout: 5_000, maxHeaderSize: 8 * 1024 }, (req, res) => {
    const route = req.url === '/metrics' ? 'metrics' : 'other';
    res.once('finish', () => metrics.httpRequest(route, res.statusCode));
    if (route === 'metrics' && (req.method === 'GET' || req.method === 'HEAD')) {
      answerMetrics(res, endpoint);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('not found: this listener serves /metrics only\n');
  });
  httpServer.setTimeout(30_000);
  return listenOn(httpServer, host, port);
}
