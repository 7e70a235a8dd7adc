import net from 'node:net';
import tls from 'node:tls';
import type { Server } from '../core/server.js';
import { AddressSet } from '../limits/cidr.js';
import { acceptSocket, type AcceptOptions } from './accept.js';

export interface Listener {
  readonly kind: 'tcp' | 'tls';
  /** True if it expects a PROXY protocol header before anything else. */
  readonly proxy: boolean;
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface TlsListener extends Listener {
  /** Swap the certificate: new connections use it; open ones keep theirs. */
  setCertificate(material: TlsMaterial): void;
}

export interface TlsMaterial {
  cert: string | Buffer;
  key: string | Buffer;
  /** OpenSSL cipher string (config tls.ciphers). */
  ciphers: string;
}

export interface ListenOptions {
  /** Peers allowed to send a PROXY header; set for proxy listeners only. */
  trustedProxies?: readonly string[];
}

/** Plain IRC over TCP. */
export function listenTcp(server: Server, host: string, port: number, options: ListenOptions = {}): Promise<Listener> {
  const trustedProxies = options.trustedProxies ? new AddressSet(options.trustedProxies) : null;
  const accept: AcceptOptions = { trustedProxies, secureContext: null };
  const netServer = net.createServer((socket) => acceptSocket(server, socket, accept));
  return start(netServer, 'tcp', trustedProxies !== null, host, port);
}

/**
 * IRC over TLS 1.2 or newer, modern ciphers only, the server's preference first. The TLS layer
 * is put on each accepted socket (accept.ts) rather than by tls.Server, so the PROXY header
 * and the admission checks come before the handshake.
 */
export async function listenTls(server: Server, host: string, port: number, material: TlsMaterial, options: ListenOptions = {}): Promise<TlsListener> {
  const trustedProxies = options.trustedProxies ? new AddressSet(options.trustedProxies) : null;
  let context = secureContext(material);
  const accept: AcceptOptions = { trustedProxies, secureContext: () => context };
  const netServer = net.createServer((socket) => acceptSocket(server, socket, accept));
  const listener = await start(netServer, 'tls', trustedProxies !== null, host, port);
  return {
    ...listener,
    setCertificate: (next: TlsMaterial) => {
      context = secureContext(next);
    },
  };
}

function secureContext(material: TlsMaterial): tls.SecureContext {
  return tls.createSecureContext({
    cert: material.cert,
    key: material.key,
    ciphers: material.ciphers,
    honorCipherOrder: true,
    minVersion: 'TLSv1.2',
  });
}

function start(netServer: net.Server, kind: 'tcp' | 'tls', proxy: boolean, host: string, port: number): Promise<Listener> {
  return new Promise((resolve, reject) => {
    netServer.once('error', reject);
    netServer.listen({ host, port, backlog: 4096 }, () => {
      netServer.off('error', reject);
      const address = netServer.address() as net.AddressInfo;
      resolve({
        kind,
        proxy,
        host: address.address,
        port: address.port,
        close: () => new Promise<void>((done) => netServer.close(() => done())),
      });
    });
  });
}
