/**
 * Picks the cluster implementation: a `cluster.url` (redis://...) joins a network through
 * Redis; without one, the in-memory single-process default runs (the same code path above).
 */
import type { Cluster, ClusterOptions } from './cluster.js';
import { openMemoryCluster } from './memory/cluster.js';
import { openRedisCluster } from './redis/cluster.js';

export async function openCluster(options: ClusterOptions & { url?: string | null; prefix?: string }): Promise<Cluster> {
  if (!options.url) return openMemoryCluster(options);
  return openRedisCluster({ ...options, url: options.url });
}
