import { startServer, type RunningServer } from '../app.js';
import { ConfigError, loadConfig } from '../config/load.js';
import { createLogger } from '../observability/logger.js';
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
  process.stdout.write(readyMessage(running));

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

function readyMessage(running: RunningServer): string {
  const lines = ['Parley is running.'];
  for (const l of running.listeners) {
    const host = l.host.includes(':') ? `[${l.host}]` : l.host;
    if (l.proxy) {
      // Only the load balancers in proxy.trusted can connect here; no client instructions.
      lines.push(`  IRC ${l.kind === 'tls' ? 'over TLS ' : ''}behind a PROXY-protocol load balancer, at ${host}:${l.port}`);
      continue;
    }
    const how = l.kind === 'tls' ? ` (TLS; irssi: /connect -tls ${l.host} ${l.port})` : ` (irssi: /connect ${l.host} ${l.port})`;
    lines.push(`  IRC ${l.kind === 'tls' ? 'over TLS ' : ''}on ${host}:${l.port}${how}`);
  }
  if (running.http) lines.push(`  HTTP on http://${running.http.host}:${running.http.port}/ (health: /healthz, /readyz)`);
  if (running.metricsHttp) lines.push(`  Metrics on http://${running.metricsHttp.host}:${running.metricsHttp.port}/metrics`);
  lines.push('Press Ctrl+C to stop.');
  return lines.join('\n') + '\n';
}
