/**
 * The single-process default: a Cluster on an in-process network. Pass one `network` to
 * several calls to have several nodes in one process (the contract suites do).
 */
import { silentLogger } from '../../observability/logger.js';
import { BUS_DEFAULTS } from '../bus.js';
import type { Cluster, ClusterOptions } from '../cluster.js';
import { MemoryBus } from './bus.js';
import { MemoryNetwork } from './network.js';
import { MemoryNodeLease } from './nodes.js';
import { MemoryState } from './state.js';

export { MemoryNetwork };

/**
 * The lease of a node alone on its own network: no other node can reap it or take what it
 * holds, so a lease that lapses protects nothing, and a stall of the event loop past the usual
 * 5 s (a long GC under a connection storm was seen to do it) must not fence the only server
 * and drop every client. A year: in practice it never lapses while the process runs.
 */
const ALONE_TTL_MS = 365 * 86_400_000;

export async function openMemoryCluster(options: ClusterOptions & { network?: MemoryNetwork } = {}): Promise<Cluster> {
  if (!options.network && options.ttlMs === undefined) options = { ...options, ttlMs: ALONE_TTL_MS };
  const network = options.network ?? new MemoryNetwork();
  const logger = options.logger ?? silentLogger;
  const maxLen = options.maxLen ?? BUS_DEFAULTS.maxLen;
  const nodes = new MemoryNodeLease(network, options, maxLen, logger);
  const state = new MemoryState(network, nodes);
  const bus = new MemoryBus(network, nodes, options.readBatch ?? BUS_DEFAULTS.readBatch, logger);
  let closed = false;
  return {
    nodes,
    state,
    bus,
    ping: async () => ({ ok: true, ms: 0 }),
    async close() {
      if (closed) return;
      closed = true;
      await bus.close();
      await nodes.leave();
    },
    async abandon() {
      closed = true;
      nodes.abandon();
      await bus.close();
    },
  };
}
