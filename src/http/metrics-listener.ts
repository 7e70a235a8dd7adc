import http from 'node:http';
import type net from 'node:net';
import type { ServerMetrics } from '../observability/metrics.js';
import { answerMetrics, type MetricsEndpoint } from './health.js';
import type { HttpListener } from './server.js';

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
  return new Promise((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen({ host, port }, () => {
      httpServer.off('error', reject);
      const address = httpServer.address() as net.AddressInfo;
      resolve({
        host: address.address,
        port: address.port,
        close: () =>
          new Promise<void>((done) => {
            httpServer.close(() => done());
            httpServer.closeAllConnections();
          }),
      });
    });
  });
}
