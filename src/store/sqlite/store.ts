import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Store } from '../store.js';
import { SqliteAccountStore } from './accounts.js';
import { SqliteServerBanStore } from './bans.js';
import { SqliteHistoryStore } from './history.js';
import { migrate } from './migrations.js';
import { SqliteReadMarkerStore } from './read-markers.js';
import { SqliteRoomRegistrationStore } from './rooms.js';

/** The database file inside the data directory. */
export const SQLITE_FILE_NAME = 'parley.sqlite3';

/** How long a statement waits for another connection's lock before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;
/** Page cache of the connection, KiB (SQLite's default is 2 MiB): keeps history indexes hot. */
const CACHE_KIB = 64 * 1024;

/** The embedded store: one SQLite file, one connection, every call synchronous underneath. */
export class SqliteStore implements Store {
  readonly accounts: SqliteAccountStore;
  readonly rooms: SqliteRoomRegistrationStore;
  readonly history: SqliteHistoryStore;
  readonly readMarkers: SqliteReadMarkerStore;
  readonly bans: SqliteServerBanStore;

  /** `db` is exposed for diagnostics and tests; the store owns it and closes it. */
  constructor(
    readonly db: Database.Database,
    readonly path: string,
  ) {
    this.accounts = new SqliteAccountStore(db);
    this.rooms = new SqliteRoomRegistrationStore(db);
    this.history = new SqliteHistoryStore(db);
    this.readMarkers = new SqliteReadMarkerStore(db);
    this.bans = new SqliteServerBanStore(db);
  }

  /** Closes the connection (SQLite checkpoints the WAL). Safe to call twice. */
  closeSync(): void {
    if (this.db.open) this.db.close();
  }

  async close(): Promise<void> {
    this.closeSync();
  }
}

/**
 * Opens (creating if needed) `<dir>/parley.sqlite3`, creating `dir` too, and migrates it to
 * the latest schema. WAL with synchronous=NORMAL: a committed transaction survives the process
 * being killed (it is in the WAL file); only an OS crash or power loss can lose the last ones.
 */
export function openSqliteStore(dir: string): SqliteStore {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, SQLITE_FILE_NAME);
  const db = new Database(path);
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new Error(`could not switch ${path} to WAL mode (got ${String(mode)})`);
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma(`cache_size = -${CACHE_KIB}`);
    migrate(db);
    return new SqliteStore(db, path);
  } catch (err) {
    db.close();
    throw err;
  }
}
