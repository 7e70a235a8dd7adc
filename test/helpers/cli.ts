import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** Run the `parley` command from the TypeScript sources (no build needed), with optional stdin and environment. */
export function runParley(args: string[], input = '', env: NodeJS.ProcessEnv = {}): { status: number; stdout: string; stderr: string } {
  const script = `const { main } = await import(${JSON.stringify(MAIN)}); process.exitCode = (await main(process.argv.slice(1))) ?? 0;`;
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, '--', ...args], {
    input,
    encoding: 'utf8',
    env: { ...process.env, PARLEY_ACCOUNTS__SCRYPT_LOG_N: '10', ...env },
    timeout: 30_000,
  });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/**
 * runParley without blocking this process: for a server started in this test process, which
 * must go on answering meanwhile. Killed after `timeoutMs`.
 */
export function runParleyAsync(args: string[], input = '', env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const script = `const { main } = await import(${JSON.stringify(MAIN)}); process.exitCode = (await main(process.argv.slice(1))) ?? 0;`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, '--', ...args], {
    env: { ...process.env, PARLEY_ACCOUNTS__SCRYPT_LOG_N: '10', ...env },
    stdio: 'pipe',
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(input);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) =>
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    }),
  );
}
