/**
 * Picks the cluster implementation: a `cluster.url` (redis://...) joins a network through
 * Redis; without one, the in-memory single-process default runs (the same code path above).
 */
import type { Cluster, ClusterOptions } from './cluster.js';
import { openMemoryCluster } from './memory/cluster.js';
import { openRedisCluster } from './redis/cluster.js';

/** The cluster could not be joined; the message names the URL without its password. */
export class ClusterOpenError extends Error {
  override readonly name = 'ClusterOpenError';
}

export async function openCluster(options: ClusterOptions & { url?: string | null; prefix?: string }): Promise<Cluster> {
  if (!options.url) return openMemoryCluster(options);
  try {
    return await openRedisCluster({ ...options, url: options.url });
  } catch (err) {
    throw new ClusterOpenError(`cluster.url ${redactRedisUrl(options.url)}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The URL as it may be shown in a log or an error: no password. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    return u.toString();
  } catch {
    return 'redis://(unparsable URL)';
  }
}
