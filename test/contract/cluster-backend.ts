/**
 * What the cluster contract suites (cluster-nodes, cluster-state, cluster-bus) need of a
 * backend: nodes on one network, and a little access behind the interfaces (to take a lease
 * away, to measure a stream). Each suite run makes its own backend (a unique Redis key prefix),
 * so runs never see each other's keys.
 */
import type { Cluster, ClusterOptions } from '../../src/cluster/cluster.js';
import type { ClusterEvent, Delivery } from '../../src/cluster/events.js';
import type { UserRecord } from '../../src/cluster/state.js';

export interface ClusterBackend {
  /** One more node on this backend's network. */
  open(options?: ClusterOptions): Promise<Cluster>;
  /** Deletes a node's lease behind its back (as if it had expired while the node was paused). */
  expireLease(node: string): Promise<void>;
  /** Entries a room's stream holds now. */
  logLength(room: string): Promise<number>;
  /** Closes what open() opened and removes the data. */
  cleanup(): Promise<void>;
}

/** Short leases so expiry tests take well under a second or two. */
export const FAST: ClusterOptions = { renewMs: 50, ttlMs: 400, sweepMs: 50, reapBatch: 3, reapClaimMs: 2000 };

/**
 * For suites that are not about leases (bus, shared state): a lease that a busy machine cannot
 * lose by accident (FAST's 400 ms lapsed under CI load while a test published thousands of
 * entries), still fast to sweep. Fencing tests there expire the lease on purpose (expireLease).
 */
export const STEADY: ClusterOptions = { ...FAST, renewMs: 200, ttlMs: 10_000 };

/** Polls until `check` is true; fails after `ms`. Only for what is timed by design (leases). */
export async function waitFor(check: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function userOf(c: Cluster, nick: string, uid = c.nodes.newUid()): UserRecord {
  return { uid, nick, node: c.nodes.id, user: 'u', host: '127.0.0.1', realname: `real ${nick}`, account: null, away: null, since: 1_767_225_600_000, modes: '', secure: false };
}

export function message(c: Cluster, target: string, text: string): ClusterEvent {
  return { v: 1, kind: 'message', origin: c.nodes.id, command: 'PRIVMSG', from: `${c.nodes.id}000000`, source: 'n!u@h', target, text, tags: {}, account: null };
}

/** Collects a node's deliveries. */
export function collect(c: Cluster): Delivery[] {
  const got: Delivery[] = [];
  c.bus.onDelivery((d) => got.push(d));
  return got;
}

export function texts(got: Delivery[], room: string): string[] {
  return got.flatMap((d) => (d.type === 'event' && 'room' in d.log && d.log.room === room && d.event.kind === 'message' ? [d.event.text] : []));
}

let counter = 0;
/** A name unique within the process (the backend's prefix makes it unique across runs). */
export function unique(label: string): string {
  return `${label}${(++counter).toString(36)}`;
}
