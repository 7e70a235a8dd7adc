/**
 * The primary process of `parley serve --workers N`. It serves nothing itself: node:cluster
 * shares the listening sockets (each worker listens, the primary holds the sockets and hands
 * each new connection to a worker in turn), so clients and a load balancer see one address.
 * The primary:
 * - starts the workers, the first alone (it migrates the store), then the others together, each
 *   a node of the network with its own node id;
 * - prints the start-up message once all listen;
 * - starts a worker that died again in its slot, after a back-off, and gives a slot up after
 *   too many quick deaths (restart-policy.ts);
 * - passes SIGTERM/SIGINT on (a graceful stop of every worker) and SIGHUP (TLS reload), and
 *   exits once all have stopped;
 * - relays readiness (each worker's to all) and adds the workers' metrics up for /metrics
 *   (machine-metrics.ts).
 */
import cluster, { type Worker } from 'node:cluster';
import { drainSeconds } from '../../app.js';
import type { Config } from '../../config/schema.js';
import type { Logger } from '../../observability/logger.js';
import { readyMessage } from '../ready-message.js';
import { isWorkerMessage, WORKER_SLOT_ENV, type PrimaryMessage, type WorkerHealth, type WorkerMessage } from './messages.js';
import { MachineMetrics, type MetricsJson } from './machine-metrics.js';
import { RestartPolicy } from './restart-policy.js';
import { EXIT_FENCED } from './worker.js';

const WHOLE_INTERVAL_MS = 1000;
/** On top of shutdown_timeout_seconds: a worker not gone by then is killed. */
const STOP_GRACE_MS = 10_000;
/** A running worker that has not sent its registry by then fails the scrape (not a partial sum). */
const COLLECT_TIMEOUT_MS = 4000;

/** One scrape being collected: the registries still expected, by worker id. */
interface Collection {
  readonly waiting: Set<number>;
  readonly got: Map<number, MetricsJson>;
  done(err?: Error): void;
}

interface Slot {
  readonly slot: number;
  worker: Worker | null;
  startedAt: number;
  health: WorkerHealth | null;
  restartTimer: NodeJS.Timeout | null;
  givenUp: boolean;
}

export interface SupervisorOptions {
  count: number;
  config: Config;
  logger: Logger;
  /** Where the start-up message goes. @default stdout */
  print?: (text: string) => void;
  policy?: RestartPolicy;
}

/** Runs the workers until they have all stopped; resolves with the exit code for the primary. */
export function superviseWorkers(options: SupervisorOptions): Promise<number> {
  return new Supervisor(options).run();
}

class Supervisor {
  private readonly slots: Slot[];
  private readonly policy: RestartPolicy;
  private readonly metrics = new MachineMetrics();
  private readonly collections = new Map<number, Collection>();
  private nextCollection = 1;
  private stopping = false;
  private started = false;
  private finish: (code: number) => void = () => {};
  private exitCode = 0;

  constructor(private readonly options: SupervisorOptions) {
    this.policy = options.policy ?? new RestartPolicy();
    this.slots = Array.from({ length: options.count }, (_, i) => ({ slot: i + 1, worker: null, startedAt: 0, health: null, restartTimer: null, givenUp: false }));
  }

  async run(): Promise<number> {
    const done = new Promise<number>((resolve) => (this.finish = resolve));
    const { logger } = this.options;
    process.on('SIGTERM', () => this.stop('SIGTERM'));
    process.on('SIGINT', () => this.stop('SIGINT'));
    process.on('SIGHUP', () => {
      for (const s of this.slots) s.worker?.process.kill('SIGHUP');
    });
    const whole = setInterval(() => this.broadcastWhole(), WHOLE_INTERVAL_MS);

    // The first alone (it migrates the store's schema, and a configuration that cannot start,
    // a port in use or Redis refusing, fails once, not N times), then the others together.
    const [head, ...rest] = this.slots;
    const first = await this.start(head!);
    const others = first === null || this.stopping ? [] : await Promise.all(rest.map((slot) => this.start(slot)));
    if (!this.stopping) {
      const failed = first === null ? [head!] : rest.filter((_, i) => others[i] === null);
      if (failed.length > 0) {
        logger.error('worker could not start; stopping the others', { worker: failed.map((s) => s.slot).join(',') });
        this.exitCode = 1;
        this.stop('start failed');
      } else {
        this.started = true;
        const nodes = this.slots.map((s) => s.health?.node ?? '?');
        (this.options.print ?? ((t) => void process.stdout.write(t)))(readyMessage(first!, this.options.config, { count: this.slots.length, nodes }));
      }
    }
    const code = await done;
    clearInterval(whole);
    return code;
  }

