import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import type { Server } from '../core/server.js';
import { AddressSet, parseIp } from '../limits/cidr.js';
import { MAX_LINE_BYTES, MAX_TAGS_BYTES } from '../protocol/index.js';
import { WebSocketConnection } from '../transport/websocket-connection.js';
import { endSoon, httpResponse, refusalResponse, type HttpAdmission } from './admission.js';

/** IRCv3 WebSocket subprotocols; without one, text frames (as most web clients expect). */
const TEXT = 'text.ircv3.net';
const BINARY = 'binary.ircv3.net';

export interface WebSocketOptions {
  secure: boolean;
  /** Browser origins that may open a WebSocket: this server's own and http.allowed_origins. */
  origins: ReadonlySet<string>;
  /** Per-address admission, shared with the HTTP listener's connections. */
  admission: HttpAdmission;
}

/**
 * Accepts IRC-over-WebSocket upgrades on the HTTP listener. One WebSocket message is one IRC
 * line, so the payload limit is one maximal line; the same Session as TCP handles it.
 */
export function createWebSocketUpgrade(server: Server, options: WebSocketOptions) {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_TAGS_BYTES + 1 + MAX_LINE_BYTES,
    perMessageDeflate: false,
    // The first one the client lists that the server speaks (IRCv3 WebSocket: the client's
    // order is its preference). The Set keeps the header's order.
    handleProtocols: (protocols) => [...protocols].find((p) => p === BINARY || p === TEXT) ?? false,
  });

  return (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => {});
    // RFC 6455 section 4.4: only version 13. (ws also accepts the hybi-08 draft, version 8.)
    if (req.headers.upgrade?.toLowerCase() === 'websocket' && req.headers['sec-websocket-version'] !== '13') {
      endSoon(socket, httpResponse('426 Upgrade Required', 'Unsupported WebSocket version', ['Sec-WebSocket-Version: 13']));
      return;
    }
    if (!originAllowed(req, options.origins)) {
      endSoon(socket, httpResponse('403 Forbidden', 'Origin not allowed'));
      return;
    }
    // The same admission as TCP (DLINE, per-address limits): done at the connection for a
    // direct peer, here for a client behind a trusted proxy.
    const fenced = server.refusesSessions;
    if (fenced !== null) {
      endSoon(socket, httpResponse('503 Service Unavailable', fenced));
      return;
    }
    const admitted = options.admission.upgrade(req, socket);
    if ('refusal' in admitted) {
      endSoon(socket, refusalResponse(admitted.refusal));
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      new WebSocketConnection(ws, socket as Socket, options.secure, admitted.address, ws.protocol === BINARY, server);
    });
  };
}

/**
 * Cross-site WebSocket hijacking defence: a browser page may connect only from this server's
 * own origin or a configured one. Non-browser clients send no Origin and are let through.
 * "Own" is configured or derived from the listen address, never the client-sent Host header,
 * which a DNS-rebinding page controls.
 */
function originAllowed(req: IncomingMessage, allowed: ReadonlySet<string>): boolean {
  const origin = req.headers.origin;
  return origin === undefined || allowed.has(origin);
}

const LOOPBACK = new AddressSet(['127.0.0.0/8', '::1/128']);
const WILDCARD = new Set(['', '0.0.0.0', '::']);

/**
 * The origins of pages served by a listener bound to `host` (as configured) and `bound` (the
 * address it got), for when http.public_origin is not set: the address itself, and localhost
 * on loopback. None for a wildcard address: the name users reach it by cannot be known.
 */
export function listenerOrigins(host: string, bound: string, port: number, secure: boolean): string[] {
  const scheme = secure ? 'https' : 'http';
  const origin = (name: string) => new URL(`${scheme}://${name.includes(':') ? `[${name}]` : name}:${port}`).origin;
  const origins = new Set<string>();
  if (!WILDCARD.has(bound)) origins.add(origin(bound));
  if (LOOPBACK.has(bound)) origins.add(origin('localhost'));
  // A host name in http.listen (not an IP literal) is a name its pages are loaded from.
  if (parseIp(host) === null && !WILDCARD.has(host) && !WILDCARD.has(bound)) origins.add(origin(host.toLowerCase()));
  return [...origins];
}
