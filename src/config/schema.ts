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
