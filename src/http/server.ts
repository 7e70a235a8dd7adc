import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type { Server } from '../core/server.js';
import { AddressSet } from '../limits/cidr.js';
import { HttpAdmission } from './admission.js';
import type { ClusterHealthReport } from '../cluster/health.js';
import { answerMetrics, answerReadiness, storeReadiness, type MetricsEndpoint, type ReadinessCheck } from './health.js';
import { listenOn, type HttpListener } from './listen.js';
import { createStaticHandler } from './static.js';
import { createWebSocketUpgrade, listenerOrigins } from './websocket.js';
import { UploadRoutes } from './uploads/routes.js';

export type { HttpListener } from './listen.js';

/** The HTTP listener, and where it takes uploads (soju.im/filehost) when it does. */
export interface HttpServerListener extends HttpListener {
  /** The soju.im/FILEHOST URL; null when uploads are off or the listener's origin is unknown. */
  readonly uploadUrl: string | null;
}

export interface HttpOptions {
  /** Certificate and key for HTTPS/wss; plain HTTP without. */
  tls: { cert: Buffer; key: Buffer } | null;
  /** Where the built web client is. @default web/dist in the package */
  webRoot?: string;
  /** Other browser origins that may open a WebSocket (http.allowed_origins). */
  allowedOrigins: readonly string[];
  /** This server's own origins (http.public_origin). @default null: those of the listen address */
  publicOrigins?: readonly string[] | null;
  /** Peers whose X-Forwarded-For is believed (proxy.trusted). @default none */
  trustedProxies?: AddressSet;
  /** Serves GET /metrics here; null when metrics are off or on a listener of their own. @default null */
  metrics?: MetricsEndpoint | null;
  /** What GET /readyz requires besides the store (health.ts). @default none */
  readiness?: readonly ReadinessCheck[];
  /** The cluster's last health report (cluster/health.ts), shown by /healthz and required by it. @default none */
  cluster?: () => ClusterHealthReport;
}

/** Keep-alive connections idle between requests are closed after this long (Node's default). */
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** A whole request (headers and body) must arrive within this long, at least the headers timeout. */
const REQUEST_TIMEOUT_MS = 30_000;
/** Request headers are capped at this size (431 beyond). */
const MAX_HEADER_BYTES = 16 * 1024;

/**
 * The timeouts of an HTTP connection before it is a WebSocket (ws then clears the socket's):
 * headers within limits.handshake_timeout_seconds of the connection (a silent or dribbling
 * client gets 408 and is closed), the whole request within 30 s, idle keep-alive 5 s, and no
 * socket idle for longer than the request timeout (a client that stops reading its response).
 * Node checks the first two only every connectionsCheckingInterval (30 s by default), so that
 * is a fraction of the headers timeout here.
 */
export function httpTimeouts(handshakeSeconds: number) {
  const headersTimeout = Math.max(1, Math.round(handshakeSeconds * 1000));
  const requestTimeout = Math.max(REQUEST_TIMEOUT_MS, headersTimeout);
  return {
    headersTimeout,
    requestTimeout,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.round(headersTimeout / 4))),
    idleTimeout: requestTimeout,
  };
}

