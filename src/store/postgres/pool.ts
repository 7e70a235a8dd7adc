import type { StoreHealth } from '../store.js';
import pg from 'pg';
import type { Logger } from '../../observability/logger.js';

/** What the sub-stores see: one statement per call, on any pooled connection. */
export interface Db {
  /**
   * Runs one statement (autocommit: a statement is its own transaction). `name` makes it a
   * prepared statement, parsed once per connection; give it only to fixed SQL text.
   */
  query<R extends object>(text: string, values?: readonly unknown[], name?: string): Promise<R[]>;
  /** Like query, with the number of rows a write changed. */
  run(text: string, values?: readonly unknown[], name?: string): Promise<number>;
}

export interface PoolOptions {
  url: string;
  /** Every connection gets `search_path` set to this schema (created if missing by migrations). */
  schema: string;
  size: number;
  logger: Logger;
  /** Fail a connection attempt after this long. */
  connectTimeoutMs?: number;
}

/** The health /healthz reports (store.ts): the outcome of the last query or probe. */
export type { StoreHealth } from '../store.js';

/** Unquoted identifiers only, so a schema name can go into `search_path` as is. */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

const INT8_OID = 20;
/** Times and counts are bigint; pg returns them as strings unless told otherwise. */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

/** While healthy: a round trip this often, so /healthz notices a database that went away. */
const PROBE_MS = 5000;
/** While unhealthy: probe again after 0.5 s, doubling up to this. */
const MAX_BACKOFF_MS = 30_000;

/** The URL as it may be shown: no password (in the userinfo or a `password` parameter). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    u.searchParams.delete('password');
    return u.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}

/** A readable reason for a connection failure: `connection refused`, not a stack. */
export function describePgError(err: unknown): string {
  const e = err as { code?: string; message?: string; errors?: unknown[] };
  switch (e.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case 'ETIMEDOUT':
      return 'connection timed out';
    case 'ECONNRESET':
      return 'connection reset';
    case '28P01':
    case '28000':
      return e.message ?? 'authentication failed';
  }
  // Node's dual-stack connect reports an AggregateError whose message is empty.
  if (!e.message && Array.isArray(e.errors) && e.errors.length > 0) return describePgError(e.errors[0]);
  return e.message || String(err);
}

/**
 * A failure of the connection rather than of the statement: no SQLSTATE (socket errors,
 * "Connection terminated"), class 08 (connection exception), or 57P (server shutting down).
 */
export function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return true;
  return code.startsWith('08') || code.startsWith('57P');
}

/**
 * A pg.Pool with health tracking. pg.Pool opens connections on demand, so after the database
 * comes back the next query simply reconnects; errors of idle connections arrive as the pool's
 * 'error' event, which is logged and never thrown (an unhandled 'error' would end the process).
 */
export class PgPool implements Db {
  readonly pool: pg.Pool;
  private readonly logger: Logger;
  private lastError: string | null = null;
  private probeTimer: NodeJS.Timeout | null = null;
  private backoffMs = 500;
  private closed = false;
  /** Set once the store has opened: from then on, losing the database is logged. */
  private live = false;

  constructor(options: PoolOptions) {
    const url = new URL(options.url);
    // Our search_path goes with any `options` the URL itself carries (which would win otherwise).
    const extra = url.searchParams.get('options');
    url.searchParams.delete('options');
    this.logger = options.logger;
    this.pool = new pg.Pool({
      connectionString: url.toString(),
      options: `${extra ? `${extra} ` : ''}-c search_path=${options.schema}`,
      max: options.size,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      idleTimeoutMillis: 30_000,
      types: TYPES,
      application_name: 'parley',
    });
    this.pool.on('error', (err) => {
      this.logger.error('store: idle PostgreSQL connection failed', { err: describePgError(err) });
      this.failed(err);
    });
  }

  async query<R extends object>(text: string, values?: readonly unknown[], name?: string): Promise<R[]> {
    return (await this.execute<R>(text, values, name)).rows;
  }

  async run(text: string, values?: readonly unknown[], name?: string): Promise<number> {
    return (await this.execute(text, values, name)).rowCount ?? 0;
  }

  /** A connection of its own, for transactions; release it. */
  async connect(): Promise<pg.PoolClient> {
    try {
      return this.succeeded(await this.pool.connect());
    } catch (err) {
      throw this.failed(err);
    }
  }

  health(): StoreHealth {
    return this.lastError === null ? { ok: true } : { ok: false, error: this.lastError };
  }

  /** Starts the background probe that keeps health() current while no queries run. */
  startProbe(): void {
    this.live = true;
    if (!this.closed && !this.probeTimer) this.scheduleProbe(PROBE_MS);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = null;
    await this.pool.end();
  }

  private async execute<R extends object>(text: string, values?: readonly unknown[], name?: string): Promise<pg.QueryResult<R>> {
    try {
      const config: pg.QueryConfig = { text, values: values as unknown[] | undefined };
      if (name) config.name = name;
      return this.succeeded(await this.pool.query<R>(config));
    } catch (err) {
      throw this.failed(err);
    }
  }

  private succeeded<T>(value: T): T {
    if (this.lastError !== null) {
      this.lastError = null;
      this.backoffMs = 500;
      if (this.live) this.logger.info('store: PostgreSQL connection restored');
    }
    return value;
  }

  private failed(err: unknown): unknown {
    if (!isConnectionError(err) || this.closed) return err;
    const reason = describePgError(err);
    // Before start-up completes, the caller reports the failure (openPgStore's StoreOpenError).
    if (this.lastError === null && this.live) {
      this.logger.error('store: PostgreSQL unreachable; retrying', { err: reason });
      // Probe sooner while down, so health recovers without waiting for traffic.
      if (this.probeTimer) {
        clearTimeout(this.probeTimer);
        this.scheduleProbe(this.backoffMs);
      }
    }
    this.lastError = reason;
    return err;
  }

  private scheduleProbe(ms: number): void {
    if (this.closed) return;
    this.probeTimer = setTimeout(() => {
      this.probeTimer = null;
      this.execute('SELECT 1').then(
        () => this.scheduleProbe(PROBE_MS),
        () => {
          this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
          this.scheduleProbe(this.backoffMs);
        },
      );
    }, ms);
    this.probeTimer.unref();
  }
}
