import type { IncomingMessage } from 'node:http';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Server } from '../core/server.js';
import { DisconnectReason } from '../core/errors.js';
import { normalizeAddress, type AddressSet } from '../limits/cidr.js';
import { forwardedClientAddress } from './forwarded.js';

/** How long a refused connection may take to receive its answer (as for IRC over TCP). */
const REFUSAL_GRACE_MS = 1000;

/**
 * The same admission as IRC over TCP (`Server.admit`: DLINE, connections open at once and per
 * minute per address) for every HTTP connection. Each socket counts once and is released once,
 * when it closes:
 * - from a direct peer: at the TCP connection, whatever it is used for (requests, keep-alive,
 *   a WebSocket upgrade);
 * - from a trusted proxy, whose connections carry many clients: not at the connection, but at
 *   a WebSocket upgrade, under the client address X-Forwarded-For names.
 */
export class HttpAdmission {
  constructor(
    private readonly server: Server,
    private readonly trustedProxies: AddressSet,
  ) {}

  /** At the TCP connection (before TLS): true if it may go on; else it is answered and closed. */
  connection(socket: net.Socket, secure: boolean): boolean {
    const peer = peerAddress(socket);
    if (this.trustedProxies.has(peer)) return true;
    const refusal = this.count(socket, peer);
    if (refusal === null) return true;
    refuse(socket, refusal, secure);
    return false;
  }

  /**
   * At a WebSocket upgrade: the client's address (the peer, or the client behind a trusted
   * proxy, then counted from here on), or why it is refused (the caller answers).
   */
  upgrade(req: IncomingMessage, socket: Duplex): { address: string } | { refusal: string } {
    const peer = peerAddress(req.socket);
    const address = forwardedClientAddress(peer, req.headers['x-forwarded-for'], this.trustedProxies);
    if (!this.trustedProxies.has(peer)) return { address }; // counted at the connection
    const refusal = this.count(socket, address);
    return refusal === null ? { address } : { refusal };
  }

  private count(socket: Duplex, address: string): string | null {
    const refusal = this.server.admit(address);
    if (refusal === null) socket.once('close', () => this.server.release(address));
    return refusal;
  }
}

/** An HTTP answer to a refused connection or upgrade: 403 for a D-line, 429 for the limits. */
export function refusalResponse(refusal: string): string {
  const status = refusal.startsWith(DisconnectReason.DLined) ? '403 Forbidden' : '429 Too Many Requests';
  return httpResponse(status, refusal);
}

/** A complete `Connection: close` response with a one-line text body. */
export function httpResponse(status: string, text: string, headers: readonly string[] = []): string {
  const body = `${text}\n`;
  const head = [`HTTP/1.1 ${status}`, 'Content-Type: text/plain; charset=utf-8', `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close', ...headers];
  return `${head.join('\r\n')}\r\n\r\n${body}`;
}

/** Plain HTTP gets the answer; HTTPS is just destroyed (no handshake spent on a refused client). */
function refuse(socket: net.Socket, refusal: string, secure: boolean): void {
  if (secure) {
    socket.on('error', () => {});
    socket.destroy();
    return;
  }
  endSoon(socket, refusalResponse(refusal));
}

/** Send a final answer and close: when the peer closes its side, or after a grace period. */
export function endSoon(socket: Duplex, response: string): void {
  socket.on('error', () => {});
  socket.end(response);
  socket.resume(); // read and drop what comes, so the peer's FIN is seen
  socket.once('end', () => socket.destroy());
  setTimeout(() => socket.destroy(), REFUSAL_GRACE_MS).unref();
}

const peerAddress = (socket: net.Socket): string => normalizeAddress(socket.remoteAddress ?? '0.0.0.0');
