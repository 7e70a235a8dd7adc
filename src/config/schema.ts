import { z } from 'zod';
import { checkHostPort } from './host-port.js';
// The one import outside config/: a pure parser, so a bad CIDR is reported with its key.
import { parseCidr } from '../limits/cidr.js';

// Sections use .prefault({}) rather than .default(): prefault runs the
// fallback through the schema, so an absent section still gets its inner
// defaults (zod 4's .default() would return the fallback verbatim).

const hostPort = z.string().superRefine((s, ctx) => {
  const result = checkHostPort(s);
  if (typeof result === 'string') ctx.addIssue({ code: 'custom', message: result });
});

const cidr = z.string().refine((s) => parseCidr(s) !== null, 'must be an IP address or a CIDR network such as 10.0.0.0/8');

/**
 * Mozilla's "intermediate" list for TLS 1.2 (ECDHE/DHE with AES-GCM or ChaCha20-Poly1305: all
 * forward secret, no CBC, no RSA key exchange) and the three TLS 1.3 suites.
 */
export const MODERN_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'DHE-RSA-AES128-GCM-SHA256',
  'DHE-RSA-AES256-GCM-SHA384',
  'DHE-RSA-CHACHA20-POLY1305',
].join(':');

const path = z.string().min(1);
const int = (min: number, max?: number) => {
  const base = z.number().int().min(min);
  return max === undefined ? base : base.max(max);
};
const seconds = z.number().positive();

const server = z
  .object({
    name: z
      .string()
      .min(1)
      .max(63) // longest label a server name can have in IRC numerics/prefixes
      .regex(/^[A-Za-z0-9.-]+$/, "must be a host name (letters, digits, '.' and '-' only)")
      .default('parley.local'),
    network: z.string().regex(/^\S+$/, 'must be a single word (no spaces)').default('Parley'),
    motd_file: path.nullable().default(null),
    password: z.string().min(1).nullable().default(null),
  })
  .strict();

// ADMIN (RPL_ADMINLOC1, RPL_ADMINLOC2, RPL_ADMINEMAIL): who runs this server. null: the reply
// says it is not configured.
const admin = z
  .object({
    location: z.string().min(1).max(300).nullable().default(null),
    organization: z.string().min(1).max(300).nullable().default(null),
    email: z.string().min(1).max(300).nullable().default(null),
  })
  .strict();

const tls = z
  .object({
    listen: z.array(hostPort).default([]),
    cert: path.nullable().default(null),
    key: path.nullable().default(null),
    // OpenSSL cipher string, TLS 1.3 suites included; the server's order wins.
    ciphers: z.string().min(1).default(MODERN_CIPHERS),
    // IRCv3 STS (ircv3.net/specs/extensions/sts): null = not advertised.
    sts_duration_seconds: int(0).nullable().default(null),
    // The port plain-text clients are told to reconnect to; null = the first TLS listener's.
    sts_port: int(1, 65535).nullable().default(null),
    sts_preload: z.boolean().default(false),
  })
  .strict();

const http = z
  .object({
    // The web client and IRC over WebSocket; null turns HTTP off.
    listen: hostPort.nullable().default('127.0.0.1:8080'),
    // Serve HTTPS and wss:// with tls.cert and tls.key instead of plain HTTP.
    tls: z.boolean().default(false),
    // Browser origins (e.g. "https://chat.example.org") allowed to open IRC WebSockets, besides
    // pages served by this listener itself. Requests without an Origin (non-browser clients)
    // are always allowed.
    allowed_origins: z.array(z.string().url()).default([]),
    // The origin(s) users load the web client from (e.g. "https://chat.example.org"): what
    // "pages served by this listener" means for the WebSocket Origin check. Null: the listen
    // address itself (http://127.0.0.1:PORT and http://localhost:PORT on loopback; none for a
    // wildcard address). Never the client-sent Host header (DNS rebinding).
    public_origin: z.union([z.string().url(), z.array(z.string().url()).min(1)]).nullable().default(null),
  })
  .strict()
  .superRefine((h, ctx) => {
    const bare = 'each entry must be a bare origin like https://chat.example.org';
    // Runs even when .url() failed (that reports a non-URL), so it must not throw on one.
    const notBare = (o: string) => URL.canParse(o) && new URL(o).origin !== o;
    if (h.allowed_origins.some(notBare)) {
      ctx.addIssue({ code: 'custom', path: ['allowed_origins'], message: bare });
    }
    const publicOrigins = h.public_origin === null ? [] : [h.public_origin].flat();
    if (publicOrigins.some(notBare)) {
      ctx.addIssue({ code: 'custom', path: ['public_origin'], message: bare });
    }
  });

