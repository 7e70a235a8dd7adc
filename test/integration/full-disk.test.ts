import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { IrcMessage } from '../../src/protocol/index.js';
import { ROOT } from '../helpers/cli-server.js';
import { RawClient } from '../helpers/raw-client.js';

// A real full disk: `parley serve` (needs dist/: npx tsc -p tsconfig.json) with its data_dir on
// a tmpfs with a size limit, filled up by a filler file. Needs root for mount; without it the
// test is skipped and says so: the same behaviour is covered with an injected SQLite fault, in
// process, by store-failure.test.ts.

interface Serve {
  child: ChildProcess;
  port: number;
  httpPort: number;
  /** The JSON log lines so far. */
  logs: { level: string; msg: string; [key: string]: unknown }[];
  exited: Promise<void>;
}

const running = new Set<ChildProcess>();

function serve(dataDir: string): Promise<Serve> {
  const child = spawn(process.execPath, ['bin/parley.js', 'serve', '--listen', '127.0.0.1:0', '--http', '127.0.0.1:0', '--data', dataDir], {
    cwd: ROOT,
    env: { ...process.env, PARLEY_LIMITS__EXEMPT_ADDRESSES: '127.0.0.1/32,::1/128', PARLEY_HISTORY__MAX_QUERY: '1000' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const logs: Serve['logs'] = [];
  let err = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    err += chunk.toString();
    let newline: number;
    while ((newline = err.indexOf('\n')) !== -1) {
      const line = err.slice(0, newline);
      err = err.slice(newline + 1);
      try {
        logs.push(JSON.parse(line) as Serve['logs'][number]);
      } catch {
        logs.push({ level: 'raw', msg: line });
      }
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const irc = /IRC on 127\.0\.0\.1:(\d+)/.exec(out);
      const http = /Web client: http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (irc && http) resolve({ child, port: Number(irc[1]), httpPort: Number(http[1]), logs, exited });
    });
    child.once('exit', (code, signal) => reject(new Error(`parley serve exited (${code ?? signal}): ${out}${err}`)));
  });
}

async function healthz(s: Serve): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${s.httpPort}/healthz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Write until the filesystem has no byte left. */
function fill(path: string): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let size = chunk.length;
  try {
    while (size > 0) {
      try {
        writeSync(fd, chunk, 0, size);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
        size = Math.floor(size / 2);
      }
    }
  } finally {
    closeSync(fd);
  }
}

const alive = (s: Serve) => s.child.exitCode === null && s.child.signalCode === null;
const isOutcome = (m: IrcMessage) => (m.command === 'PRIVMSG' && m.params[0] === '#disk') || (m.command === 'FAIL' && m.params[0] === 'PRIVMSG');

const base = mkdtempSync(join(tmpdir(), 'parley-fulldisk-'));
const mountPoint = join(base, 'data');
mkdirSync(mountPoint);
// 4 MiB: the database and its WAL fit with room; SQLite's first checkpoint (1000 pages) is past it.
const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0700', 'tmpfs', mountPoint], { encoding: 'utf8' });
const mountError = mounted.status === 0 ? null : (mounted.stderr || mounted.error?.message || `exit ${mounted.status}`).trim();

