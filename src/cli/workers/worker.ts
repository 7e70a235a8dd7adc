/**
 * One worker of `parley serve --workers N`: a full node (startServer, its own lease and node
 * id through cluster.url) whose listeners node:cluster shares with the other workers. Besides
 * serving, it tells the primary (messages.ts):
 * - once listening: its node id and addresses (the primary prints the start-up message);
 * - every second: its own readiness; the primary answers with everyone's, and this worker's
 *   /readyz requires all of them (whichever worker a balancer's check lands on answers for the
 *   machine);
 * - a scrape of /metrics: the primary collects every worker's registry (machine-metrics.ts)
 *   and the answer is the machine's, not this worker's.
 * A fenced worker (its lease lost) stops and exits with EXIT_FENCED: the primary starts a new
 * one, a new node, instead of leaving a worker that admits nobody behind a shared port.
 */
import { AggregatorRegistry } from 'prom-client';
import { startServer, type RunningServer } from '../../app.js';
import type { Config } from '../../config/schema.js';
import type { MetricsEndpoint, ReadinessCheck } from '../../http/health.js';
import type { Logger } from '../../observability/logger.js';
import { isPrimaryMessage, type WorkerHealth, type WorkerMessage } from './messages.js';

/** Exit code of a worker whose node was fenced: restart it (under a new node id). */
export const EXIT_FENCED = 3;
/** Exit code of a worker that could not start. */
export const EXIT_START_FAILED = 1;

const HEALTH_INTERVAL_MS = 1000;
/** The others' readiness older than this (the primary is gone or stuck) is itself a problem. */
const WHOLE_STALE_MS = 3000;
/** A /metrics scrape waits this long for the primary (prom-client gives workers 5 s). */
const METRICS_TIMEOUT_MS = 6000;

export async function runWorker(config: Config, logger: Logger, slot: number): Promise<void> {
  const send = (message: WorkerMessage) => {
    if (process.connected) process.send!(message);
  };
  const whole = new WholeReadiness(slot);
  const metrics = new PrimaryMetrics(send);
  process.on('message', (message: unknown) => {
    if (!isPrimaryMessage(message)) return;
    if (message.type === 'parley:whole') whole.update(message.workers);
    else if (message.type === 'parley:registry?') void answerRegistry(message.id);
    else metrics.answer(message);
  });
  // Asked for only once this worker said it is ready, so `running` is set by then.
  const answerRegistry = (id: number) =>
    running.metrics.registry.getMetricsAsJSON().then(
      (metrics) => send({ type: 'parley:registry', id, metrics }),
      // No answer: the primary's collection times out and the scrape fails, as it should.
      (err: unknown) => logger.warn('metrics could not be collected', { err }),
    );

  let running: RunningServer;
  try {
    running = await startServer(config, logger, { metricsEndpoint: metrics, readiness: [whole.check] });
  } catch (err) {
    process.stderr.write(`parley serve: worker ${slot} could not start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(EXIT_START_FAILED);
  }
  send({
    type: 'parley:ready',
    node: running.node,
    pid: process.pid,
    listeners: running.listeners.map(({ kind, proxy, host, port }) => ({ kind, proxy, host, port })),
    http: running.http && { host: running.http.host, port: running.http.port },
    metricsHttp: running.metricsHttp && { host: running.metricsHttp.host, port: running.metricsHttp.port },
  });

  let stopping = false;
  const stop = (why: string, code: number) => {
    if (stopping) return;
    stopping = true;
    clearInterval(health);
    logger.info('shutting down', { signal: why });
    running.stop('Server shutting down').finally(() => process.exit(code));
  };
  const health = setInterval(() => {
    if (!running.server.cluster.nodes.live) {
      // The core has told and dropped every client already (core/node-events.ts).
      logger.warn('worker fenced: stopping so that the primary starts a new node', { node: running.node });
      stop('fenced', EXIT_FENCED);
      return;
    }
    send({ type: 'parley:health', node: running.node, problems: running.problems() });
  }, HEALTH_INTERVAL_MS);
  process.on('SIGTERM', () => stop('SIGTERM', 0));
  // Ctrl+C in a terminal reaches the whole process group: the primary and every worker.
  process.on('SIGINT', () => stop('SIGINT', 0));
  // The primary is gone (killed): nobody would restart or stop this worker; leave cleanly.
  process.on('disconnect', () => stop('primary gone', 0));
  process.on('SIGHUP', () => {
    try {
      running.reloadTls();
      logger.info('tls certificate reloaded');
    } catch (err) {
      logger.error('tls certificate reload failed', { err });
    }
  });
}

/** The other workers' readiness, as the primary last told it; a /readyz check. */
class WholeReadiness {
  private workers: readonly WorkerHealth[] = [];
  private at = Date.now();

  constructor(private readonly slot: number) {}

  update(workers: readonly WorkerHealth[]): void {
    this.workers = workers;
    this.at = Date.now();
  }

  readonly check: ReadinessCheck = {
    name: 'workers',
    problem: () => {
      const age = Date.now() - this.at;
      if (age > WHOLE_STALE_MS) return `no word from the primary process for ${age} ms`;
      // This worker's own checks are the others in the list; here only the other workers.
      const failing = this.workers.filter((w) => w.slot !== this.slot && w.problems.length > 0);
      if (failing.length === 0) return null;
      return failing.map((w) => `worker ${w.slot} (node ${w.node}): ${w.problems.join('; ')}`).join('; ');
    },
  };
}

/** /metrics in a worker: the primary's aggregate of every worker. */
class PrimaryMetrics implements MetricsEndpoint {
  readonly contentType = AggregatorRegistry.PROMETHEUS_CONTENT_TYPE;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve(text: string): void; reject(err: Error): void; timer: NodeJS.Timeout }>();

  constructor(private readonly send: (message: WorkerMessage) => void) {}

  render(): Promise<string> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error('the primary process did not answer'));
      }, METRICS_TIMEOUT_MS);
      this.waiting.set(id, { resolve, reject, timer });
      this.send({ type: 'parley:metrics?', id });
    });
  }

  answer(message: { id: number; text: string } | { id: number; error: string }): void {
    const waiting = this.waiting.get(message.id);
    if (!waiting) return;
    this.waiting.delete(message.id);
    clearTimeout(waiting.timer);
    if ('text' in message) waiting.resolve(message.text);
    else waiting.reject(new Error(message.error));
  }
}
