// The cluster contract suites on the in-memory implementation (the single-process default),
// several nodes sharing one MemoryNetwork.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Cluster } from '../../src/cluster/cluster.js';
import { FencedError } from '../../src/cluster/nodes.js';
import { MemoryNetwork, openMemoryCluster } from '../../src/cluster/memory/cluster.js';
import { foldCase } from '../../src/protocol/index.js';
import { userOf, type ClusterBackend } from '../contract/cluster-backend.js';
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

describe('the single-process default (a node alone on its own network)', () => {
  it('is not fenced by a stall longer than a lease: no other node could take over', async (t) => {
    let now = Date.now();
    t.mock.method(Date, 'now', () => now);
    const alone = await openMemoryCluster();
    const shared = await openMemoryCluster({ network: new MemoryNetwork() });
    try {
      now += 60_000; // the event loop stood still for a minute
      assert.equal((await alone.state.addUser(userOf(alone, 'stalled'))).ok, true);
      await assert.rejects(shared.state.addUser(userOf(shared, 'stalled')), FencedError);
    } finally {
      await alone.abandon();
      await shared.abandon();
    }
  });
});

describe('the memory network keeps only live redirects of renamed rooms', () => {
  it('expired redirects go when the next one is set, as Redis keys expire', () => {
    let now = 0;
    const network = new MemoryNetwork(() => now);
    for (let i = 0; i < 50; i++) network.setRedirect(`#old${i}`, { name: `#New${i}`, key: `#new${i}` }, 60);
    assert.equal(network.redirects.size, 50);
    now += 60_000;
    network.setRedirect('#last', { name: '#Next', key: '#next' }, 60);
    assert.deepEqual([...network.redirects.keys()], ['#last']);
    assert.deepEqual(network.redirect('#last'), { name: '#Next', key: '#next', expires: 120_000 });
  });
});
