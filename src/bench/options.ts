// Command-line options of `parley bench`: every count, rate and duration is bounded, and the
// target must be a loopback address (this tool loads a server on this machine only).
import net from 'node:net';

export const SCENARIOS = ['connect', 'fanout', 'rooms', 'history'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export class BenchUsageError extends Error {}

export interface BenchOptions {
  scenario: Scenario;
  host: string;
  /** The first of `ports`. */
  port: number;
  /** Several ports (nodes of one network): clients are spread over them in turn. */
  ports: number[];
  tls: boolean;
  /** ws:// or wss:// URL: connect over WebSocket (subprotocol text.ircv3.net) instead of TCP. */
  ws: string | null;
  /** connect, history: clients; fanout: members; rooms: users. */
  clients: number;
  senders: number;
  samplers: number;
  /** fanout: messages/s in total; rooms: messages/s per user. */
  rate: number;
  /** fanout: window mode, at most this many unacknowledged messages per sender (null: rate mode). */
  window: number | null;
  roomSize: number;
  room: string;
  seed: number;
  limit: number;
  duration: number;
  warmup: number;
  concurrency: number;
  timeoutMs: number;
  workers: number;
  pid: number | null;
  /** Each server's /metrics URL (loopback), read once a second into the report. */
  metrics: string[];
  out: string;
  quiet: boolean;
  help: boolean;
}

interface Spec {
  key: keyof BenchOptions;
  kind: 'int' | 'num' | 'str' | 'bool' | 'ports' | 'urls';
  min?: number;
  max?: number;
}

const SPECS: Record<string, Spec> = {
  host: { key: 'host', kind: 'str' },
  port: { key: 'ports', kind: 'ports', min: 1, max: 65535 },
  tls: { key: 'tls', kind: 'bool' },
  ws: { key: 'ws', kind: 'str' },
  clients: { key: 'clients', kind: 'int', min: 1, max: 20000 },
  members: { key: 'clients', kind: 'int', min: 2, max: 20000 },
  users: { key: 'clients', kind: 'int', min: 2, max: 20000 },
  senders: { key: 'senders', kind: 'int', min: 1, max: 1000 },
  samplers: { key: 'samplers', kind: 'int', min: 1, max: 1000 },
  rate: { key: 'rate', kind: 'num', min: 0.01, max: 100000 },
  window: { key: 'window', kind: 'int', min: 1, max: 1000 },
  'room-size': { key: 'roomSize', kind: 'int', min: 2, max: 1000 },
  room: { key: 'room', kind: 'str' },
  seed: { key: 'seed', kind: 'int', min: 0, max: 100000 },
  limit: { key: 'limit', kind: 'int', min: 1, max: 10000 },
  duration: { key: 'duration', kind: 'num', min: 0.5, max: 3600 },
  warmup: { key: 'warmup', kind: 'num', min: 0, max: 600 },
  concurrency: { key: 'concurrency', kind: 'int', min: 1, max: 5000 },
  timeout: { key: 'timeoutMs', kind: 'num', min: 0.1, max: 300 },
  workers: { key: 'workers', kind: 'int', min: 0, max: 16 },
  pid: { key: 'pid', kind: 'int', min: 1, max: 2 ** 31 },
  metrics: { key: 'metrics', kind: 'urls' },
  out: { key: 'out', kind: 'str' },
  quiet: { key: 'quiet', kind: 'bool' },
  help: { key: 'help', kind: 'bool' },
};

const DEFAULTS: Record<Scenario, Partial<BenchOptions>> = {
  connect: { clients: 100 },
  fanout: { clients: 100, rate: 20 },
  rooms: { clients: 100, rate: 1 },
  history: { clients: 5, seed: 100 },
};

/** Which options each scenario uses (besides the common ones). */
const SCENARIO_OPTIONS: Record<Scenario, string[]> = {
  connect: ['clients', 'room', 'workers'],
  fanout: ['members', 'senders', 'samplers', 'rate', 'window', 'room', 'warmup', 'workers'],
  rooms: ['users', 'room-size', 'rate', 'warmup', 'workers'],
  history: ['clients', 'room', 'seed', 'limit'],
};
const COMMON = ['host', 'port', 'tls', 'ws', 'duration', 'concurrency', 'timeout', 'pid', 'metrics', 'out', 'quiet', 'help'];

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost') return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  if (net.isIPv6(h)) return h === '::1' || /^::ffff:127\./.test(h);
  return false;
}

