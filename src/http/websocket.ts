import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import type { Server } from '../core/server.js';
import { MAX_LINE_BYTES, MAX_TAGS_BYTES } from '../protocol/index.js';
import { WebSocketConnection } from '../transport/websocket-connection.js';

/** IRCv3 WebSocket subprotocols; without one, text frames (as most web clients expect). */
const TEXT = 'text.ircv3.net';
const BINARY = 'binary.ircv3.net';

export interface WebSocketOptions {
  secure: boolean;
  allowedOrigins: readonly string[];
  /** The client's address for a request (the peer, or a trusted proxy's X-Forwarded-For). */
  clientAddress(req: IncomingMessage): string;
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
    handleProtocols: (protocols) => (protocols.has(BINARY) ? BINARY : protocols.has(TEXT) ? TEXT : false),
  });

  return (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => {});
    if (!originAllowed(req, options.allowedOrigins)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nOrigin not allowed\n');
      return;
    }
    // The same admission as TCP: server bans (DLINE) and per-address connection limits.
    const address = options.clientAddress(req);
    const refusal = server.admit(address);
    if (refusal) {
      socket.end(`HTTP/1.1 429 Too Many Requests\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${refusal}\n`);
      return;
    }
    socket.once('close', () => server.release(address));
    wss.handleUpgrade(req, socket, head, (ws) => {
      new WebSocketConnection(ws, socket as Socket, options.secure, address, ws.protocol === BINARY, server);
    });
  };
}

/**
 * Cross-site WebSocket hijacking defence: a browser page may connect only from this server's
 * own origin or a configured one. Non-browser clients send no Origin and are let through.
 */
function originAllowed(req: IncomingMessage, allowed: readonly string[]): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (allowed.includes(origin)) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}
