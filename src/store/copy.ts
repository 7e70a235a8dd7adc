import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { PgStore } from './postgres/store.js';
import { SCHEMA_VERSION as SQLITE_SCHEMA_VERSION, userVersion } from './sqlite/migrations.js';
import { SQLITE_FILE_NAME, SqliteStore } from './sqlite/store.js';
import type { StoredMessage } from './store.js';

/** How many of each thing a store holds. */
export interface StoreCounts {
  accounts: number;
  rooms: number;
  bans: number;
  readMarkers: number;
  /** Metadata keys, all accounts together (draft/metadata-2). */
  metadata: number;
  /** Uploaded files' metadata rows (soju.im/filehost), pending ones included; the files themselves are on disk. */
  uploads: number;
  messages: number;
}

export interface CopyOptions {
  /** Messages per append (one statement each). @default 2000 */
  batch?: number;
  /** Called as messages are copied: how many so far, of how many. */
  onProgress?: (done: number, total: number) => void;
}

/** Writes in flight at once for the row-at-a-time kinds (accounts, rooms, bans, markers). */
const PARALLEL = 16;

/**
 * Opens an SQLite store read-only, for copying while its server may still run (WAL readers do
 * not block it). `path` is the database file or the data directory holding parley.sqlite3. The
 * schema must be this version's: an older one is migrated by starting the server on it once.
 */
export function openSqliteSource(path: string): SqliteStore {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, SQLITE_FILE_NAME) : path;
  if (!existsSync(file)) throw new Error(`${file}: no such SQLite database`);
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const version = userVersion(db);
    if (version !== SQLITE_SCHEMA_VERSION) {
      throw new Error(
        version < SQLITE_SCHEMA_VERSION
          ? `${file}: schema version ${version}, this Parley expects ${SQLITE_SCHEMA_VERSION}; start \`parley serve\` on it once (it migrates), then copy`
          : `${file}: schema version ${version} is newer than this Parley (${SQLITE_SCHEMA_VERSION}); use the Parley that wrote it`,
      );
    }
    return new SqliteStore(db, file);
  } catch (err) {
    db.close();
    throw err;
  }
}

const COUNT_SQL = `SELECT (SELECT count(*) FROM accounts) AS accounts, (SELECT count(*) FROM rooms) AS rooms,
  (SELECT count(*) FROM server_bans) AS bans, (SELECT count(*) FROM read_markers) AS "readMarkers",
  (SELECT count(*) FROM account_metadata) AS metadata, (SELECT count(*) FROM uploads) AS uploads,
  (SELECT count(*) FROM messages) AS messages`;

export function countSqlite(store: SqliteStore): StoreCounts {
  return store.db.prepare<[], StoreCounts>(COUNT_SQL).get()!;
}

export async function countPg(store: PgStore): Promise<StoreCounts> {
  return (await store.db.query<StoreCounts>(COUNT_SQL))[0]!;
}

/** Runs `work` on every item, at most PARALLEL at once (the pool spreads them over its connections). */
async function eachParallel<T>(items: Iterable<T>, work: (item: T) => Promise<unknown>): Promise<void> {
  let chunk: Promise<unknown>[] = [];
  for (const item of items) {
    chunk.push(work(item));
    if (chunk.length >= PARALLEL) {
      await Promise.all(chunk);
      chunk = [];
    }
  }
  await Promise.all(chunk);
}

/**
 * Copies everything from an SQLite store into a PostgreSQL one: accounts with their password
 * hashes and SCRAM keys, room registrations, server bans, read markers, account metadata, upload metadata, and every message in
 * batches. Idempotent: accounts that exist get the source's credentials, rooms and bans are
 * upserted, read markers only move forward, metadata keys are upserted, messages already there (by msgid) are skipped; so a
 * second run changes nothing and leaves the same counts. Returns the counts of both afterwards.
 */
export async function copySqliteToPg(from: SqliteStore, to: PgStore, options: CopyOptions = {}): Promise<{ source: StoreCounts; target: StoreCounts }> {
  const batchSize = options.batch ?? 2000;
  const source = countSqlite(from);

  await eachParallel(await from.accounts.list(), async (account) => {
    if (!(await to.accounts.create(account))) await to.accounts.setPassword(account.key, account.passwordHash, account.scram);
  });
  await eachParallel(await from.rooms.list(), (room) => to.rooms.save(room));
  await eachParallel(await from.bans.list(Number.MIN_SAFE_INTEGER), (ban) => to.bans.save(ban));
  // Read markers have no listing in the Store interface; this reads the SQLite table directly.
  const markers = from.db.prepare<[], { account: string; target: string; time: number }>('SELECT account, target, time FROM read_markers').iterate();
  await eachParallel(markers, (m) => to.readMarkers.set(m.account, m.target, m.time));
  // Metadata has no listing across accounts either. No key limit here: the source already kept
  // its own, and a copy must not drop keys because the target's configuration is smaller.
  const metadata = from.db.prepare<[], { account: string; key: string; value: string }>('SELECT account, key, value FROM account_metadata').iterate();
  await eachParallel(metadata, (m) => to.metadata.set(m.account, m.key, m.value, Number.MAX_SAFE_INTEGER));
  // Upload metadata (the files stay in data_dir/uploads: copy that directory too, see
  // docs/operations.md). Rows are copied as they are, pending ones too (the target's sweep
  // removes those as it would its own); an id already there is skipped. No quota check: the
  // source kept its own.
  const uploads = from.db
    .prepare<[], { id: string; account: string; filename: string | null; content_type: string; size: number; created_at: number; pending: number }>(
      'SELECT id, account, filename, content_type, size, created_at, pending FROM uploads',
    )
    .iterate();
  await eachParallel(uploads, (u) =>
    to.db.run(
      `INSERT INTO uploads (id, account, filename, content_type, size, created_at, pending)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING`,
      [u.id, u.account, u.filename, u.content_type, u.size, u.created_at, u.pending === 1],
      'copy.uploads',
    ),
  );

  let done = 0;
  let pending: StoredMessage[] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    await to.history.append(pending);
    done += pending.length;
    pending = [];
    options.onProgress?.(done, source.messages);
  };
  options.onProgress?.(0, source.messages);
  for (const conversation of await from.history.conversations()) {
    // Events too (draft/event-playback): every row is copied.
    let page = await from.history.after(conversation, { time: Number.MIN_SAFE_INTEGER }, batchSize, { events: true });
    while (page.length > 0) {
      pending = pending.concat(page);
      if (pending.length >= batchSize) await flush();
      if (page.length < batchSize) break;
      page = await from.history.after(conversation, { msgid: page.at(-1)!.msgid }, batchSize, { events: true });
    }
  }
  await flush();
  return { source, target: await countPg(to) };
}
