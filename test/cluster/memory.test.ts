// The cluster contract suites on the in-memory implementation (the single-process default),
// several nodes sharing one MemoryNetwork.
import type { Cluster } from '../../src/cluster/cluster.js';
import { MemoryNetwork, openMemoryCluster } from '../../src/cluster/memory/cluster.js';
import { foldCase } from '../../src/protocol/index.js';
import type { ClusterBackend } from '../contract/cluster-backend.js';
import { clusterBusContract } from '../contract/cluster-bus.contract.js';
import { clusterNodesContract } from '../contract/cluster-nodes.contract.js';
import { clusterStateContract } from '../contract/cluster-state.contract.js';

async function memoryBackend(): Promise<ClusterBackend> {
  const network = new MemoryNetwork();
  const opened: Cluster[] = [];
  return {
    async open(options = {}) {
      const c = await openMemoryCluster({ ...options, network });
      opened.push(c);
      return c;
    },
    async expireLease(node) {
      network.leases.delete(node);
    },
    async logLength(room) {
      return network.logs.get(`r:${foldCase(room)}`)?.entries.length ?? 0;
    },
    async cleanup() {
      for (const c of opened) await c.abandon();
    },
  };
}

clusterNodesContract('memory', memoryBackend);
clusterStateContract('memory', memoryBackend);
clusterBusContract('memory', memoryBackend);