export function parseBenchArgs(argv: string[]): BenchOptions {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') return { ...base('connect'), help: true };
  if (!(SCENARIOS as readonly string[]).includes(first)) {
    throw new BenchUsageError(first.startsWith('-') ? `a scenario comes first: ${SCENARIOS.join(', ')}` : `unknown scenario '${first}' (one of ${SCENARIOS.join(', ')})`);
  }
  const scenario = first as Scenario;
  const options: BenchOptions = { ...base(scenario), ...DEFAULTS[scenario] } as BenchOptions;
  const allowed = new Set([...COMMON, ...SCENARIO_OPTIONS[scenario]]);
  const given = new Set<string>();
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg === '-h') {
      options.help = true;
      continue;
    }
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new BenchUsageError(`unexpected argument '${arg}'`);
    const name = match[1]!;
    const spec = SPECS[name];
    if (!spec) throw new BenchUsageError(`unknown option --${name}`);
    if (!allowed.has(name)) throw new BenchUsageError(`--${name} does not apply to the ${scenario} scenario`);
    given.add(name);
    if (spec.kind === 'bool') {
      if (match[2] !== undefined) throw new BenchUsageError(`--${name} takes no value`);
      (options as unknown as Record<string, unknown>)[spec.key] = true;
      continue;
    }
    let value = match[2];
    if (value === undefined) {
      value = rest[++i];
      if (value === undefined || value.startsWith('--')) throw new BenchUsageError(`--${name} needs a value`);
    }
    (options as unknown as Record<string, unknown>)[spec.key] = convert(name, spec, value);
  }
  if (options.help) return options;
  options.port = options.ports[0]!;
  if (options.ports.length > 1 && options.ws !== null) throw new BenchUsageError('--port with several ports applies to TCP, not --ws');
  options.timeoutMs = options.timeoutMs * 1000;
  if (!isLoopback(options.host)) throw new BenchUsageError(`--host ${options.host} is not a loopback address: parley bench only loads servers on this machine (127.0.0.0/8, ::1, localhost)`);
  if (options.ws !== null) {
    let url: URL;
    try {
      url = new URL(options.ws);
    } catch {
      throw new BenchUsageError(`--ws ${options.ws} is not a URL (ws://127.0.0.1:8080/)`);
    }
    if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new BenchUsageError(`--ws must be a ws:// or wss:// URL`);
    if (!isLoopback(url.hostname)) throw new BenchUsageError(`--ws ${options.ws} is not on a loopback address: parley bench only loads servers on this machine`);
    if (options.tls) throw new BenchUsageError('--tls applies to TCP; for TLS over WebSocket use a wss:// URL');
  }
  if (!/^[#&][^\s,]{1,60}$/.test(options.room)) throw new BenchUsageError(`--room ${options.room} is not a room name (#name)`);
  if (scenario === 'fanout') {
    if (options.senders > options.clients) throw new BenchUsageError(`--senders (${options.senders}) cannot exceed --members (${options.clients})`);
    if (options.window !== null) {
      if (given.has('rate')) throw new BenchUsageError('--rate and --window are two load modes: give one (--rate: a fixed schedule; --window: as fast as acknowledged)');
      // The acknowledging receiver is the first member that does not send.
      if (options.senders >= options.clients) throw new BenchUsageError('--window needs a member that does not send: --senders must be less than --members');
    } else if (options.rate * options.duration > 10_000_000) throw new BenchUsageError('--rate x --duration is more than 10,000,000 messages');
  }
  if (scenario === 'rooms' && options.roomSize > options.clients) throw new BenchUsageError(`--room-size (${options.roomSize}) cannot exceed --users (${options.clients})`);
  if (scenario === 'rooms' && options.rate * options.clients > 100_000) throw new BenchUsageError('--rate x --users is more than 100,000 messages/s');
  return options;
}

function base(scenario: Scenario): BenchOptions {
  return {
    scenario,
    host: '127.0.0.1',
    port: 6667,
    ports: [6667],
    tls: false,
    ws: null,
    clients: 100,
    senders: 5,
    samplers: 10,
    rate: 20,
    window: null,
    roomSize: 5,
    room: '#bench',
    seed: 100,
    limit: 50,
    duration: 10,
    warmup: 1,
    concurrency: 100,
    timeoutMs: 10,
    workers: 0,
    pid: null,
    metrics: [],
    // Not the working directory (a repository root): a folder .gitignore leaves out.
    out: 'bench-results',
    quiet: false,
    help: false,
  };
}

function convert(name: string, spec: Spec, value: string): unknown {
  if (spec.kind === 'urls') {
    const urls = value.split(',').map((part) => metricsUrl(name, part));
    if (urls.length > 64) throw new BenchUsageError(`--${name} takes at most 64 URLs`);
    return urls;
  }
  if (spec.kind === 'ports') {
    const ports = value.split(',').map((part) => convert(name, { ...spec, kind: 'int' }, part) as number);
    if (ports.length > 64) throw new BenchUsageError(`--${name} takes at most 64 ports`);
    return ports;
  }
  if (spec.kind === 'str') {
    if (value === '') throw new BenchUsageError(`--${name} needs a value`);
    return value;
  }
  const n = spec.kind === 'int' ? (/^\d+$/.test(value) ? Number(value) : NaN) : /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
  const what = spec.kind === 'int' ? 'a whole number' : 'a number';
  if (!Number.isFinite(n)) throw new BenchUsageError(`--${name} must be ${what}, not '${value}'`);
  if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
    throw new BenchUsageError(`--${name} must be between ${spec.min} and ${spec.max}, not ${value}`);
  }
  return n;
}

