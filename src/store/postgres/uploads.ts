import type { UploadRecord, UploadReserveResult, UploadStore } from '../store.js';
import { uploadFromRow, type UploadRow } from '../sqlite/uploads.js';
import type { PgPool } from './pool.js';

/** First key of the advisory lock that orders the reservations of one account (`'upld'`). */
const LOCK_CLASS = 0x75706c64;
const COLUMNS = 'id, account, filename, content_type, size, created_at';

export class PgUploadStore implements UploadStore {
  /** The pool itself, not just `Db`: `reserve` needs a connection of its own for its transaction. */
  constructor(private readonly db: PgPool) {}

  /**
   * Atomic across nodes: a transaction-scoped advisory lock per account orders concurrent
   * reservations, and the sum is read after it was taken (under READ COMMITTED a statement sees
   * every reservation committed before), so two uploads cannot both take the last bytes.
   */
  async reserve(u: UploadRecord, quotaBytes: number): Promise<UploadReserveResult> {
    const client = await this.db.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_CLASS, u.account]);
      const inserted = await client.query(
        `INSERT INTO uploads (${COLUMNS}, pending)
         SELECT $1, $2, $3, $4, $5::bigint, $6::bigint, true
         WHERE (SELECT coalesce(sum(size), 0) FROM uploads WHERE account = $2) + $5::bigint <= $7::bigint`,
        [u.id, u.account, u.filename, u.contentType, u.size, u.createdAt, quotaBytes],
      );
      await client.query('COMMIT');
      return (inserted.rowCount ?? 0) > 0 ? 'reserved' : 'quota';
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  async complete(id: string, size: number): Promise<boolean> {
    return (await this.db.run('UPDATE uploads SET size = $2, pending = false WHERE id = $1 AND pending', [id, size], 'uploads.complete')) > 0;
  }

  async get(id: string): Promise<UploadRecord | null> {
    const rows = await this.db.query<UploadRow>(`SELECT ${COLUMNS} FROM uploads WHERE id = $1 AND NOT pending`, [id], 'uploads.get');
    return rows[0] ? uploadFromRow(rows[0]) : null;
  }

  async delete(id: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM uploads WHERE id = $1', [id], 'uploads.delete')) > 0;
  }

  async usage(account: string): Promise<number> {
    const rows = await this.db.query<{ n: number }>('SELECT coalesce(sum(size), 0)::bigint AS n FROM uploads WHERE account = $1', [account], 'uploads.usage');
    return rows[0]!.n;
  }

  async prunePending(olderThan: number): Promise<string[]> {
    const rows = await this.db.query<{ id: string }>('DELETE FROM uploads WHERE pending AND created_at < $1 RETURNING id', [olderThan], 'uploads.prunePending');
    return rows.map((r) => r.id);
  }
}
