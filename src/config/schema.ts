import { z } from 'zod';
import { checkHostPort } from './host-port.js';

// Sections use .prefault({}) rather than .default(): prefault runs the
// fallback through the schema, so an absent section still gets its inner
// defaults (zod 4's .default() would return the fallback verbatim).

const hostPort = z.string().superRefine((s, ctx) => {
  const result = checkHostPort(s);
  if (typeof result === 'string') ctx.addIssue({ code: 'custom', message: result });
});

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

const tls = z
  .object({
    listen: z.array(hostPort).default([]),
    cert: path.nullable().default(null),
    key: path.nullable().default(null),
  })
  .strict()
  .superRefine((t, ctx) => {
    if (t.listen.length === 0) return;
    for (const k of ['cert', 'key'] as const) {
      if (t[k] === null) ctx.addIssue({ code: 'custom', path: [k], message: 'is required when tls.listen is not empty' });
    }
  });

const http = z
  .object({
    listen: hostPort.nullable().default(null),
  })
  .strict();

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
    sendq_bytes: int(4096).default(1048576),
    ping_interval_seconds: seconds.default(90),
    ping_timeout_seconds: seconds.default(120),
    registration_timeout_seconds: seconds.default(60),
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
    // Who holds a registered nick without logging in is renamed after this long.
    nick_protection_seconds: z.number().min(0).default(60),
    // Failed logins allowed within the window per account, and per client address (higher:
    // many people may share one address), then refused until the window passes.
    max_failed_logins: int(1).default(5),
    max_failed_logins_per_address: int(1).default(20),
    failed_login_window_seconds: seconds.default(300),
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
  })
  .strict();

const log = z
  .object({
    level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  })
  .strict();

export const configSchema = z
  .object({
    server: server.prefault({}),
    listen: z.array(hostPort).default(['127.0.0.1:6667']),
    tls: tls.prefault({}),
    http: http.prefault({}),
    data_dir: path.default('./data'),
    limits: limits.prefault({}),
    shutdown_timeout_seconds: seconds.default(5),
    log: log.prefault({}),
    accounts: accounts.prefault({}),
    opers: z.array(oper).default([]),
    history: history.prefault({}),
  })
  .strict();

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
