import type { MetadataEntry, MetadataSetResult, MetadataStore } from '../store.js';
import type { PgPool } from './pool.js';
import { addEntries } from '../rows.js';

/** First key of the advisory lock that orders the sets of one account (`'meta'`). */
const LOCK_CLASS = 0x6d657461;

export class PgMetadataStore implements MetadataStore {
  /** The pool itself, not just `Db`: `set` needs a connection of its own for its transaction. */
  constructor(private readonly db: PgPool) {}

  async list(account: string): Promise<MetadataEntry[]> {
    return this.db.query<MetadataEntry>('SELECT key, value FROM account_metadata WHERE account = $1 ORDER BY key', [account], 'metadata.list');
  }

  async listMany(accounts: readonly string[]): Promise<Map<string, MetadataEntry[]>> {
    const result = new Map<string, MetadataEntry[]>();
    if (accounts.length === 0) return result;
    const rows = await this.db.query<MetadataEntry & { account: string }>(
      'SELECT account, key, value FROM account_metadata WHERE account = ANY($1::text[]) ORDER BY account, key',
      [accounts],
      'metadata.listMany',
    );
    addEntries(result, rows);
    return result;
  }

  /**
   * Atomic across nodes: a transaction-scoped advisory lock per account orders concurrent sets,
   * and the count is read after it was taken (a statement of its own, so under READ COMMITTED it
   * sees every set committed before), so two nodes cannot both add the last key allowed.
   */
  async set(account: string, key: string, value: string, maxKeys: number): Promise<MetadataSetResult> {
    const client = await this.db.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_CLASS, account]);
      const inserted = await client.query(
        `INSERT INTO account_metadata (account, key, value)
         SELECT $1, $2, $3
         WHERE EXISTS (SELECT 1 FROM account_metadata WHERE account = $1 AND key = $2)
            OR (SELECT count(*) FROM account_metadata WHERE account = $1) < $4
         ON CONFLICT (account, key) DO UPDATE SET value = excluded.value`,
        [account, key, value, maxKeys],
      );
      await client.query('COMMIT');
      return (inserted.rowCount ?? 0) > 0 ? 'set' : 'limit';
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  async delete(account: string, key: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM account_metadata WHERE account = $1 AND key = $2', [account, key], 'metadata.delete')) > 0;
  }

  async clear(account: string): Promise<MetadataEntry[]> {
    const rows = await this.db.query<MetadataEntry>('DELETE FROM account_metadata WHERE account = $1 RETURNING key, value', [account], 'metadata.clear');
    return rows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }
}
