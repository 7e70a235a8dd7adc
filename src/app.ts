import { mkdirSync, readFileSync } from 'node:fs';
import type { Config } from './config/schema.js';
import { parseHostPort } from './config/load.js';
import { Server } from './core/server.js';
import { addIsupportToken, filehostToken } from './core/isupport.js';
import { openCluster } from './cluster/open.js';
import { ClusterHealth } from './cluster/health.js';
import { openStore } from './store/open.js';
import { listenHttp, type HttpListener, type HttpServerListener } from './http/server.js';
import { storeReadiness, type MetricsEndpoint, type ReadinessCheck } from './http/health.js';
import { listenMetrics } from './http/metrics-listener.js';
import { startConnectionSummary } from './observability/connection-summary.js';
import { Metrics } from './observability/prometheus.js';
import { instrumentCluster } from './observability/cluster-metrics.js';
import { AddressSet } from './limits/cidr.js';
import type { Logger } from './observability/logger.js';
import { listenTcp, listenTls, type Listener, type TlsListener, type TlsMaterial } from './transport/listeners.js';
import { addBeforeFlush, discardPending } from './transport/flush.js';

/** A started server with its listeners; what `parley serve` and the tests hold on to. */
export interface RunningServer {
  readonly server: Server;
  readonly listeners: Listener[];
  readonly http: HttpServerListener | null;
  /** The listener of metrics.listen, when set (else /metrics is on `http`). */
  readonly metricsHttp: HttpListener | null;
  readonly metrics: Metrics;
  /** This process's node id in the network (its lease; the single-process default has one too). */
  readonly node: string;
  /** What this process's own readiness checks (store, shutdown, cluster) find wrong; empty when ready. */
  problems(): string[];
  /** Re-read the TLS certificate and key; new connections use them, open ones keep theirs. */
  reloadTls(): void;
  /** Stop accepting, tell every client why, wait for them to go (bounded), close. */
  stop(reason?: string): Promise<void>;
}

export interface StartOptions {
  /** The clock for time rules (flood control, per-address limits, ban expiry); tests inject one. */
  clock?: () => number;
  /**
   * What GET /metrics serves (on http.listen or metrics.listen) instead of this process's own
   * metrics: a worker of `parley serve --workers` serves the whole machine's (cli/workers/).
   */
  metricsEndpoint?: MetricsEndpoint;
  /** Checks /readyz adds to this process's own (a worker: the other workers'). */
  readiness?: readonly ReadinessCheck[];
}

