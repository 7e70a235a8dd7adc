/**
 * The Lua scripts (lua/*.lua), each with lib.lua prepended: loaded with SCRIPT LOAD, run with
 * EVALSHA, and run by source (EVAL, which caches it again) when Redis answers NOSCRIPT, as it
 * does after a restart.
 *
 * The .lua files are read from next to this module: `npm run build` copies them into dist/
 * (scripts/copy-lua.mjs). A dist/ built by `tsc` alone has none, and reads them from
 * src/cluster/redis/lua of the checkout instead.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { FencedError } from '../nodes.js';

export const SCRIPT_NAMES = [
  'register', 'renew', 'leave', 'peers', 'sweep', 'reap', 'publish', 'read',
  'user-add', 'user-rename', 'user-update', 'user-remove', 'user-by-nick', 'user-rooms', 'counts',
  'room-join', 'room-leave', 'room-change', 'room-rename', 'room-get', 'room-list',
  'conn-add', 'conn-remove',
] as const;

export type ScriptName = (typeof SCRIPT_NAMES)[number];

function luaDir(): string {
  const here = fileURLToPath(new URL('./lua/', import.meta.url));
  if (existsSync(here)) return here;
  return fileURLToPath(new URL('../../../src/cluster/redis/lua/', import.meta.url));
}

let sources: Map<ScriptName, { source: string; sha: string }> | null = null;

function load(): Map<ScriptName, { source: string; sha: string }> {
  if (sources) return sources;
  const dir = luaDir();
  const lib = readFileSync(`${dir}lib.lua`, 'utf8');
  sources = new Map(
    SCRIPT_NAMES.map((name) => {
      const source = `${lib}\n${readFileSync(`${dir}${name}.lua`, 'utf8')}`;
      return [name, { source, sha: createHash('sha1').update(source).digest('hex') }];
    }),
  );
  return sources;
}

export class Scripts {
  private readonly scripts = load();

  constructor(private readonly redis: Redis) {}

  /** SCRIPT LOAD every script (the SHA1 is known locally; this warms Redis's cache). */
  async loadAll(): Promise<void> {
    await Promise.all([...this.scripts.values()].map(({ source }) => this.redis.script('LOAD', source)));
  }

  /**
   * Runs a script. A fence() refusal rejects with FencedError (for `node`); other Redis
   * errors reject as they are.
   */
  async run(name: ScriptName, args: (string | number)[], node?: string): Promise<unknown> {
    const script = this.scripts.get(name)!;
    try {
      try {
        return await this.redis.evalsha(script.sha, 0, ...args);
      } catch (err) {
        if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
        return await this.redis.eval(script.source, 0, ...args);
      }
    } catch (err) {
      if (err instanceof Error && err.message.includes('FENCED')) throw new FencedError(node ?? String(args[1]), 'lease not held in Redis');
      throw err;
    }
  }
}
