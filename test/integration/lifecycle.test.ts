// The real `parley serve` command as a child process: startup output, graceful SIGTERM, bad config.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { IrcMessage } from '../../src/protocol/index.js';
import { RawClient } from '../helpers/raw-client.js';

const is = (command: string) => (m: IrcMessage) => m.command === command;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Start `node bin/parley.js serve ...` with a clean environment plus `env`. */
function parley(args: string[], env: Record<string, string> = {}): { child: ChildProcess; exited: Promise<Exit> } {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('PARLEY_')));
  // HTTP on an ephemeral port, so parallel test files never fight over 8080.
  const child = spawn(process.execPath, ['bin/parley.js', 'serve', '--http', '127.0.0.1:0', ...args], {
    env: { ...clean, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<Exit>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, exited };
}

/** Wait for the "IRC on host:port" line of the ready message. */
function listeningPort(child: ChildProcess, timeoutMs = 10_000): Promise<number> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no "IRC on" line; stdout so far: ${seen}`)), timeoutMs);
    child.stdout!.on('data', (chunk: string) => {
      seen += chunk;
      const match = /IRC on 127\.0\.0\.1:(\d+)/.exec(seen);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.on('close', () => reject(new Error(`exited before listening; stdout: ${seen}`)));
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe('parley serve as a process', () => {
  let dataDir: string;
  before(() => {
    // bin/parley.js runs dist/, which `npm test` builds before any test starts.
    dataDir = mkdtempSync(join(tmpdir(), 'parley-cli-'));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('says where it listens; on SIGTERM tells clients "Server shutting down" and exits 0', async () => {
    const { child, exited } = parley(['--listen', '127.0.0.1:0', '--data', dataDir]);
    try {
      const port = await listeningPort(child);
      const client = await RawClient.register(port, 'lifer');
      client.send('JOIN #life');
      await client.expect(is('366'));

      child.kill('SIGTERM');
      const error = await client.expect(is('ERROR'));
      assert.match(error.params[0]!, /Server shutting down/);
      await client.closedByServer();
      const exit = await withTimeout(exited, 5000, 'shutting down');
      assert.equal(exit.code, 0, `stderr: ${exit.stderr}`);
      assert.match(exit.stdout, /Parley is running\./);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('exits non-zero and names the key when the configuration is invalid', async () => {
    const { child, exited } = parley(['--listen', '127.0.0.1:0', '--data', dataDir], { PARLEY_LIMITS__SENDQ_BYTES: '12' });
    try {
      const exit = await withTimeout(exited, 10_000, 'refusing the configuration');
      assert.notEqual(exit.code, 0);
      assert.match(exit.stderr, /limits\.sendq_bytes/);
      assert.doesNotMatch(exit.stdout, /IRC on/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
