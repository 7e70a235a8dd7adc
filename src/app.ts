import { mkdirSync, readFileSync } from 'node:fs';
import type { Config } from './config/schema.js';
import { parseHostPort } from './config/load.js';
import { Server } from './core/server.js';
import { openStore } from './store/open.js';
import { listenHttp, type HttpListener } from './http/server.js';
import { AddressSet } from './limits/cidr.js';
import type { Logger } from './observability/logger.js';
import { listenTcp, listenTls, type Listener, type TlsListener, type TlsMaterial } from './transport/listeners.js';
import { addBeforeFlush, discardPending } from './transport/flush.js';

/** A started server with its listeners; what `parley serve` and the tests hold on to. */
export interface RunningServer {
  readonly server: Server;
  readonly listeners: Listener[];
  readonly http: HttpListener | null;
  /** Re-read the TLS certificate and key; new connections use them, open ones keep theirs. */
  reloadTls(): void;
  /** Stop accepting, tell every client why, wait for them to go (bounded), close. */
  stop(reason?: string): Promise<void>;
}

export interface StartOptions {
  /** The clock for time rules (flood control, per-address limits, ban expiry); tests inject one. */
  clock?: () => number;
}

export async function startServer(config: Config, logger: Logger, options: StartOptions = {}): Promise<RunningServer> {
  mkdirSync(config.data_dir, { recursive: true });
  const store = await openStore(config, logger);
  if ((store as { walIndex?: string }).walIndex === 'memory') {
    // src/store/sqlite/store.ts walIndexFor: a mapped -shm file could end the process with SIGBUS here.
    logger.warn('SQLite WAL index kept in memory: no other process can open the database while the server runs', { data_dir: config.data_dir });
  }
  const server = new Server({ config, logger, motd: readMotd(config), store, clock: options.clock });
  await server.roomRegistry.load();
  await server.bans.load();
  // History is committed before any output of the same turn is written (see core/history);
  // what it could not commit is taken back from that output.
  server.history.setOutput({ serverName: server.name, discard: discardPending });
  const removeHistoryHook = addBeforeFlush(() => server.history.commitBeforeFlush());
  const listeners: Listener[] = [];
  const tlsListeners: TlsListener[] = [];
  let http: HttpListener | null = null;
  const readTls = (): TlsMaterial => ({
    cert: readFileSync(config.tls.cert!),
    key: readFileSync(config.tls.key!),
    ciphers: config.tls.ciphers,
  });
  const proxied = { trustedProxies: config.proxy.trusted };
  try {
    for (const address of config.listen) {
      const { host, port } = parseHostPort(address);
      listeners.push(await listenTcp(server, host, port));
    }
    for (const address of config.proxy.listen) {
      const { host, port } = parseHostPort(address);
      listeners.push(await listenTcp(server, host, port, proxied));
    }
    const tlsAddresses = [...config.tls.listen.map((a) => ({ a, proxy: false })), ...config.proxy.tls_listen.map((a) => ({ a, proxy: true }))];
    if (tlsAddresses.length > 0) {
      const material = readTls();
      for (const { a, proxy } of tlsAddresses) {
        const { host, port } = parseHostPort(a);
        const listener = await listenTls(server, host, port, material, proxy ? proxied : {});
        tlsListeners.push(listener);
        listeners.push(listener);
      }
      server.tlsPort = tlsListeners[0]!.port;
    }
    if (config.http.listen) {
      const { host, port } = parseHostPort(config.http.listen);
      http = await listenHttp(server, host, port, {
        tls: config.http.tls ? { cert: readFileSync(config.tls.cert!), key: readFileSync(config.tls.key!) } : null,
        allowedOrigins: config.http.allowed_origins,
        publicOrigins: config.http.public_origin === null ? null : [config.http.public_origin].flat(),
        trustedProxies: new AddressSet(config.proxy.trusted),
      });
    }
  } catch (err) {
    await Promise.all(listeners.map((l) => l.close()));
    await http?.close();
    server.shutdown();
    removeHistoryHook();
    await server.history.flush();
    await store.close();
    throw err;
  }

  const stop = async (reason = 'Server shutting down'): Promise<void> => {
    const closed = Promise.all(listeners.map((l) => l.close()));
    server.shutdown(reason);
    const deadline = Date.now() + config.shutdown_timeout_seconds * 1000;
    // Closing listeners resolves once every connection is gone; don't wait past the deadline.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise((r) => (timer = setTimeout(r, Math.max(0, deadline - Date.now()))))]);
    clearTimeout(timer);
    await http?.close();
    removeHistoryHook();
    await server.history.flush();
    await store.close();
  };

  return {
    server,
    listeners,
    http,
    reloadTls: () => {
      const material = readTls();
      for (const listener of tlsListeners) listener.setCertificate(material);
    },
    stop,
  };
}

function readMotd(config: Config): string[] | null {
  if (!config.server.motd_file) return null;
  return readFileSync(config.server.motd_file, 'utf8').replace(/\r/g, '').replace(/\n$/, '').split('\n');
}
