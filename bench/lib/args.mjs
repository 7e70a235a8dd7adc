// Command-line options of bench/run.mjs. Plain and strict: an unknown option is an error.

export const SERVER_KINDS = ['parley', 'ngircd', 'inspircd'];
/** The reference suite's measurements, in the order a round runs them. */
export const MEASUREMENTS = ['memory', 'throughput', 'latency'];

const DEFAULTS = {
  only: [...MEASUREMENTS],
  servers: [...SERVER_KINDS],
  rounds: 3, // every server measured once per round; rounds interleave the servers
  resultsMd: null, // where the Markdown summary goes (default: bench/RESULTS.md for a full run)
  connections: 10000,
  concurrency: 200,
  members: 1000,
  senders: 10,
  samplers: 10,
  duration: 10,
  warmup: 2,
  rate: 100, // latency: aggregate messages/s (x 999 members = ~100k deliveries/s)
  window: 8, // throughput: per-sender unacknowledged messages
  workers: 2,
  lazyMs: 50, // passive receivers read at most once per this many ms (0: as data arrives)
  maxBacklog: 1000, // messages the receivers as a whole may lag behind before senders wait
  sendq: 64 * 1024 * 1024,
  retries: 1, // fanout: measure again when other processes disturbed the run
  profile: false,
  parleyNagle: false, // experiment: Parley's client sockets keep Nagle on (setNoDelay made a no-op)
  timeout: null, // whole run, seconds: a watchdog ends everything after this (default 600 per round)
  out: null,
};

export const USAGE = `Usage: node bench/run.mjs [options]

  --only LIST              comma list of ${MEASUREMENTS.join(', ')} (default: all three)
  --servers LIST           comma list of ${SERVER_KINDS.join(', ')} (default: all three)
  --rounds N               measure every server N times, servers interleaved, medians reported (default ${DEFAULTS.rounds})
  --results-md FILE        Markdown summary (default bench/RESULTS.md for the full suite, else bench/out/RESULTS.md)
  --connections N          memory: idle registered connections (default ${DEFAULTS.connections})
  --concurrency N          memory: connections in flight while opening (default ${DEFAULTS.concurrency})
  --members N              fanout: members of #bench, senders included (default ${DEFAULTS.members})
  --senders N              fanout: members that send (default ${DEFAULTS.senders})
  --samplers N             fanout: receivers that parse every line for latency (default ${DEFAULTS.samplers})
  --duration S             fanout: measured seconds, after the warm-up (default ${DEFAULTS.duration})
  --warmup S               fanout: seconds of load before measuring (default ${DEFAULTS.warmup})
  --rate N                 latency: fixed aggregate send rate in messages/s (default ${DEFAULTS.rate})
  --window W               throughput: most unacknowledged messages per sender (default ${DEFAULTS.window})
  --workers N              fanout: child processes holding the passive receivers (default ${DEFAULTS.workers})
  --lazy-ms MS             fanout: passive receivers read at most once per MS ms (default: ${DEFAULTS.lazyMs}; 0: as data arrives)
  --max-backlog N          fanout: senders wait while receivers lag more than N messages (default ${DEFAULTS.maxBacklog})
  --sendq BYTES            server send queue per client (default ${DEFAULTS.sendq})
  --retries N              fanout: measure again (up to N times) when other processes used CPU meanwhile (default ${DEFAULTS.retries})
  --profile                run Parley under node --cpu-prof (profile in /tmp) and summarise it
  --parley-nagle           experiment: run Parley with Nagle on (its setNoDelay(true) made a no-op by a preload)
  --timeout S              watchdog for the whole run (default 600 per round)
  --out FILE               results file with every figure (default bench/out/results.json)
`;

const INTEGER_OPTIONS = ['rounds', 'retries', 'connections', 'concurrency', 'members', 'senders', 'samplers', 'window', 'workers', 'maxBacklog', 'sendq'];
const NUMBER_OPTIONS = ['duration', 'warmup', 'rate', 'timeout', 'lazyMs'];

export class UsageError extends Error {}

export function parseArgs(argv) {
  const opts = { ...DEFAULTS, servers: [...DEFAULTS.servers] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') return { help: true };
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument '${arg}'`);
    let [name, value] = arg.slice(2).split(/=(.*)/s, 2);
    if (name === 'profile' || name === 'parley-nagle') {
      opts[name === 'profile' ? 'profile' : 'parleyNagle'] = true;
      continue;
    }
    const key = name.replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!(key in DEFAULTS)) throw new UsageError(`unknown option --${name}`);
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
    }
    if (key === 'only') {
      opts.only = commaList(name, value, MEASUREMENTS);
    } else if (key === 'servers') {
      opts.servers = commaList(name, value, SERVER_KINDS);
    } else if (key === 'out' || key === 'resultsMd') {
      opts[key] = value;
    } else if (INTEGER_OPTIONS.includes(key)) {
      const n = Number(value);
      if (!Number.isInteger(n) || n < (key === 'retries' ? 0 : 1)) throw new UsageError(`--${name} must be a positive integer`);
      opts[key] = n;
    } else if (NUMBER_OPTIONS.includes(key)) {
      const n = Number(value);
      if (!Number.isFinite(n) || n < 0 || (n === 0 && key !== 'lazyMs')) throw new UsageError(`--${name} must be a positive number`);
      opts[key] = n;
    }
  }
  if (opts.senders >= opts.members) throw new UsageError('--senders must be smaller than --members');
  opts.samplers = Math.min(opts.samplers, opts.members - opts.senders);
  opts.timeout ??= 600 * opts.rounds;
  return opts;
}

/** The full reference suite: what bench/RESULTS.md should hold. */
export function isFullSuite(opts) {
  return MEASUREMENTS.every((m) => opts.only.includes(m)) && SERVER_KINDS.every((s) => opts.servers.includes(s)) && opts.rounds >= 3;
}

function commaList(name, value, allowed) {
  const list = [...new Set(value.split(',').map((s) => s.trim()).filter(Boolean))];
  for (const item of list) if (!allowed.includes(item)) throw new UsageError(`--${name}: unknown '${item}' (one of ${allowed.join(', ')})`);
  if (list.length === 0) throw new UsageError(`--${name} needs at least one of ${allowed.join(', ')}`);
  return list;
}
