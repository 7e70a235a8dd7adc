import type http from 'node:http';
import type net from 'node:net';

export interface HttpListener {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Listen on host:port; resolves once bound (after `onBound`, which sees the real address) with
 * a listener whose close also ends open keep-alive connections.
 */
export function listenOn(httpServer: http.Server, host: string, port: number, onBound: (address: net.AddressInfo) => void = () => {}): Promise<HttpListener> {
  return new Promise((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen({ host, port }, () => {
      httpServer.off('error', reject);
      const address = httpServer.address() as net.AddressInfo;
      onBound(address);
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
