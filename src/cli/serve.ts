import cluster from 'node:cluster';
import { startServer, type RunningServer } from '../app.js';
import { ConfigError, loadConfig } from '../config/load.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { readyMessage } from './ready-message.js';
import { parseServeArgs, SERVE_HELP, UsageError } from './serve-args.js';
import { workerCount, workersProblem } from './workers/checks.js';
import { WORKER_SLOT_ENV } from './workers/messages.js';
import { superviseWorkers } from './workers/supervisor.js';
import { runWorker } from './workers/worker.js';

/**
 * `parley serve`: start, say where to connect, and stop cleanly on SIGINT/SIGTERM. With
 * cluster.workers above 1 this process is the primary of that many workers (workers/), each
 * of which runs this function again as a node:cluster worker.
 */
export async function serve(argv: string[]): Promise<number | undefined> {
  // A worker's slot is for it alone: not a configuration variable (the loader refuses those).
  const slot = cluster.isWorker ? Number(process.env[WORKER_SLOT_ENV]) : NaN;
  const env = { ...process.env };
  delete env[WORKER_SLOT_ENV];
  let args;
  let config;
  let count;
  try {
    args = parseServeArgs(argv);
    if (args.help) {
      process.stdout.write(SERVE_HELP);
      return 0;
    }
    config = loadConfig({ file: args.configFile, env, overrides: args.overrides });
    count = workerCount(config);
    const problem = Number.isInteger(slot) ? null : workersProblem(config, count);
    if (problem) throw new UsageError(problem);
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      process.stderr.write(`parley serve: ${err.message}\n`);
      return 2;
    }
    throw err;
  }

  const logger = createLogger(config.log.level, undefined, { format: config.log.format, maxPerSecond: config.log.max_lines_per_second });
  // Started by our own primary (the slot says so): a worker. Another node:cluster primary (a
  // process manager's cluster mode) does not set it, and gets an ordinary server.
  if (Number.isInteger(slot)) {
    await runWorker(config, withFields(logger, { worker: slot }), slot);
    return undefined;
  }
  if (count > 1) return superviseWorkers({ count, config, logger: withFields(logger, { process: 'primary' }) });
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

/** Every line of `logger` with `fields` added (which worker of --workers wrote it). */
function withFields(logger: Logger, fields: Record<string, unknown>): Logger {
  return {
    debug: (msg, more) => logger.debug(msg, { ...fields, ...more }),
    info: (msg, more) => logger.info(msg, { ...fields, ...more }),
    warn: (msg, more) => logger.warn(msg, { ...fields, ...more }),
    error: (msg, more) => logger.error(msg, { ...fields, ...more }),
  };
}
