import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Server } from '../core/server.js';
import { createStaticHandler } from './static.js';
import { createWebSocketUpgrade, type WebSocketOptions } from './websocket.js';

export interface HttpListener {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface HttpOptions extends Omit<WebSocketOptions, 'secure'> {
  /** Certificate and key for HTTPS/wss; plain HTTP without. */
  tls: { cert: Buffer; key: Buffer } | null;
  /** Where the built web client is. @default web/dist in the package */
  webRoot?: string;
}

/** The HTTP listener: health checks, the web client and IRC over WebSocket on the same port. */
export function listenHttp(server: Server, host: string, port: number, options: HttpOptions): Promise<HttpListener> {
  const serveStatic = createStaticHandler(options.webRoot);
  const handler: http.RequestListener = (req, res) => {
    if (req.method === 'GET' && req.url === '/healthz') {
      const body = JSON.stringify({ status: 'ok', connections: server.sessions.size, rooms: server.rooms.size });
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(body);
      return;
    }
    serveStatic(req, res);
  };
  const httpServer = options.tls
    ? https.createServer({ ...options.tls, minVersion: 'TLSv1.2' }, handler)
    : http.createServer(handler);
  httpServer.on('upgrade', createWebSocketUpgrade(server, { ...options, secure: options.tls !== null }));
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
