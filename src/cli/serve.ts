import { startServer, type RunningServer } from '../app.js';
import { ConfigError, loadConfig } from '../config/load.js';
import { createLogger } from '../observability/logger.js';
import { readyMessage } from './ready-message.js';
import { parseServeArgs, SERVE_HELP, UsageError } from './serve-args.js';

/** `parley serve`: start, say where to connect, and stop cleanly on SIGINT/SIGTERM. */
export async function serve(argv: string[]): Promise<number | undefined> {
  let args;
  let config;
  try {
    args = parseServeArgs(argv);
    if (args.help) {
      process.stdout.write(SERVE_HELP);
      return 0;
    }
    config = loadConfig({ file: args.configFile, env: process.env, overrides: args.overrides });
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      process.stderr.write(`parley serve: ${err.message}\n`);
      return 2;
    }
    throw err;
  }

  const logger = createLogger(config.log.level, undefined, { format: config.log.format, maxPerSecond: config.log.max_lines_per_second });
  let running: RunningServer;
  try {
    running = await startServer(config, logger);
  } catch (err) {
    process.stderr.write(`parley serve: could not start: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }

  for (const listener of running.listeners) {
    logger.info('listening', { transport: listener.kind, host: listener.host, port: listener.port });
  }
  if (running.http) logger.info('listening', { transport: 'http', host: running.http.host, port: running.http.port });
  process.stdout.write(readyMessage(running, config));

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    running.stop('Server shutting down').then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGHUP', () => {
    try {
      running.reloadTls();
      logger.info('tls certificate reloaded');
    } catch (err) {
      logger.error('tls certificate reload failed', { err });
    }
  });
  return undefined;
}