export async function startServer(config: Config, logger: Logger, options: StartOptions = {}): Promise<RunningServer> {
  mkdirSync(config.data_dir, { recursive: true });
  const store = await openStore(config, logger);
  if ((store as { walIndex?: string }).walIndex === 'memory') {
    // src/store/sqlite/store.ts walIndexFor: a mapped -shm file could end the process with SIGBUS here.
    logger.warn('SQLite WAL index kept in memory: no other process can open the database while the server runs', { data_dir: config.data_dir });
  }
  // The node registers its lease here; without cluster.url the in-memory network of one node
  // runs on the same code path. The core sees only the Cluster interface.
  let cluster;
  try {
    cluster = await openCluster({ url: config.cluster.url, prefix: config.cluster.prefix, logger });
  } catch (err) {
    await store.close();
    throw err;
  }
  const clusterHealth = new ClusterHealth(cluster);
  await clusterHealth.start();
  // Observability is passed in: the core counts through the small ServerMetrics interface.
  const metrics = new Metrics({ version: VERSION, node: config.server.name, clusterNode: cluster.nodes.id });
  // Before the Server registers its handlers: gaps, reaps and publish times are counted there.
  instrumentCluster(cluster, metrics);
  const server = new Server({ config, logger, motd: readMotd(config), store, cluster, clock: options.clock, metrics });
  metrics.setSource({
    connections: () => {
      const open: Record<string, number> = {};
      for (const session of server.sessions) if (session.connected) open[session.conn.transport] = (open[session.conn.transport] ?? 0) + 1;
      return open;
    },
    registeredUsers: () => server.counts.registered,
    rooms: () => server.rooms.size,
    storeFailing: () => server.history.storeFailingSince !== null,
    cluster: () => ({ fenced: !cluster.nodes.live, lag: cluster.bus.lag(), heldRoomMessages: heldRoomMessages(server) }),
  });
  let stopping = false;
  // The checks of this process itself; /readyz adds `options.readiness` (the other workers).
  const processChecks: ReadinessCheck[] = [
    { name: 'shutdown', problem: () => (stopping ? 'the server is shutting down' : null) },
    { name: 'cluster', problem: () => clusterHealth.problem() },
  ];
  const ownChecks = [storeReadiness(server), ...processChecks];
  const metricsEndpoint = options.metricsEndpoint ?? metrics;
  await server.roomRegistry.load();
  await server.bans.load();
  // Sign-ons, bans and WALLOPS of other nodes reach this one from here on (core/network-log.ts).
  await server.networkLog.ready;
  // History is committed before any output of the same turn is written (see core/history);
  // what it could not commit is taken back from that output.
  server.history.setOutput({ serverName: server.name, discard: discardPending });
  const removeHistoryHook = addBeforeFlush(() => server.history.commitBeforeFlush());
  const listeners: Listener[] = [];
  const tlsListeners: TlsListener[] = [];
  let http: HttpServerListener | null = null;
  let metricsHttp: HttpListener | null = null;
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
        metrics: config.metrics.enabled && config.metrics.listen === null ? metricsEndpoint : null,
        // listenHttp adds the store check itself.
        readiness: [...processChecks, ...(options.readiness ?? [])],
        cluster: () => clusterHealth.report(),
      });
      // Uploads (soju.im/filehost) are advertised only once the listener is bound: the URL
      // needs its address when http.public_origin is not set.
      if (http.uploadUrl !== null) addIsupportToken(server.isupport, filehostToken(http.uploadUrl));
      else if (config.uploads.enabled) logger.warn('uploads.enabled but no origin to advertise: set http.public_origin (http.listen is a wildcard address)', { listen: config.http.listen });
    }
    if (config.metrics.enabled && config.metrics.listen !== null) {
      const { host, port } = parseHostPort(config.metrics.listen);
      metricsHttp = await listenMetrics(host, port, metricsEndpoint, metrics);
    }
  } catch (err) {
    await Promise.all(listeners.map((l) => l.close()));
    await http?.close();
    await metricsHttp?.close();
    server.shutdown();
    removeHistoryHook();
    await server.history.flush();
    clusterHealth.stop();
    await cluster.close();
    await store.close();
    throw err;
  }

  const stopSummary = startConnectionSummary(
    () => metrics.connectionTotals(),
    () => server.sessions.size,
    logger,
  );
  const startedAt = Date.now();
  logger.info('started', {
    version: VERSION,
    node: config.server.name,
    store: config.store.url === null ? 'sqlite' : 'postgres',
    cluster: config.cluster.url === null ? 'memory' : 'redis',
    cluster_node: cluster.nodes.id,
  });

  const stop = async (reason = 'Server shutting down'): Promise<void> => {
    // /readyz answers 503 from here on, while clients are told and the listeners close.
    stopping = true;
    stopSummary();
    // Closed listeners refuse new connections at once (HTTP stays up for /readyz and /metrics;
    // its WebSocket upgrades are refused by the drain).
    const closed = Promise.all(listeners.map((l) => l.close()));
    const drainMs = drainSeconds(config) * 1000;
    if (drainMs > 0) {
      logger.info('draining', { sessions: server.sessions.size, drain_seconds: drainMs / 1000 });
      await server.drain(RESTART_REASON, drainMs);
    }
    server.shutdown(reason);
    const deadline = Date.now() + config.shutdown_timeout_seconds * 1000;
    // Closing listeners resolves once every connection is gone; don't wait past the deadline.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise((r) => (timer = setTimeout(r, Math.max(0, deadline - Date.now()))))]);
    clearTimeout(timer);
    await http?.close();
    await metricsHttp?.close();
    removeHistoryHook();
    await server.history.flush();
    // Leaves the network: the lease is deleted, so peers need not wait for it to expire.
    clusterHealth.stop();
    await cluster.close().catch((err: unknown) => logger.warn('cluster: leaving failed; peers will reap this node', { err }));
    await store.close();
    logger.info('stopped', { reason, uptime_seconds: Math.round((Date.now() - startedAt) / 1000) });
  };

  return {
    server,
    listeners,
    http,
    metricsHttp,
    metrics,
    node: cluster.nodes.id,
    problems: () => problemsOf(ownChecks),
    reloadTls: () => {
      const material = readTls();
      for (const listener of tlsListeners) listener.setCertificate(material);
    },
    stop,
  };
}

/**
 * What a drained client is told. No IRCv3 specification says "reconnect now" (the 2016 `migrate`
 * proposal was never ratified and no client implements it); every client treats ERROR and
 * the close after it as a lost connection and reconnects, and the text says so for the people.
 */
export const RESTART_REASON = 'Server restarting, please reconnect';

/** shutdown_drain_seconds, or its default: 5 s in a cluster, 0 alone (no other node to go to). */
export function drainSeconds(config: Config): number {
  return config.shutdown_drain_seconds ?? (config.cluster.url === null ? 0 : 5);
}

/** Room messages waiting in the copies' queues (core/room-log.ts): for their stored notice, or behind one. */
function heldRoomMessages(server: Server): number {
  let held = 0;
  for (const room of server.roomLogs) {
    for (const item of room.queue?.items ?? []) {
      const d = item.delivery;
      if (d?.type === 'event' && d.event.kind === 'message' && !d.own) held++;
    }
  }
  return held;
}

function problemsOf(checks: readonly ReadinessCheck[]): string[] {
  const problems: string[] = [];
  for (const check of checks) {
    const problem = check.problem();
    if (problem !== null) problems.push(`${check.name}: ${problem}`);
  }
  return problems;
}

/** The package's version (package.json is one level above src/ and dist/). */
const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

function readMotd(config: Config): string[] | null {
  if (!config.server.motd_file) return null;
  return readFileSync(config.server.motd_file, 'utf8').replace(/\r/g, '').replace(/\n$/, '').split('\n');
}
