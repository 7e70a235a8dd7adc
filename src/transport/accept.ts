import type net from 'node:net';
import tls from 'node:tls';
import type { Server } from '../core/server.js';
import { normalizeAddress, type AddressSet } from '../limits/cidr.js';
import { MAX_PROXY_HEADER_BYTES, parseProxyHeader, type ProxyHeader } from './proxy-protocol.js';
import { ignoreSocketError, SocketConnection } from './socket-connection.js';

export interface AcceptOptions {
  /** For a proxy listener: the peers allowed to send the PROXY header. Null: no header expected. */
  trustedProxies: AddressSet | null;
  /** For a TLS listener: the current certificate (it can be swapped while running). */
  secureContext: (() => tls.SecureContext) | null;
}

/** How long a refused plain connection may take to receive its ERROR line. */
const REFUSAL_GRACE_MS = 1000;

/**
 * A new TCP connection, from accept to a session:
 *   [PROXY header: the real client address] -> admission (DLINE, per-address limits)
 *   -> [TLS handshake] -> SocketConnection.
 * Admission comes before the TLS handshake, so refused clients cost no handshake. The PROXY
 * header and the handshake each have limits.handshake_timeout_seconds.
 */
export function acceptSocket(server: Server, socket: net.Socket, options: AcceptOptions): void {
  socket.on('error', ignoreSocketError); // a reset before the session exists is nobody's business
  const peer = normalizeAddress(socket.remoteAddress ?? '0.0.0.0');
  if (!options.trustedProxies) {
    admit(server, socket, peer, false, options);
    return;
  }
  if (!options.trustedProxies.has(peer)) {
    server.logger.debug('connection refused: not a trusted proxy', { address: peer });
    refuse(socket, peer, 'Not a trusted proxy', options);
    return;
  }
  readProxyHeader(socket, timeoutMs(server)).then((result) => {
    if ('error' in result) {
      // warn: only trusted proxies get here, so this is a misconfigured load balancer.
      server.logger.warn('connection refused: bad PROXY header', { address: peer, reason: result.error });
      refuse(socket, peer, 'Bad PROXY protocol header', options);
      return;
    }
    admit(server, socket, result.header.address ?? peer, result.header.secure, options);
  });
}

function admit(server: Server, socket: net.Socket, address: string, proxiedTls: boolean, options: AcceptOptions): void {
  if (socket.destroyed) return;
  const refusal = server.refusesSessions ?? server.admit(address);
  if (refusal) {
    refuse(socket, address, refusal, options);
    return;
  }
  if (!options.secureContext) {
    // The connection releases the address when the socket closes: no listener of our own.
    new SocketConnection(socket, proxiedTls, server, address, true);
    socket.resume(); // paused if a PROXY header was read
    return;
  }
  // The raw socket closes whether or not the handshake succeeds: release from there.
  socket.once('close', () => server.release(address));
  const secure = new tls.TLSSocket(socket, { isServer: true, secureContext: options.secureContext() });
  const timer = setTimeout(() => secure.destroy(), timeoutMs(server)).unref();
  // A failed handshake is the peer's problem, not the server's.
  secure.on('error', () => secure.destroy());
  secure.once('close', () => clearTimeout(timer));
  secure.once('secure', () => {
    clearTimeout(timer);
    if (!secure.destroyed) new SocketConnection(secure, true, server, address);
  });
}

/** Plain text gets an ERROR line saying why; TLS is just closed (no handshake spent on it). */
function refuse(socket: net.Socket, address: string, reason: string, options: AcceptOptions): void {
  if (options.secureContext) {
    socket.destroy();
    return;
  }
  socket.end(`ERROR :Closing Link: ${address} (${reason})\r\n`);
  // Read (and drop) what comes, so the peer's FIN is seen even if a PROXY header paused us.
  socket.resume();
  setTimeout(() => socket.destroy(), REFUSAL_GRACE_MS).unref();
}

const timeoutMs = (server: Server) => server.config.limits.handshake_timeout_seconds * 1000;

/** Read the PROXY header and no more; the bytes after it are put back for whoever reads next. */
function readProxyHeader(socket: net.Socket, timeout: number): Promise<{ header: ProxyHeader } | { error: string }> {
  return new Promise((resolve) => {
    let data: Buffer = Buffer.alloc(0);
    const finish = (result: { header: ProxyHeader } | { error: string }) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      data = data.length === 0 ? chunk : Buffer.concat([data, chunk]);
      const parsed = parseProxyHeader(data);
      if (parsed.kind === 'incomplete') {
        if (data.length > MAX_PROXY_HEADER_BYTES) finish({ error: 'header too long' });
        return;
      }
      if (parsed.kind === 'invalid') {
        finish({ error: parsed.reason });
        return;
      }
      socket.pause();
      const rest = data.subarray(parsed.header.length);
      if (rest.length > 0) socket.unshift(rest);
      finish({ header: parsed.header });
    };
    const onClose = () => finish({ error: 'closed before the header' });
    const timer = setTimeout(() => finish({ error: 'timed out' }), timeout);
    timer.unref();
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}
