import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';

// SIGBUS on a full disk (issue 10), for real: an ext4 image with 1 KiB blocks (what mke2fs
// makes for a filesystem under 512 MiB), loop-mounted, filled to within a few KiB. With the WAL
// index in the mapped -shm file, SQLite's writes to a page it had backed with one byte fault
// for blocks the disk does not have, and the process dies (see walIndexFor in
// src/store/sqlite/store.ts). Needs root, mkfs.ext4 and a loop device; skipped, saying why,
// without them.

const base = mkdtempSync(join(tmpdir(), 'parley-ext4-'));
const image = join(base, 'fs.img');
const mountPoint = join(base, 'data');
mkdirSync(mountPoint);

function prepare(): string | null {
  const steps: [string, string[]][] = [
    ['truncate', ['-s', '4M', image]],
    ['mkfs.ext4', ['-q', '-F', '-b', '1024', image]],
    ['mount', ['-o', 'loop', image, mountPoint]],
  ];
  for (const [command, args] of steps) {
    const run = spawnSync(command, args, { encoding: 'utf8' });
    if (run.status !== 0) return `${command} failed: ${(run.stderr || run.error?.message || `exit ${run.status}`).trim()}`;
  }
  rmSync(join(mountPoint, 'lost+found'), { recursive: true, force: true });
  return null;
}

const unavailable = prepare();

describe('SQLite store on a full filesystem with blocks smaller than a page', () => {
  after(() => {
    if (unavailable === null) spawnSync('umount', [mountPoint]);
    rmSync(base, { recursive: true, force: true });
  });

  it(
    unavailable === null ? 'loop-mounted ext4 (1 KiB blocks), really full: the process survives every amount of free space' : 'skipped',
    { skip: unavailable ?? false },
    async (t) => {
      const fixture = fileURLToPath(new URL('./fixtures/full-disk-open.ts', import.meta.url));
      const child = spawn(process.execPath, ['--import', 'tsx', fixture, mountPoint, '20', '40'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
      for (const line of out.trim().split('\n')) t.diagnostic(line);
      assert.equal(signal, null, `killed by ${signal} after:\n${out}${err}`);
      assert.equal(code, 0, err);
      assert.match(out, /done\n$/);
      assert.match(out, /memory WAL index/, 'the WAL index is kept out of the mapped -shm file here');
    },
  );
});