const limits = z
  .object({
    nick_length: int(1, 64).default(30),
    channel_length: int(2, 100).default(64),
    topic_length: int(1, 1000).default(390),
    away_length: int(1, 1000).default(390),
    kick_length: int(1, 1000).default(390),
    realname_length: int(1, 500).default(150),
    channels_per_user: int(1).default(50),
    targets_per_message: int(1).default(4),
    list_max_bans: int(1).default(100),
    // SEARCH (soju.im/search) per connection: this many a minute, a quarter of them at once.
    searches_per_minute: int(1).default(30),
    sendq_bytes: int(4096).default(1048576),
    ping_interval_seconds: seconds.default(90),
    ping_timeout_seconds: seconds.default(120),
    registration_timeout_seconds: seconds.default(60),
    // A line must end (LF) within this long of its first byte (slowloris).
    incomplete_line_timeout_seconds: seconds.default(15),
    // TLS handshake, and the PROXY header on proxy listeners, must be done within this long.
    handshake_timeout_seconds: seconds.default(10),
    // Flood control (fakelag): a burst of this many lines, then this many per second; lines
    // over the rate wait, and more than recvq_bytes of waiting input is "Excess flood".
    command_burst: int(1).default(16),
    commands_per_second: z.number().positive().default(4),
    recvq_bytes: int(8704).default(16384),
    // Per address (an IPv6 /64 counts as one address).
    max_connections_per_address: int(1).default(16),
    connections_per_address_per_minute: int(1).default(30),
    // Exempt from the per-address limits and from flood control (not from bans or SendQ).
    exempt_addresses: z.array(cidr).default([]),
    // Loopback (127.0.0.0/8, ::1) skips the per-address limits above, not flood control.
    exempt_loopback: z.boolean().default(true),
    // Replies that could list the whole server are cut here (416 ERR_TOOMANYMATCHES).
    who_max_results: int(1).default(200),
    list_max_results: int(1).default(1000),
    // MONITOR list entries per client (ISUPPORT MONITOR=<n>; 734 ERR_MONLISTFULL past it).
    monitor_targets: int(0).max(10_000).default(100),
    // RENAME (draft/channel-rename): the least time between two renames of one room (FAIL RENAME
    // CANNOT_RENAME before it; every rename sends each member a burst), and how long the old
    // name then redirects JOIN to the new one (no room can take the old name meanwhile).
    room_rename_interval_seconds: int(0).max(86_400).default(300),
    room_rename_redirect_seconds: int(60).max(30 * 86_400).default(86_400),
    // draft/multiline (advertised in the cap value): bytes of one message's combined text and
    // its lines. Each member of a room receives up to max-lines lines per message, so the two
    // bound what one message costs a recipient's SendQ (about 600 bytes a line with tags).
    multiline_max_bytes: int(512, 65_536).default(4096),
    multiline_max_lines: int(2, 1000).default(100),
    // draft/metadata-2 (advertised in the cap value): keys one account may set (LIMIT_REACHED
    // past it), keys one connection may subscribe to (TOO_MANY_SUBS), bytes of one value
    // (VALUE_INVALID; at most 300 so that every reply carrying it fits in 512 bytes). Defaults
    // are Ergo's (100 and 100).
    metadata_max_keys: int(1, 1000).default(100),
    metadata_max_subs: int(1, 1000).default(100),
    metadata_max_value_bytes: int(1, 300).default(300),
    // METADATA SET and CLEAR on one's own metadata: a burst, then this many per minute
    // (RATE_LIMITED with the seconds to wait). Ergo's default: 10 per 2 minutes.
    metadata_set_burst: int(1).default(10),
    metadata_sets_per_minute: z.number().positive().default(5),
  })
  .strict();

// Listeners behind a load balancer that sends a PROXY protocol header (v1 or v2) first.
const proxy = z
  .object({
    listen: z.array(hostPort).default([]),
    tls_listen: z.array(hostPort).default([]),
    // Only peers in these networks may send a PROXY header (or X-Forwarded-For, for HTTP).
    trusted: z.array(cidr).default([]),
  })
  .strict();

