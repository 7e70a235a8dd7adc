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

export async function openMemoryCluster(options: ClusterOptions & { network?: MemoryNetwork } = {}): Promise<Cluster> {
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