/** The HTTP listener: health checks, the web client and IRC over WebSocket on the same port. */
export async function listenHttp(server: Server, host: string, port: number, options: HttpOptions): Promise<HttpServerListener> {
  const serveStatic = createStaticHandler(options.webRoot);
  // POST /upload and GET /uploads/<id> (http/uploads/), when uploads.enabled.
  const uploads = server.config.uploads.enabled ? new UploadRoutes(server, server.config.uploads, options.trustedProxies) : null;
  await uploads?.sweep();
  const metrics = options.metrics ?? null;
  const readiness = [storeReadiness(server), ...(options.readiness ?? [])];
  const handler: http.RequestListener = (req, res) => {
    // Route labels are a fixed set: every other path is the web client's.
    const uploadRoute = uploads?.route(req) ?? null;
    const route = uploadRoute ?? (req.url === '/healthz' ? 'healthz' : req.url === '/readyz' ? 'readyz' : req.url === '/metrics' && metrics ? 'metrics' : 'static');
    res.once('finish', () => server.metrics.httpRequest(route, res.statusCode));
    if (uploadRoute !== null) {
      uploads!.handle(req, res);
      return;
    }
    if (req.method === 'GET' && route === 'readyz') {
      answerReadiness(res, readiness);
      return;
    }
    if (req.method === 'GET' && route === 'metrics') {
      answerMetrics(res, metrics!);
      return;
    }
    if (req.method === 'GET' && req.url === '/healthz') {
      // 503 while the history store cannot commit (messages are refused meanwhile; core/history)
      // or a networked store has lost its database.
      const failingSince = server.history.storeFailingSince;
      // So is a node whose bus is unreachable or whose lease is lost: it cannot serve its users.
      const connection = server.store.health?.() ?? { ok: true };
      const cluster = options.cluster?.();
      const storeOk = failingSince === null && connection.ok;
      const ok = storeOk && (cluster?.ok ?? true);
      const body = JSON.stringify({
        status: ok ? 'ok' : 'failing',
        store: storeOk ? 'ok' : 'failing',
        ...(cluster ? { cluster: { status: cluster.ok ? 'ok' : 'failing', node: cluster.node, live: cluster.live, ping_ms: cluster.pingMs, ...(cluster.problem ? { problem: cluster.problem } : {}) } } : {}),
        ...(failingSince === null ? {} : { store_failing_since: new Date(failingSince).toISOString() }),
        ...(connection.ok ? {} : { store_error: connection.error }),
        connections: server.openConnections,
        rooms: server.rooms.size,
      });
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(body);
      return;
    }
    serveStatic(req, res);
  };
  const { idleTimeout, ...timeouts } = httpTimeouts(server.config.limits.handshake_timeout_seconds);
  const serverOptions: http.ServerOptions = { ...timeouts, maxHeaderSize: MAX_HEADER_BYTES };
  const secure = options.tls !== null;
  const httpServer = options.tls
    ? https.createServer({ ...options.tls, minVersion: 'TLSv1.2', handshakeTimeout: timeouts.headersTimeout, ...serverOptions }, handler)
    : http.createServer(serverOptions, handler);
  httpServer.setTimeout(idleTimeout); // no callback: a socket idle this long is destroyed

  // Every connection is admitted like an IRC one before HTTP (or TLS) sees it: the listeners
  // Node installed for 'connection' run only for the admitted.
  const admission = new HttpAdmission(server, options.trustedProxies ?? new AddressSet([]));
  const accept = httpServer.listeners('connection') as ((socket: net.Socket) => void)[];
  httpServer.removeAllListeners('connection');
  httpServer.on('connection', (socket: net.Socket) => {
    if (!admission.connection(socket, secure)) return;
    for (const listener of accept) listener.call(httpServer, socket);
  });

  // `Expect: 100-continue` (curl sends it for large bodies): an upload is answered 100 only once
  // its checks passed (uploads/routes.ts), so a refused one never sends its body; every other
  // request gets it at once, as without this listener.
  httpServer.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (uploads?.route(req) !== 'upload') res.writeContinue();
    handler(req, res);
  });

  const origins = new Set(options.allowedOrigins);
  httpServer.on('upgrade', createWebSocketUpgrade(server, { secure, origins, admission }));
  const listener = await listenOn(httpServer, host, port, (bound) => {
    const own = options.publicOrigins ?? listenerOrigins(host, bound.address, bound.port, secure);
    for (const origin of own) origins.add(origin);
    uploads?.bind(own[0] ?? null, origins);
    if (own.length === 0) {
      server.logger.warn('http.listen is a wildcard address and http.public_origin is not set: browsers may open WebSockets only from http.allowed_origins; set http.public_origin to the origin users load the web client from', {
        listen: `${host}:${bound.port}`,
      });
    }
  });
  return { ...listener, close: listener.close, uploadUrl: uploads?.uploadUrl ?? null };
}
