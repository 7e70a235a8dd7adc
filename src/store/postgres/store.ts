import type { Logger } from '../../observability/logger.js';
import type { Store } from '../store.js';
import { PgAccountStore } from './accounts.js';
import { PgServerBanStore } from './bans.js';
import { PgHistoryStore } from './history.js';
import { migrate } from './migrations.js';
import { PgUploadStore } from './uploads.js';
import { PgMetadataStore } from './metadata.js';
import { PgReadMarkerStore } from './read-markers.js';
import { PgRoomRegistrationStore } from './rooms.js';
import { PgSearchStore } from './search.js';
import { describePgError, PgPool, redactUrl, SCHEMA_NAME, type StoreHealth } from './pool.js';

export interface PgStoreOptions {
  /** `postgres://user:password@host:port/database?...` (libpq-style parameters work). */
  url: string;
  /** The schema every table lives in (created if missing); tests use one each. @default 'public' */
  schema?: string;
  /** Connections in the pool. @default 10 */
  poolSize?: number;
  logger: Logger;
  /** Rows one retention DELETE removes at most (tests make it small). @default 10000 */
  pruneBatch?: number;
  /** @default 10000 */
  connectTimeoutMs?: number;
}

/** Start-up failed: names the URL (without its password) and what went wrong. */
export class StoreOpenError extends Error {
  override name = 'StoreOpenError';
}

/**
 * The shared store for several Parley nodes: PostgreSQL through a pg.Pool. Every method is a
 * round trip (most are one statement, hence one transaction); nothing is cached here.
 */
export class PgStore implements Store {
  readonly accounts: PgAccountStore;
  readonly rooms: PgRoomRegistrationStore;
  readonly history: PgHistoryStore;
  readonly readMarkers: PgReadMarkerStore;
  readonly bans: PgServerBanStore;
  readonly metadata: PgMetadataStore;
  readonly uploads: PgUploadStore;
  readonly search: PgSearchStore;

  constructor(
    /** Exposed for diagnostics and tests; the store owns it and ends it. */
    readonly db: PgPool,
    readonly schema: string,
    pruneBatch?: number,
  ) {
    this.accounts = new PgAccountStore(db);
    this.rooms = new PgRoomRegistrationStore(db);
    this.history = new PgHistoryStore(db, pruneBatch);
    this.readMarkers = new PgReadMarkerStore(db);
    this.bans = new PgServerBanStore(db);
    this.metadata = new PgMetadataStore(db);
    this.uploads = new PgUploadStore(db);
    this.search = new PgSearchStore(db);
  }

  /** From the last query or background probe: `ok: false` while the database is unreachable. */
  health(): StoreHealth {
    return this.db.health();
  }

  /** Ends the pool (waits for queries in flight). Safe to call twice. */
  async close(): Promise<void> {
    await this.db.close();
  }
}

/** Connects, migrates `schema` to the latest version, and returns the store. */
export async function openPgStore(options: PgStoreOptions): Promise<PgStore> {
  const schema = options.schema ?? 'public';
  const where = `store.url ${redactUrl(options.url)}`;
  if (!SCHEMA_NAME.test(schema)) throw new StoreOpenError(`store.schema ${JSON.stringify(schema)}: not a plain lower-case identifier`);
  let db: PgPool;
  try {
    db = new PgPool({ url: options.url, schema, size: options.poolSize ?? 10, logger: options.logger, connectTimeoutMs: options.connectTimeoutMs });
  } catch (err) {
    throw new StoreOpenError(`${where}: ${describePgError(err)}`, { cause: err });
  }
  try {
    const client = await db.connect().catch((err: unknown) => {
      throw new StoreOpenError(`${where}: ${describePgError(err)}`, { cause: err });
    });
    try {
      await migrate(client, schema);
    } finally {
      client.release();
    }
  } catch (err) {
    await db.close().catch(() => {});
    if (err instanceof StoreOpenError) throw err;
    throw new StoreOpenError(`${where}: ${describePgError(err)}`, { cause: err });
  }
  db.startProbe();
  return new PgStore(db, schema, options.pruneBatch);
}
