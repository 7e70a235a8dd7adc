/**
 * TCP and TLS for the client engine. With node-scram.ts, the only Node-specific files in
 * src/client: everything else runs in the browser as well.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Transport, TransportConnection, TransportHandlers } from './transport.js';

export interface NodeTransportOptions {
  host: string;
  port: number;
  tls?: boolean;
  /** Accept any certificate (self-signed test servers). @default false */
  insecure?: boolean;
  /** With tls: trust certificates signed by this CA (PEM text) instead of the system's. */
  ca?: string;
  /** Give up on a connection attempt after this long. @default 10000 */
  connectTimeoutMs?: number;
}

/**
 * Longest line we buffer. Servers send at most 8191 bytes of tags plus 512; anything longer is
 * broken or hostile and is dropped rather than grown without bound.
 */
const MAX_LINE_CHARS = 16_384;

export function nodeTransport(options: NodeTransportOptions): Transport {
  return {
    describe: () => `${options.host}:${options.port}${options.tls ? ' (TLS)' : ''}`,
    connect: (handlers) => openSocket(options, handlers),
  };
}

function openSocket(options: NodeTransportOptions, handlers: TransportHandlers): TransportConnection {
  const { host, port } = options;
  const socket: net.Socket = options.tls
    ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, rejectUnauthorized: !options.insecure, ...(options.ca ? { ca: options.ca } : {}) })
    : net.connect({ host, port });
  socket.setNoDelay(true);
  socket.setKeepAlive(true, 60_000);
  socket.setEncoding('utf8');
  let closed = false;
  let error: string | null = null;
  let buffer = '';
  let skippingLongLine = false;

  const timer = setTimeout(() => {
    error = `no connection after ${Math.round((options.connectTimeoutMs ?? 10_000) / 1000)} s`;
    socket.destroy();
  }, options.connectTimeoutMs ?? 10_000);

  socket.once(options.tls ? 'secureConnect' : 'connect', () => {
    clearTimeout(timer);
    handlers.onOpen();
  });
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    let index: number;
    while ((index = buffer.indexOf('\n')) !== -1) {
      const line = buffer.slice(0, index);
      buffer = buffer.slice(index + 1);
      if (skippingLongLine) {
        skippingLongLine = false;
        continue;
      }
      if (closed) return;
      handlers.onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
    }
    if (buffer.length > MAX_LINE_CHARS) {
      buffer = '';
      skippingLongLine = true;
    }
  });
  socket.on('error', (err: NodeJS.ErrnoException) => {
    error ??= describeError(err);
  });
  socket.on('close', () => {
    clearTimeout(timer);
    if (closed) return;
    closed = true;
    handlers.onClose(error);
  });

  return {
    send(line) {
      if (!closed && !socket.destroyed) socket.write(`${line}\r\n`);
    },
    close() {
      if (socket.connecting) {
        socket.destroy();
        return;
      }
      // end() lets queued lines (a QUIT) reach the server; destroy() follows if it hangs.
      socket.end();
      setTimeout(() => socket.destroy(), 2000).unref();
    },
  };
}

// OpenSSL's verification failures (err.code), as Node reports them for tls.connect.
const CERTIFICATE_ERRORS = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Readable reasons; cli/chat/connect-failure.ts gives hints by their first words. */
function describeError(err: NodeJS.ErrnoException): string {
  if (err.code && CERTIFICATE_ERRORS.has(err.code)) return `certificate not trusted (${err.message})`;
  if (err.code === 'ERR_SSL_WRONG_VERSION_NUMBER' || err.code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG') return 'no TLS on that port (the server answered in plain text)';
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
      return 'connection reset by the server';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `unknown host (${err.message.split(' ').pop()})`;
    case 'ETIMEDOUT':
      return 'connection timed out';
    default:
      return err.message;
  }
}
