import net from 'node:net';
import tls from 'node:tls';
import type { Server } from '../core/server.js';
import { SocketConnection } from './socket-connection.js';

export interface Listener {
  readonly kind: 'tcp' | 'tls';
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface TlsMaterial {
  cert: string | Buffer;
  key: string | Buffer;
}

/** Plain IRC over TCP. */
export function listenTcp(server: Server, host: string, port: number): Promise<Listener> {
  const netServer = net.createServer((socket) => new SocketConnection(socket, false, server));
  return start(netServer, 'tcp', host, port);
}

/** IRC over TLS 1.2 or newer; `setCertificate` swaps the certificate for new connections. */
export function listenTls(
  server: Server,
  host: string,
  port: number,
  material: TlsMaterial,
): Promise<Listener & { setCertificate(material: TlsMaterial): void }> {
  const tlsServer = tls.createServer({ ...material, minVersion: 'TLSv1.2' }, (socket) => {
    new SocketConnection(socket, true, server);
  });
  // A failed handshake is the peer's problem, not the server's.
  tlsServer.on('tlsClientError', () => {});
  return start(tlsServer, 'tls', host, port).then((listener) => ({
    ...listener,
    setCertificate: (next: TlsMaterial) => tlsServer.setSecureContext({ ...next, minVersion: 'TLSv1.2' }),
  }));
}

function start(netServer: net.Server, kind: 'tcp' | 'tls', host: string, port: number): Promise<Listener> {
  return new Promise((resolve, reject) => {
    netServer.once('error', reject);
    netServer.listen({ host, port, backlog: 4096 }, () => {
      netServer.off('error', reject);
      const address = netServer.address() as net.AddressInfo;
      resolve({
        kind,
        host: address.address,
        port: address.port,
        close: () => new Promise<void>((done) => netServer.close(() => done())),
      });
    });
  });
}