describe('full disk, for real: parley serve on a 4 MiB tmpfs that a filler file fills', () => {
  after(async () => {
    for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all([...running].map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : null)));
    if (mountError === null) spawnSync('umount', [mountPoint]);
    rmSync(base, { recursive: true, force: true });
  });

  it(
    mountError === null ? 'stays up, delivers nothing unstored, answers FAIL, 503; resumes when there is room; history has all anyone saw after SIGKILL' : 'skipped',
    { skip: mountError === null ? false : `mount -t tmpfs refused (${mountError}); not root? the injected SQLite fault in store-failure.test.ts covers this` },
    async (t) => {
      const first = await serve(mountPoint);
      const sender = await RawClient.register(first.port, 'sender', ['echo-message', 'message-tags']);
      const watcher = await RawClient.register(first.port, 'watcher', ['message-tags']);
      for (const c of [sender, watcher]) {
        c.send('JOIN #disk');
        await c.sync();
      }
      const padding = 'x'.repeat(300);
      /** Every text a client was shown, and every text refused with FAIL. */
      const shown = new Set<string>();
      const refused: string[] = [];
      const outcome = (text: string, m: IrcMessage) => {
        if (m.command === 'FAIL') refused.push(text);
        else shown.add(m.params[1]!);
      };
      const say = async (text: string) => {
        sender.send(`PRIVMSG #disk :${text}`);
        const m = await sender.expect(isOutcome);
        outcome(text, m);
        return m;
      };
      for (let i = 0; i < 5; i++) assert.equal((await say(`room ${i} ${padding}`)).command, 'PRIVMSG');

      fill(join(mountPoint, 'filler'));
      // Until the WAL needs a page the disk does not have, messages still commit.
      let failedAt = -1;
      for (let i = 0; i < 500 && failedAt === -1; i++) if ((await say(`full ${i} ${padding}`)).command === 'FAIL') failedAt = i;
      assert.ok(failedAt !== -1, 'some message must fail on the full disk');
      // A burst in one packet: refused before delivery now that the store is known to fail.
      const burst = Array.from({ length: 20 }, (_, i) => `burst ${i} ${padding}`);
      sender.sendRaw(burst.map((text) => `PRIVMSG #disk :${text}\r\n`).join(''));
      for (const text of burst) outcome(text, await sender.expect(isOutcome));
      for (const m of await watcher.sync()) if (m.command === 'PRIVMSG') shown.add(m.params[1]!);
      for (const text of refused) assert.ok(!shown.has(text), `"${text.slice(0, 12)}" was refused and still shown`);
      assert.ok(refused.length >= 21, `refused ${refused.length}`);

      assert.ok(alive(first), 'the server is still running');
      const failing = await healthz(first);
      assert.equal(failing.status, 503);
      assert.equal(failing.body.store, 'failing');

      rmSync(join(mountPoint, 'filler'));
      const resumed = await say(`resumed ${padding}`);
      assert.equal(resumed.command, 'PRIVMSG', 'chat resumes by itself');
      const atWatcher = (await watcher.sync()).filter((m) => m.command === 'PRIVMSG').map((m) => m.params[1]);
      assert.deepEqual(atWatcher, [`resumed ${padding}`]);
      assert.equal((await healthz(first)).status, 200);

      const storeLogs = first.logs.filter((l) => l.msg.startsWith('history'));
      assert.deepEqual(storeLogs.map((l) => `${l.level} ${l.msg}`), ['error history store failing', 'info history store recovered']);
      for (const l of storeLogs) t.diagnostic(JSON.stringify({ ...l, err: (l.err as { message?: string } | undefined)?.message }));
      t.diagnostic(`failed from message ${failedAt} after the fill; refused ${refused.length}, shown ${shown.size}`);

      first.child.kill('SIGKILL');
      await first.exited;
      sender.close();
      watcher.close();
      const second = await serve(mountPoint);
      const reader = await RawClient.register(second.port, 'reader', ['batch', 'message-tags', 'draft/chathistory']);
      reader.send('JOIN #disk');
      await reader.sync();
      reader.send('CHATHISTORY LATEST #disk * 1000');
      const stored = new Set((await reader.sync()).filter((m) => m.command === 'PRIVMSG').map((m) => m.params[1]!));
      const missing = [...shown].filter((text) => !stored.has(text));
      assert.deepEqual(missing, [], 'every message anyone saw is in history');
      assert.deepEqual(refused.filter((text) => stored.has(text)), [], 'nothing refused is in history');
      reader.close();
      second.child.kill('SIGTERM');
      await second.exited;
    },
  );
});