const accounts = z
  .object({
    // Clients may create accounts themselves (REGISTER, NickServ REGISTER).
    registration: z.boolean().default(true),
    password_min_length: int(1, 256).default(8),
    // scrypt cost: N = 2^scrypt_log_n. 15 costs about 32 MiB and 50-100 ms per hash.
    scrypt_log_n: int(10, 20).default(15),
    scram_iterations: int(4096, 1000000).default(4096),
    // Registered nicks (equal to an account name): `strict` grants one only to a session logged
    // in to that account; `timeout` lets anyone take it and renames them after
    // nick_protection_seconds unless they log in; `off` does neither. See core/nick-protection.ts.
    nick_protection: z.enum(['strict', 'timeout', 'off']).default('strict'),
    // Timeout mode: who holds a registered nick without logging in is renamed after this long.
    nick_protection_seconds: z.number().min(0).default(60),
    // Failed logins allowed within the window per account, and per client address (higher:
    // many people may share one address), then refused until the window passes.
    max_failed_logins: int(1).default(5),
    max_failed_logins_per_address: int(1).default(20),
    failed_login_window_seconds: seconds.default(300),
    // Accounts created per client address per hour (REGISTER, NickServ REGISTER).
    max_registrations_per_address_per_hour: int(1).default(5),
    // Multiclient: a connection logged in to an account that asks for the nick a user of that
    // account holds on this node joins that user (same nick, rooms and messages on every device)
    // instead of getting 433; at most multiclient_max_connections per user. See core/multiclient.ts.
    multiclient: z.boolean().default(true),
    multiclient_max_connections: int(1, 100).default(10),
  })
  .strict();

const oper = z
  .object({
    name: z.string().regex(/^\S+$/, 'must be one word'),
    // An encoded hash from `parley hash-password`, never the password itself.
    password_hash: z.string().startsWith('$scrypt$', 'must be a hash made by `parley hash-password`'),
  })
  .strict();

const history = z
  .object({
    // Messages replayed on JOIN to clients that do not use CHATHISTORY.
    replay_on_join: int(0, 1000).default(50),
    // Most messages one CHATHISTORY request returns (ISUPPORT CHATHISTORY).
    max_query: int(1, 1000).default(100),
    // Retention: delete messages older than this many days (0 = keep forever) ...
    max_age_days: z.number().min(0).default(0),
    // ... and keep at most this many per conversation (0 = no limit).
    max_messages_per_conversation: int(0).default(0),
    // Per-room overrides, by room name: { '#lobby': { max_age_days: 7 } }.
    rooms: z
      .record(
        z.string().startsWith('#'),
        z.object({ max_age_days: z.number().min(0).optional(), max_messages_per_conversation: int(0).optional() }).strict(),
      )
      .default({}),
    retention_sweep_minutes: seconds.default(60),
    // REDACT (draft/message-redaction): a sender may redact a message of theirs for this many
    // seconds after it was sent (0 = no limit). Room and IRC operators are not bound by it.
    redact_window_seconds: int(0).default(3600),
    // draft/event-playback: store room events (JOIN PART QUIT KICK MODE TOPIC NICK, TAGMSG
    // reactions) in history for clients with the cap. They count against retention as messages do.
    events: z.boolean().default(true),
    // At most this many events stored per room and minute by each node (flapping JOIN/PART);
    // beyond it they are shown live but not stored.
    events_per_room_minute: int(1, 100_000).default(60),
  })
  .strict();

const store = z
  .object({
    // null: the embedded SQLite file in data_dir. postgres:// or postgresql://: PostgreSQL
    // (libpq-style URL; several nodes may share it). See docs/configuration.md#store.
    url: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL, or null for SQLite in data_dir')
      .nullable()
      .default(null),
    // PostgreSQL: the schema the tables live in (created if missing; search_path of every connection).
    schema: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a plain lower-case identifier').default('public'),
    // PostgreSQL: connections per process.
    pool_size: int(1, 1000).default(10),
  })
  .strict();

/** Most worker processes `cluster.workers` may ask for. */
export const MAX_WORKERS = 256;

const cluster = z
  .object({
    // null: this process is the whole network (the in-memory bus and shared state, the same
    // code path). redis:// or rediss://: join a network of nodes through that Redis (a single
    // instance, not Redis Cluster). See docs/scaling.md.
    url: z
      .string()
      .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL, or null for a single process')
      .nullable()
      .default(null),
    // Prepended to every Redis key and channel: networks (and test runs) sharing one Redis stay apart.
    prefix: z.string().min(1).max(64).regex(/^[A-Za-z0-9:._-]+$/, 'letters, digits and : . _ - only').default('parley:'),
    // Node processes `parley serve` runs on this machine (node:cluster: they share the listening
    // sockets), each a full node of the network through `url`; `auto`: one per CPU core. More
    // than 1 needs `url` and a store they can share (cli/workers/checks.ts).
    workers: z
      .union([int(1, MAX_WORKERS), z.literal('auto'), z.string().regex(/^[0-9]+$/).transform(Number).pipe(int(1, MAX_WORKERS))], {
        error: `must be a number of processes from 1 to ${MAX_WORKERS}, or auto (one per CPU core)`,
      })
      .default(1),
  })
  .strict();

