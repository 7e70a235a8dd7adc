import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config, DeepPartial } from '../../src/config/schema.js';
import { silentLogger, type Logger } from '../../src/observability/logger.js';

export interface TestServer extends RunningServer {
  /** Port of the first plain TCP listener. */
  readonly port: number;
}

/** A real server on 127.0.0.1 port 0 with a throwaway data directory. */
export async function startTestServer(overrides: DeepPartial<Config> = {}, logger: Logger = silentLogger): Promise<TestServer> {
  const config = loadConfig({
    env: {},
    overrides: {
      listen: ['127.0.0.1:0'],
      data_dir: mkdtempSync(join(tmpdir(), 'parley-test-')),
      ...overrides,
    },
  });
  const running = await startServer(config, logger);
  const tcp = running.listeners.find((l) => l.kind === 'tcp');
  return Object.assign(running, { port: tcp?.port ?? 0 });
}