/** A /metrics address: http(s), on this machine, at most 64 of them. */
function metricsUrl(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new BenchUsageError(`--${name} ${value} is not a URL (http://127.0.0.1:8080/metrics)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new BenchUsageError(`--${name} must be an http:// or https:// URL, not ${value}`);
  if (!isLoopback(url.hostname)) throw new BenchUsageError(`--${name} ${value} is not on a loopback address: parley bench only reads servers on this machine`);
  return url.href;
}

export const BENCH_USAGE = `Usage: parley bench <scenario> [options]

Load-tests an IRC server on this machine (loopback addresses only) by simulating users.

Scenarios:
  connect   --clients N clients connect, register and join --room; time and failures
  fanout    --members M in one room, --senders S sending --rate msgs/s in total, or as
            fast as acknowledged with --window W; deliveries/s, end-to-end latency, lost
  rooms     --users U in rooms of --room-size K, each sending --rate msgs/s; latency
  history   --clients Q query CHATHISTORY LATEST --limit L in a loop after --seed messages;
            queries/s and latency (needs a server with draft/chathistory and batch)

Target:
  --host H          loopback address (default 127.0.0.1)
  --port P[,P...]   port (default 6667); several: the nodes of one network, clients
                    spread over them in turn
  --tls             TLS over TCP (certificates are not verified: loopback testing)
  --ws URL          WebSocket instead of TCP: ws://127.0.0.1:PORT/ (subprotocol text.ircv3.net)

Load:
  --clients N       connect, history: how many clients (default 100; history 5)
  --members N       fanout: members of the room, senders included (default 100)
  --users N         rooms: how many users (default 100)
  --senders S       fanout: members that send (default 5)
  --samplers N      fanout: members that time every message (default 10)
  --rate R          fanout: msgs/s in total (default 20); rooms: msgs/s per user (default 1)
  --window W        fanout, instead of --rate: each sender keeps at most W messages not yet
                    acknowledged (received by the first sampler) and sends the next as soon
                    as one is: throughput at saturation; latency is then mostly queueing
                    (in both modes fanout senders hold back while the members are on average
                    more than 1,000 messages behind, or a sender has 256 KiB unsent)
  --room-size K     rooms: members per room (default 5)
  --room NAME       the room (default #bench)
  --seed N          history: messages sent to the room before querying (default 100)
  --limit L         history: messages per query (default 50)
  --duration S      seconds of measured load (default 10; connect: at most this long)
  --warmup S        fanout, rooms: seconds of load before measuring (default 1)
  --concurrency N   connections being opened at once (default 100)
  --timeout S       per-client wait for registration, JOIN or a reply (default 10); fanout
                    --window: a window not acknowledged for this long is given up
  --workers N       fork N load-generating processes (default 0: all in this one)
                    fanout: they hold the passive members; rooms: the rooms are dealt out
                    to them, each runs its rooms whole; connect: the clients are dealt out;
                    not for history

Output:
  --pid PID         also sample the server's CPU and memory from /proc/PID
  --metrics URL[,URL...]
                    also read each server's /metrics (http://127.0.0.1:8080/metrics) once
                    a second: what the servers counted (messages in, deliveries, SendQ
                    drops, event-loop delay, memory, bus lag) goes in the report and charts
  --out DIR         where bench-<scenario>.json and bench-<scenario>.html go
                    (default bench-results/, made if missing)
  --quiet           no progress on stderr

Exit status: 0 the run completed (see the report for losses and errors); 1 it could not run,
or most of its users could not connect (the report is still written); 2 bad options.
`;