const log = z
  .object({
    level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    // json: one JSON object per line; pretty: for people; auto: pretty when stderr is a terminal.
    format: z.enum(['auto', 'json', 'pretty']).default('auto'),
    // Lines of one event per second; the rest are counted in one `log lines suppressed` line.
    max_lines_per_second: int(1).default(20),
  })
  .strict();

// A MIME type (image/png) or a wildcard (image/* for a family, */* for any), lower-cased.
const mimePattern = z
  .string()
  .regex(/^(\*\/\*|[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*\/(\*|[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*))$/, 'must be a MIME type like image/png, or a wildcard like image/* or */*')
  .transform((t) => t.toLowerCase());

// File uploads (soju.im/filehost): POST /upload on http.listen, files under data_dir/uploads.
// Off by default: it stores what users send on this machine's disk and serves it from this
// server's origin, and with open registration anyone may get an account; an operator turns it on
// knowing the disk it may take (quota_bytes_per_account times the accounts). docs/configuration.md.
const uploads = z
  .object({
    enabled: z.boolean().default(false),
    // Largest file, in bytes (413 past it). 25 MiB.
    max_bytes: int(1).default(25 * 1024 * 1024),
    // What one account may keep in all, in bytes (507 past it). 250 MiB.
    quota_bytes_per_account: int(1).default(250 * 1024 * 1024),
    // Content-Types accepted (415 otherwise): exact types or wildcards. Served files cannot run
    // script whatever their type (docs/security.md), so the default takes any well-formed type.
    allowed_types: z.array(mimePattern).min(1).default(['*/*']),
    // Uploads per account per minute (429 past it).
    per_minute: int(1).default(10),
  })
  .strict();

// Prometheus metrics (GET /metrics). Restrict who can reach them: see docs/operations.md.
const metrics = z
  .object({
    enabled: z.boolean().default(true),
    // A listener of its own for /metrics (e.g. 127.0.0.1:9464), off the public HTTP port;
    // null: served on http.listen.
    listen: hostPort.nullable().default(null),
  })
  .strict();

export const configSchema = z
  .object({
    server: server.prefault({}),
    admin: admin.prefault({}),
    listen: z.array(hostPort).default(['127.0.0.1:6667']),
    tls: tls.prefault({}),
    proxy: proxy.prefault({}),
    http: http.prefault({}),
    data_dir: path.default('./data'),
    limits: limits.prefault({}),
    shutdown_timeout_seconds: seconds.default(5),
    // SIGTERM: the window over which clients are told to reconnect one by one (app.ts drain).
    // null: 5 s in a cluster (they reconnect to the other nodes), 0 alone (nowhere to go).
    shutdown_drain_seconds: z.number().min(0).max(600).nullable().default(null),
    log: log.prefault({}),
    metrics: metrics.prefault({}),
    accounts: accounts.prefault({}),
    opers: z.array(oper).default([]),
    history: history.prefault({}),
    store: store.prefault({}),
    cluster: cluster.prefault({}),
    uploads: uploads.prefault({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    const tlsListeners = c.tls.listen.length + c.proxy.tls_listen.length;
    if (tlsListeners > 0) {
      for (const k of ['cert', 'key'] as const) {
        if (c.tls[k] === null) ctx.addIssue({ code: 'custom', path: ['tls', k], message: 'is required when tls.listen or proxy.tls_listen is not empty' });
      }
    }
    if (c.tls.sts_duration_seconds !== null && tlsListeners === 0 && c.tls.sts_port === null) {
      ctx.addIssue({ code: 'custom', path: ['tls', 'sts_duration_seconds'], message: 'needs a TLS listener (tls.listen) or tls.sts_port' });
    }
    if (c.proxy.trusted.length === 0 && c.proxy.listen.length + c.proxy.tls_listen.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['proxy', 'trusted'], message: 'must name the load balancers when proxy listeners are configured' });
    }
  });

/** The fully-defaulted configuration the server runs with. */
export type Config = z.output<typeof configSchema>;
export type LogLevel = Config['log']['level'];

/** Objects become optional all the way down; arrays are replaced whole, never merged. */
export type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

export function defaultConfig(): Config {
  return configSchema.parse({});
}
