import { spawnSync } from 'node:child_process';
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
