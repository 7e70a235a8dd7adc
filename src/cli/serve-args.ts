import type { Config, DeepPartial } from '../config/schema.js';

/** Bad command line; the message is meant to be shown to the user as-is. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export interface ServeArgs {
  help: boolean;
  configFile?: string;
  overrides: DeepPartial<Config>;
}

export const SERVE_HELP = `Usage: parley serve [options]

Start the Parley IRC server.

Options:
  --config FILE           YAML configuration file (optional; every key has a default)
  --listen HOST:PORT      plain-text IRC listener; repeat for several.
                          Replaces the "listen" list from the file and environment.
  --tls-listen HOST:PORT  TLS IRC listener; repeat for several. Needs tls.cert and tls.key.
                          Replaces "tls.listen".
  --http HOST:PORT        the web client's address (http.listen, default 127.0.0.1:8080):
                          the browser client, IRC over WebSocket, /healthz, /readyz and
                          /metrics; https and wss with http.tls
  --data DIR              data directory (data_dir)
  --cluster URL           join a network of nodes through Redis (cluster.url),
                          e.g. redis://127.0.0.1:6379/0; without it, one process
  --workers N|auto        run N node processes on this machine sharing the listeners
                          (cluster.workers; auto: one per CPU core). Each is a node of
                          the network, so more than 1 needs --cluster and a shared
                          store (PostgreSQL, or the SQLite file in --data)
  --log-format FORMAT     json, pretty or auto (log.format; auto: pretty on a terminal)
  -h, --help              show this help

IPv6 addresses go in brackets: --listen [::1]:6667
Options accept "--flag value" or "--flag=value".

Every configuration key can also be set from the environment as
PARLEY_<SECTION>__<KEY> (double underscore between levels; lists are
comma-separated), for example:
  PARLEY_SERVER__NAME=irc.example.org
  PARLEY_LIMITS__SENDQ_BYTES=2097152
  PARLEY_LISTEN=0.0.0.0:6667,[::]:6667

Precedence, lowest to highest: defaults, config file, environment, options.
See docs/configuration.md for every key and its default.
`;

const VALUE_OPTIONS = ['config', 'listen', 'tls-listen', 'http', 'data', 'cluster', 'workers', 'log-format'] as const;
type ValueOption = (typeof VALUE_OPTIONS)[number];
const REPEATABLE: ReadonlySet<ValueOption> = new Set(['listen', 'tls-listen']);

const isValueOption = (name: string): name is ValueOption => (VALUE_OPTIONS as readonly string[]).includes(name);

/** Parses the arguments that follow `parley serve`. Throws UsageError. */
export function parseServeArgs(argv: readonly string[]): ServeArgs {
  const seen = new Map<ValueOption, string[]>();
  let help = false;

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help') {
      help = true;
      continue;
    }
    if (!arg.startsWith('--') || arg === '--') {
      throw new UsageError(`unexpected argument ${JSON.stringify(arg)} (try 'parley serve --help')`);
    }

    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    if (!isValueOption(name)) {
      throw new UsageError(`unknown option --${name} (try 'parley serve --help')`);
    }
    let value: string | undefined;
    if (eq !== -1) value = arg.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('-')) value = argv[++i];
    if (!value) throw new UsageError(`option --${name} needs a value`);

    const values = seen.get(name) ?? [];
    if (values.length > 0 && !REPEATABLE.has(name)) {
      throw new UsageError(`option --${name} given more than once`);
    }
    values.push(value);
    seen.set(name, values);
  }

  const one = (name: ValueOption) => seen.get(name)?.[0];
  const overrides: DeepPartial<Config> = {};
  if (seen.has('listen')) overrides.listen = seen.get('listen')!;
  if (seen.has('tls-listen')) overrides.tls = { listen: seen.get('tls-listen')! };
  if (seen.has('http')) overrides.http = { listen: one('http')! };
  if (seen.has('data')) overrides.data_dir = one('data')!;
  if (seen.has('cluster')) overrides.cluster = { url: one('cluster')! };
  if (seen.has('workers')) {
    const workers = one('workers')!;
    if (workers !== 'auto' && !/^[0-9]+$/.test(workers)) throw new UsageError(`option --workers must be a number of processes or auto`);
    // The schema checks the range, naming cluster.workers.
    overrides.cluster = { ...overrides.cluster, workers: workers === 'auto' ? 'auto' : Number(workers) };
  }
  if (seen.has('log-format')) {
    const format = one('log-format')!;
    if (format !== 'json' && format !== 'pretty' && format !== 'auto') throw new UsageError(`option --log-format must be json, pretty or auto`);
    overrides.log = { format };
  }

  const configFile = one('config');
  return configFile === undefined ? { help, overrides } : { help, configFile, overrides };
}
