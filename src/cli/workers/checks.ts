/**
 * How many workers `parley serve` runs, and whether the configuration can run that many.
 * Each worker is a full node of the network (its own lease, node id, copies of rooms), so
 * several need what several nodes need: the Redis path and a store they share.
 */
import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { Config } from '../../config/schema.js';
import { walIndexFor } from '../../store/sqlite/store.js';

/** cluster.workers as a number: `auto` is one per CPU core the process may use. */
export function workerCount(config: Config, cores: () => number = availableParallelism): number {
  return config.cluster.workers === 'auto' ? Math.max(1, cores()) : config.cluster.workers;
}

/** Why `count` workers cannot run with `config`, as a sentence for the user; null if they can. */
export function workersProblem(config: Config, count: number): string | null {
  if (count <= 1) return null;
  if (config.cluster.url === null) {
    // No default: the in-memory network is one process, and guessing a Redis would be worse.
    return `${count} workers need cluster.url (--cluster redis://...): each worker is a node of one network through Redis`;
  }
  if (config.store.url === null && sqliteWalIndex(resolve(config.data_dir)) === 'memory') {
    // store/sqlite/store.ts: on this filesystem the SQLite file is opened with an exclusive
    // lock (its WAL index in memory), so a second process could not open it.
    return `${count} workers cannot share the SQLite file in ${resolve(config.data_dir)} on this filesystem (its WAL index must stay in memory); use store.url (PostgreSQL) or a data_dir on ext4, xfs or tmpfs`;
  }
  return null;
}

/** The WAL index the SQLite store will use in `dir`, created first as the server would. */
function sqliteWalIndex(dir: string): ReturnType<typeof walIndexFor> {
  mkdirSync(dir, { recursive: true });
  return walIndexFor(dir);
}
