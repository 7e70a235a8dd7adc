/**
 * One node's view of the network: its lease, the shared state and the bus, opened together
 * (they share connections and the lease token). `openMemoryCluster` (memory/cluster.ts) is the
 * single-process default; `openRedisCluster` (redis/cluster.ts) joins a network through Redis.
 */
import type { Bus, BusOptions } from './bus.js';
import type { LeaseOptions, NodeLease } from './nodes.js';
import type { SharedState } from './state.js';
import type { Logger } from '../observability/logger.js';

export interface Cluster {
  readonly nodes: NodeLease;
  readonly state: SharedState;
  readonly bus: Bus;
  /** Round trip to the backend (readiness: /healthz must see the bus). Memory: always ok. */
  ping(): Promise<{ ok: boolean; ms: number; error?: string }>;
  /** Leaves the network (NodeLease.leave), closes the bus and the connections. */
  close(): Promise<void>;
  /**
   * Stops everything without leaving, as `kill -9` would: timers stop, connections drop, the
   * lease is left to expire and a peer reaps the node. For tests, and for a fenced node that
   * gives up its identity.
   */
  abandon(): Promise<void>;
}

export interface ClusterOptions extends LeaseOptions, BusOptions {
  logger?: Logger;
}
