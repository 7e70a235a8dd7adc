import type Database from 'better-sqlite3';
import type { UploadRecord, UploadReserveResult, UploadStore } from '../store.js';

interface UploadRow {
  id: string;
  account: string;
  filename: string | null;
  content_type: string;
  size: number;
  created_at: number;
}

const COLUMNS = 'id, account, filename, content_type, size, created_at';

export class SqliteUploadStore implements UploadStore {
  private readonly reserveSync: Database.Transaction<(upload: UploadRecord, quotaBytes: number) => UploadReserveResult>;
  private readonly completeOne: Database.Statement<[number, string]>;
  private readonly selectOne: Database.Statement<[string], UploadRow>;
  private readonly deleteOne: Database.Statement<[string]>;
  private readonly sumOf: Database.Statement<[string], { n: number }>;
  private readonly prunePendingSync: (olderThan: number) => string[];

  constructor(db: Database.Database) {
    this.sumOf = db.prepare('SELECT coalesce(sum(size), 0) AS n FROM uploads WHERE account = ?');
    const insert = db.prepare<[string, string, string | null, string, number, number]>(
      `INSERT INTO uploads (${COLUMNS}, pending) VALUES (?, ?, ?, ?, ?, ?, 1)`,
    );
    // One connection, one immediate transaction: the sum and the insert cannot interleave with
    // another reservation (other processes on the file wait for the write lock).
    this.reserveSync = db.transaction((u: UploadRecord, quotaBytes: number): UploadReserveResult => {
      if (this.sumOf.get(u.account)!.n + u.size > quotaBytes) return 'quota';
      insert.run(u.id, u.account, u.filename, u.contentType, u.size, u.createdAt);
      return 'reserved';
    });
    this.completeOne = db.prepare('UPDATE uploads SET size = ?, pending = 0 WHERE id = ? AND pending = 1');
    this.selectOne = db.prepare(`SELECT ${COLUMNS} FROM uploads WHERE id = ? AND pending = 0`);
    this.deleteOne = db.prepare('DELETE FROM uploads WHERE id = ?');
    const prune = db.prepare<[number], { id: string }>('DELETE FROM uploads WHERE pending = 1 AND created_at < ? RETURNING id');
    this.prunePendingSync = (olderThan) => prune.all(olderThan).map((r) => r.id);
  }

  async reserve(upload: UploadRecord, quotaBytes: number): Promise<UploadReserveResult> {
    return this.reserveSync.immediate(upload, quotaBytes);
  }

  async complete(id: string, size: number): Promise<boolean> {
    return this.completeOne.run(size, id).changes > 0;
  }

  async get(id: string): Promise<UploadRecord | null> {
    const row = this.selectOne.get(id);
    return row ? uploadFromRow(row) : null;
  }

  async delete(id: string): Promise<boolean> {
    return this.deleteOne.run(id).changes > 0;
  }

  async usage(account: string): Promise<number> {
    return this.sumOf.get(account)!.n;
  }

  async prunePending(olderThan: number): Promise<string[]> {
    return this.prunePendingSync(olderThan);
  }
}

/** A row of either store's `uploads` table as the interface's record. */
export function uploadFromRow(row: UploadRow): UploadRecord {
  return { id: row.id, account: row.account, filename: row.filename, contentType: row.content_type, size: row.size, createdAt: row.created_at };
}

export type { UploadRow };
