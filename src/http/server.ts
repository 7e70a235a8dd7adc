import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server } from '../core/server.js';

export interface HttpListener {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/** The HTTP listener: health checks now; the web client and WebSocket transport build on it. */
export function listenHttp(server: Server, host: string, port: number): Promise<HttpListener> {
  const httpServer = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/healthz') {
      const body = JSON.stringify({ status: 'ok', connections: server.sessions.size, rooms: server.rooms.size });
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(body);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  });
  return new Promise((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen({ host, port }, () => {
      httpServer.off('error', reject);
      const address = httpServer.address() as AddressInfo;
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
