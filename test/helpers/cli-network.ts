import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { killStartedServers, startCliServer, type CliServer } from './cli-server.js';
import { dropSchema, randomSchema, TEST_PG_URL } from './postgres.js';
import { dropPrefix, randomPrefix, TEST_REDIS_URL } from '../cluster/redis-helpers.js';

export interface CliNetwork {
  /** The nodes started in `before`, in order; set before the tests run. */
  readonly first: CliServer[];
  /** Another node of the same network (a replacement in a rolling restart). */
  start(): Promise<CliServer>;
  /** Something to close in `after`, before the nodes are killed (clients). */
  closeAfter(close: () => void): void;
}

/**
 * `count` real `parley serve` nodes (dist/) on one Redis key prefix and one fresh PostgreSQL
 * schema, for the describe block that calls it: the first started alone (so the schema's
 * migrations run once), the rest side by side. Everything goes in `after`: clients, every node
 * started (killed), their data directories, the keys and the schema. `env` goes to every node.
 */
export function cliNetwork(label: string, count: number, env: Record<string, string> = {}): CliNetwork {
  const prefix = randomPrefix(label);
  const schema = randomSchema(label);
  const dirs: string[] = [];
  const started: CliServer[] = [];
  const closers: (() => void)[] = [];
  const first: CliServer[] = [];
  const start = async () => {
    const dir = mkdtempSync(join(tmpdir(), `parley-${label}-`));
    dirs.push(dir);
    const node = await startCliServer(dir, {
      PARLEY_CLUSTER__URL: TEST_REDIS_URL,
      PARLEY_CLUSTER__PREFIX: prefix,
      PARLEY_STORE__URL: TEST_PG_URL,
      PARLEY_STORE__SCHEMA: schema,
      PARLEY_LOG__LEVEL: 'warn',
      ...env,
    });
    started.push(node);
    return node;
  };
  before(async () => {
    first.push(await start());
    first.push(...(await Promise.all(Array.from({ length: count - 1 }, start))));
  });
  after(async () => {
    for (const close of closers) close();
    killStartedServers();
    await Promise.all(started.map((n) => n.exited));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    await dropPrefix(TEST_REDIS_URL, prefix);
    await dropSchema(schema);
  });
  return { first, start, closeAfter: (close) => closers.push(close) };
}
