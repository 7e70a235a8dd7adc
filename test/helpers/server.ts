import { mkdtempSync, rmSync } from 'node:fs';
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

export interface TestServerOptions {
  logger?: Logger;
  /** The clock for time rules (flood control, per-address limits, ban expiry). */
  clock?: () => number;
}

/**
 * 127.0.0.1 and ::1 are exempt from flood control and per-address limits, so tests can open
 * many connections and send fast; tests of those limits connect from 127.0.0.2 and up (all
 * loopback on Linux), or set limits.exempt_addresses themselves. The default exemption of all
 * loopback from per-address limits (limits.exempt_loopback) is off here for the same reason.
 * Given as the environment layer, so `overrides` can still set other limits keys.
 */
const TEST_ENV = { PARLEY_LIMITS__EXEMPT_ADDRESSES: '127.0.0.1/32,::1/128', PARLEY_LIMITS__EXEMPT_LOOPBACK: 'false', PARLEY_HTTP__LISTEN: '' };

/** A real server on 127.0.0.1 port 0 with a throwaway data directory. A logger alone may be given as `options`. */
export async function startTestServer(overrides: DeepPartial<Config> = {}, loggerOrOptions: Logger | TestServerOptions = {}): Promise<TestServer> {
  const options: TestServerOptions = 'error' in loggerOrOptions ? { logger: loggerOrOptions } : loggerOrOptions;
  // A directory the test did not choose is removed again when the server stops.
  const throwaway = overrides.data_dir === undefined ? mkdtempSync(join(tmpdir(), 'parley-test-')) : null;
  const config = loadConfig({
    env: TEST_ENV,
    overrides: { listen: ['127.0.0.1:0'], ...(throwaway ? { data_dir: throwaway } : {}), ...overrides },
  });
  const running = await startServer(config, options.logger ?? silentLogger, { clock: options.clock });
  const tcp = running.listeners.find((l) => l.kind === 'tcp' && !l.proxy);
  const stop = running.stop;
  return Object.assign(running, {
    port: tcp?.port ?? 0,
    stop: async (reason?: string) => {
      await stop(reason);
      if (throwaway) rmSync(throwaway, { recursive: true, force: true });
    },
  });
}

/** A clock tests move by hand. */
export function manualClock(start = Date.now()): { now: () => number; advance(ms: number): void } {
  let time = start;
  return {
    now: () => time,
    advance(ms: number) {
      time += ms;
    },
  };
}
