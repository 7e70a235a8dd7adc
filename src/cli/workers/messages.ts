/**
 * What the primary of `parley serve --workers` and its workers say to each other over the
 * node:cluster IPC channel. Every message has a `type` starting with `parley:`.
 */
import type { MetricsJson } from './machine-metrics.js';

/** A listener as the start-up message needs it (transport/listeners.ts `Listener`, minus close). */
export interface ListenerInfo {
  readonly kind: 'tcp' | 'tls';
  readonly proxy: boolean;
  readonly host: string;
  readonly port: number;
}

export interface AddressInfo {
  readonly host: string;
  readonly port: number;
}

/** The readiness of one worker, as it last reported it. */
export interface WorkerHealth {
  /** 1-based slot: the primary restarts a dead worker into the same slot (with a new node id). */
  readonly slot: number;
  readonly node: string;
  readonly pid: number;
  /** Its own readiness problems (store, shutdown, cluster); empty when ready. */
  readonly problems: readonly string[];
}

export type WorkerMessage =
  /** Started and listening: its node id and where the (shared) listeners are. */
  | { type: 'parley:ready'; node: string; pid: number; listeners: ListenerInfo[]; http: AddressInfo | null; metricsHttp: AddressInfo | null }
  /** Every second: its own readiness. */
  | { type: 'parley:health'; node: string; problems: string[] }
  /** A scrape of /metrics reached this worker: the whole machine's metrics, please. */
  | { type: 'parley:metrics?'; id: number }
  /** This worker's own registry, asked for by `parley:registry?`. */
  | { type: 'parley:registry'; id: number; metrics: MetricsJson };

export type PrimaryMessage =
  /** Every second, to every worker: the readiness of all workers running now. */
  | { type: 'parley:whole'; workers: WorkerHealth[] }
  | { type: 'parley:metrics'; id: number; text: string }
  | { type: 'parley:metrics'; id: number; error: string }
  /** The primary collects every running worker's registry for a scrape. */
  | { type: 'parley:registry?'; id: number };

const isObject = (m: unknown): m is { type: unknown } => typeof m === 'object' && m !== null && 'type' in m;

export function isWorkerMessage(m: unknown): m is WorkerMessage {
  return isObject(m) && (m.type === 'parley:ready' || m.type === 'parley:health' || m.type === 'parley:metrics?' || m.type === 'parley:registry');
}

export function isPrimaryMessage(m: unknown): m is PrimaryMessage {
  return isObject(m) && (m.type === 'parley:whole' || m.type === 'parley:metrics' || m.type === 'parley:registry?');
}

/**
 * Set by the primary in each worker's environment: the worker's slot. Not a PARLEY_ variable
 * of the configuration (the loader refuses unknown ones), so serve.ts takes it out before
 * loading the configuration.
 */
export const WORKER_SLOT_ENV = 'PARLEY_WORKER_SLOT';