  /** Forks the slot's worker; resolves with its ready message, or null if it exited first. */
  private start(slot: Slot): Promise<(WorkerMessage & { type: 'parley:ready' }) | null> {
    const worker = cluster.fork({ [WORKER_SLOT_ENV]: String(slot.slot) });
    slot.worker = worker;
    slot.startedAt = Date.now();
    slot.health = null;
    // An IPC send to a worker that is going away fails with an 'error' event: nothing to do, its 'exit' follows.
    worker.on('error', (err) => this.options.logger.debug('worker channel error', { worker: slot.slot, err }));
    return new Promise((resolve) => {
      let ready = false;
      worker.on('message', (message: unknown) => {
        if (!isWorkerMessage(message)) return;
        if (message.type === 'parley:ready') {
          ready = true;
          slot.health = { slot: slot.slot, node: message.node, pid: message.pid, problems: [] };
          this.options.logger.info(this.started ? 'worker restarted' : 'worker started', { worker: slot.slot, pid: message.pid, node: message.node });
          resolve(message);
        } else if (message.type === 'parley:health') {
          if (slot.worker === worker) slot.health = { slot: slot.slot, node: message.node, pid: worker.process.pid ?? 0, problems: message.problems };
        } else if (message.type === 'parley:registry') {
          this.collected(worker.id, message.id, message.metrics);
        } else {
          this.answerMetrics(worker, message.id);
        }
      });
      worker.once('exit', (code, signal) => {
        if (slot.worker === worker) {
          slot.worker = null;
          slot.health = null;
        }
        // A scrape under way does not wait for it; its counters so far stay in the machine's.
        for (const [id, collection] of this.collections) if (collection.waiting.delete(worker.id) && collection.waiting.size === 0) this.finishCollection(id);
        this.metrics.retire(worker.id).catch((err: unknown) => this.options.logger.warn('worker metrics not kept', { worker: slot.slot, err }));
        if (!ready) resolve(null);
        this.exited(slot, code, signal, ready);
      });
    });
  }

  private exited(slot: Slot, code: number | null, signal: string | null, wasReady: boolean): void {
    const { logger } = this.options;
    if (this.stopping) {
      if (this.slots.every((s) => s.worker === null)) this.finish(this.exitCode);
      return;
    }
    // During the first start, run() decides (a worker that never got ready stops everything).
    if (!this.started && !wasReady) return;
    const uptime = Date.now() - slot.startedAt;
    const delay = this.policy.exited(slot.slot, Date.now(), uptime);
    const fields = { worker: slot.slot, code, signal, uptime_ms: uptime, fenced: code === EXIT_FENCED };
    if (delay === null) {
      const { exits, windowMs } = this.policy.limit;
      logger.error(`worker keeps failing (${exits} exits within ${windowMs / 1000} s): not started again`, fields);
      slot.givenUp = true;
      if (this.slots.every((s) => s.givenUp)) {
        this.exitCode = 1;
        this.stop('every worker failed');
      }
      return;
    }
    logger.warn('worker exited; starting it again', { ...fields, restart_in_ms: delay });
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = null;
      if (!this.stopping) void this.start(slot);
    }, delay);
  }

  /** Every worker stops gracefully; those still there after the grace period are killed. */
  private stop(why: string): void {
    if (this.stopping) return;
    this.stopping = true;
    this.options.logger.info('shutting down', { signal: why, workers: this.slots.filter((s) => s.worker).length });
    for (const slot of this.slots) {
      if (slot.restartTimer) clearTimeout(slot.restartTimer);
      slot.restartTimer = null;
      slot.worker?.process.kill('SIGTERM');
    }
    if (this.slots.every((s) => s.worker === null)) {
      this.finish(this.exitCode);
      return;
    }
    setTimeout(() => {
      for (const slot of this.slots) {
        if (!slot.worker) continue;
        this.options.logger.warn('worker did not stop in time; killed', { worker: slot.slot, pid: slot.worker.process.pid });
        slot.worker.process.kill('SIGKILL');
      }
    }, (drainSeconds(this.options.config) + this.options.config.shutdown_timeout_seconds) * 1000 + STOP_GRACE_MS).unref();
  }

  /** Every worker learns the readiness of all (their /readyz answers for the machine). */
  private broadcastWhole(): void {
    const workers = this.slots.flatMap((s) => (s.health ? [s.health] : []));
    const message: PrimaryMessage = { type: 'parley:whole', workers };
    for (const slot of this.slots) if (slot.worker?.isConnected()) slot.worker.send(message);
  }

  private answerMetrics(worker: Worker, id: number): void {
    const reply = (message: PrimaryMessage) => {
      if (worker.isConnected()) worker.send(message);
    };
    this.collect().then(
      (text) => reply({ type: 'parley:metrics', id, text }),
      (err: unknown) => reply({ type: 'parley:metrics', id, error: err instanceof Error ? err.message : String(err) }),
    );
  }

  /** Every ready worker's registry (a worker still starting has nothing to count yet), added up. */
  private collect(): Promise<string> {
    const id = this.nextCollection++;
    const ready = this.slots.filter((s) => s.worker?.isConnected() && s.health !== null);
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.collections.delete(id);
        const late = ready.filter((s) => s.worker && collection.waiting.has(s.worker.id)).map((s) => s.slot);
        reject(new Error(`worker ${late.join(', ')} did not send its metrics within ${COLLECT_TIMEOUT_MS} ms`));
      }, COLLECT_TIMEOUT_MS);
      const collection: Collection = {
        waiting: new Set(ready.map((s) => s.worker!.id)),
        got: new Map(),
        done: (err) => {
          clearTimeout(timer);
          if (err) reject(err);
          else this.metrics.render(collection.got).then(resolve, reject);
        },
      };
      this.collections.set(id, collection);
      for (const slot of ready) slot.worker!.send({ type: 'parley:registry?', id } satisfies PrimaryMessage);
      if (ready.length === 0) this.finishCollection(id);
    });
  }

  private collected(worker: number, id: number, metrics: MetricsJson): void {
    const collection = this.collections.get(id);
    if (!collection?.waiting.delete(worker)) return;
    collection.got.set(worker, metrics);
    if (collection.waiting.size === 0) this.finishCollection(id);
  }

  private finishCollection(id: number): void {
    const collection = this.collections.get(id);
    if (!collection) return;
    this.collections.delete(id);
    collection.done();
  }
}
