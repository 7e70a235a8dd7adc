import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface CliServer {
  child: ChildProcess;
  port: number;
  /** The HTTP listener's port (web client, /healthz, /readyz, /metrics). */
  httpPort: number;
  /** What it has written to stdout and stderr so far. */
  output(): { stdout: string; stderr: string };
  /** Resolves when the process has exited. */
  exited: Promise<void>;
}

const started = new Set<ChildProcess>();

/** Kill every server this file started that is still running: an `after` hook, so a failed test cannot leave one behind (and hang the run). */
export function killStartedServers(): void {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  started.clear();
}

/** The real `parley serve` on 127.0.0.1 port 0; resolves once it printed where it listens. */
export function startCliServer(dataDir: string, env: Record<string, string> = {}): Promise<CliServer> {
  const child = spawn(process.execPath, ['bin/parley.js', 'serve', '--listen', '127.0.0.1:0', '--http', '127.0.0.1:0', '--data', dataDir], {
    cwd: ROOT,
    // Loopback is exempt from flood control and per-address limits, as in startTestServer.
    env: { ...process.env, PARLEY_LIMITS__EXEMPT_ADDRESSES: '127.0.0.1/32,::1/128', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      // The start-up message is complete once it says how to stop.
      if (!out.includes('Press Ctrl+C to stop.')) return;
      const irc = /IRC on 127\.0\.0\.1:(\d+)/.exec(out);
      const http = /Web client: http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
      if (irc && http) resolve({ child, port: Number(irc[1]), httpPort: Number(http[1]), exited, output: () => ({ stdout: out, stderr: err }) });
    });
    child.once('exit', (code) => reject(new Error(`parley serve exited (${code}): ${out}${err}`)));
  });
}
