import { mkdirSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Store } from '../store.js';
import { SqliteAccountStore } from './accounts.js';
import { SqliteServerBanStore } from './bans.js';
import { SqliteHistoryStore } from './history.js';
import { migrate } from './migrations.js';
import { SqliteUploadStore } from './uploads.js';
import { SqliteMetadataStore } from './metadata.js';
import { SqliteReadMarkerStore } from './read-markers.js';
import { SqliteRoomRegistrationStore } from './rooms.js';
import { SqliteSearchStore } from './search.js';

/** The database file inside the data directory. */
export const SQLITE_FILE_NAME = 'parley.sqlite3';

/** How long a statement waits for another connection's lock before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;
/** Page cache of the connection, KiB (SQLite's default is 2 MiB): keeps history indexes hot. */
const CACHE_KIB = 64 * 1024;

/** Where SQLite keeps the WAL index: the shared `-shm` file, or this process's memory. */
export type WalIndex = 'shared' | 'memory';

/** statfs f_type of filesystems that allocate a whole page for one written byte, and never move it. */
const WHOLE_PAGE_FILESYSTEMS = new Set([0x01021994 /* tmpfs */, 0xef53 /* ext2/3/4 */, 0x58465342 /* xfs */]);
/** The page size SQLite assumes when it grows `-shm` (unixShmMap, `pgsz`). */
const SHM_PAGE_BYTES = 4096;

/**
 * Why the WAL index is not always in `-shm` (issue 10: on a full disk the server died with
 * SIGBUS and no log line). SQLite maps `-shm` with MAP_SHARED and grows it by writing one byte
 * at the end of each 4 KiB page, so that the filesystem allocates the page before it is used.
 * That only works where one byte backs the whole page. With blocks smaller than a page (mke2fs
 * gives an ext4 image under 512 MiB 1 KiB blocks) the rest of the page stays a hole; on a
 * copy-on-write filesystem (btrfs, ZFS) every rewrite of a page needs new space. SQLite then
 * writes the index through the mapping, the kernel has to allocate inside the page fault, and
 * with the disk full its only answer is SIGBUS: the process dies at once, no exception, no log.
 * (Reproduced: ext4 with 1 KiB blocks filled to within about 25-32 KiB,
 * test/store/sqlite-full-disk.test.ts. tmpfs and ext4 with 4 KiB blocks answer
 * SQLITE_IOERR_SHMSIZE or SQLITE_FULL instead, which the server handles; XFS with 4 KiB blocks
 * by the same reasoning, not tried. The main database file is not mapped, mmap_size 0.)
 * So `-shm` is used only on filesystems known to allocate whole pages; elsewhere the connection
 * takes locking_mode EXCLUSIVE before WAL is first used, and SQLite keeps the index in heap
 * memory and never creates or maps `-shm`. The price there: no other process can open the
 * database while the server runs (`parley user`, a backup with the sqlite3 shell).
 */
export function walIndexFor(dir: string): WalIndex {
  const { type, bsize } = statfsSync(dir);
  return WHOLE_PAGE_FILESYSTEMS.has(type) && bsize >= SHM_PAGE_BYTES ? 'shared' : 'memory';
}

/** The embedded store: one SQLite file, one connection, every call synchronous underneath. */
export class SqliteStore implements Store {
  readonly accounts: SqliteAccountStore;
  readonly rooms: SqliteRoomRegistrationStore;
  readonly history: SqliteHistoryStore;
  readonly readMarkers: SqliteReadMarkerStore;
  readonly bans: SqliteServerBanStore;
  readonly metadata: SqliteMetadataStore;
  readonly uploads: SqliteUploadStore;
  readonly search: SqliteSearchStore;

  /** `db` is exposed for diagnostics and tests; the store owns it and closes it. */
  constructor(
    readonly db: Database.Database,
    readonly path: string,
    /** See walIndexFor. */
    readonly walIndex: WalIndex = 'shared',
  ) {
    this.accounts = new SqliteAccountStore(db);
    this.rooms = new SqliteRoomRegistrationStore(db);
    this.history = new SqliteHistoryStore(db);
    this.readMarkers = new SqliteReadMarkerStore(db);
    this.bans = new SqliteServerBanStore(db);
    this.metadata = new SqliteMetadataStore(db);
    this.uploads = new SqliteUploadStore(db);
    this.search = new SqliteSearchStore(db);
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
  const walIndex = walIndexFor(dir);
  const db = new Database(path);
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // No file is mapped into memory, for the reason walIndexFor gives: the database is read with
    // read() (mmap_size 0, this build's default, pinned here), and the WAL index is in -shm only
    // where that cannot fault. Both before the first access, which is when they take effect.
    db.pragma('mmap_size = 0');
    if (walIndex === 'memory') db.pragma('locking_mode = EXCLUSIVE');
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new Error(`could not switch ${path} to WAL mode (got ${String(mode)})`);
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma(`cache_size = -${CACHE_KIB}`);
    migrate(db);
    return new SqliteStore(db, path, walIndex);
  } catch (err) {
    db.close();
    throw err;
  }
}
