/**
 * Node membership and leases.
 *
 * Each process in a network is a node with a random id (ids.ts) that holds a lease: renewed
 * every `renewMs` (about 1 s), valid for `ttlMs` (about 5 s). Every state-changing operation of
 * the shared state and the bus is fenced by the lease: in Redis the script checks the lease
 * token before it writes, in memory the network checks it the same way. A node whose lease has
 * lapsed is fenced for good: its operations reject with `FencedError`, and it is told once by a
 * `fenced` event. It must stop acting on what it believed it owned (step 2: drop its clients,
 * then open a new cluster identity).
 *
 * The node also fences itself by its own clock: a lease renewed by a request sent at T is
 * valid until T + ttlMs for the node, never longer than Redis keeps it (Redis counts from when
 * the request arrived), so a paused or partitioned node stops before peers take over.
 *
 * Peers find lapsed leases by sweeping (every `sweepMs`; keyspace expiry notifications are
 * lazy and fire-and-forget, so they are not used). Exactly one live peer wins the clean-up of
 * a dead node (`SET reap:<node> NX`), in batches: its users are removed (nicks freed, room
 * memberships dropped, a `quit` event sequenced into each of their rooms in the same atomic
 * step, so every member on every node sees the QUIT in room order even if the reaper dies
 * right after), its per-address connection counts are released, and the reaper gets the list
 * in a `reaped` event. A reaper that dies mid-way leaves its claim to expire (`reapClaimMs`);
 * the next sweep by another peer finishes the work.
 */
import type { Logger } from '../observability/logger.js';
import type { Stamp } from './events.js';

export interface LeaseOptions {
  /** How often the lease is renewed. @default 1000 */
  renewMs?: number;
  /** How long a lease lives without renewal. @default 5000 */
  ttlMs?: number;
  /** How often peers' leases are checked. @default 1000 */
  sweepMs?: number;
  /** Users removed per reap step (one atomic step each). @default 200 */
  reapBatch?: number;
  /** How long a reaper's claim lasts without progress before another peer may take over. @default 30000 */
  reapClaimMs?: number;
}

/** The QUIT reason other nodes show for the users of a node that died. */
export const REAP_QUIT_REASON = 'Server went away';

export const LEASE_DEFAULTS: Required<LeaseOptions> = {
  renewMs: 1000,
  ttlMs: 5000,
  sweepMs: 1000,
  reapBatch: 200,
  reapClaimMs: 30_000,
};

/** A user of a dead node as it was removed. */
export interface ReapedUser {
  uid: string;
  nick: string;
  /** Who it was, as WHOWAS shows it. */
  user: string;
  host: string;
  realname: string;
  account: string | null;
  /** Folded names of the rooms it was in, with the stamp of its `quit` event there. */
  rooms: { room: string; stamp: Stamp }[];
}

export type NodeEvent =
  /** The lease is lost for good (expired, reaped, or refused); `reason` says which. */
  | { type: 'fenced'; reason: string }
  /**
   * The connection to Redis came back after an error. `lost`: Redis had lost this node's
   * lease and the network's data (restarted empty), and the node registered again under the
   * same id: re-announce users, rooms and connection counts (step 2). Not `lost`: nothing to
   * redo (the bus catches up by itself).
   */
  | { type: 'reconnected'; lost: boolean }
  /** This node reaped a dead node (one event per batch; `done` on the last). */
  | { type: 'reaped'; node: string; users: ReapedUser[]; done: boolean };

/** Rejection of any fenced operation. */
export class FencedError extends Error {
  override readonly name = 'FencedError';
  constructor(readonly node: string, reason = 'lease lost') {
    super(`node ${node} is fenced: ${reason}`);
  }
}

export interface NodeLease {
  /** This node's id (6 characters, [0-9a-v]); fixed for the life of the object. */
  readonly id: string;
  /** True while the lease is held (by this node's own clock too); false once fenced, forever. */
  readonly live: boolean;
  /** A new TS6-style user id: node id + counter. Unique network-wide; no await. */
  newUid(): string;
  /** The one handler for node events (replaces any earlier one). Called asynchronously. */
  onEvent(handler: (event: NodeEvent) => void): void;
  /** Ids of nodes that currently hold a lease, this one included, sorted. */
  peers(): Promise<string[]>;
  /**
   * One sweep now (the timer does it every sweepMs): finds lapsed leases, claims and reaps
   * the dead nodes it wins, and resolves with their ids once reaped. Rejects with FencedError
   * when this node is fenced.
   */
  sweep(): Promise<string[]>;
  /**
   * Leave the network cleanly: the lease is deleted and the node forgotten (its users should
   * have been removed first; any left are reaped by a peer). Timers stop. Idempotent.
   */
  leave(): Promise<void>;
}

/**
 * Hands a node event to the registered handler on a microtask (never inside the lease code that
 * raised it), and logs a handler that throws instead of letting it break the lease loop. Shared
 * by the memory and Redis leases.
 */
export function emitNodeEvent(handler: ((event: NodeEvent) => void) | null, event: NodeEvent, logger: Logger): void {
  if (!handler) return;
  queueMicrotask(() => {
    try {
      handler(event);
    } catch (err) {
      logger.error('cluster: node event handler threw', { event: event.type, err });
    }
  });
}
