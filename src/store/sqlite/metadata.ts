import type Database from 'better-sqlite3';
import type { MetadataEntry, MetadataSetResult, MetadataStore } from '../store.js';
import { addEntries } from '../rows.js';

/** Accounts per statement in listMany: well under SQLite's 32766 bound parameters. */
const MANY_CHUNK = 500;

export class SqliteMetadataStore implements MetadataStore {
  private readonly selectOne: Database.Statement<[string], MetadataEntry>;
  private readonly db: Database.Database;
  private readonly setSync: Database.Transaction<(account: string, key: string, value: string, maxKeys: number) => MetadataSetResult>;
  private readonly deleteOne: Database.Statement<[string, string]>;
  private readonly clearSync: (account: string) => MetadataEntry[];

  constructor(db: Database.Database) {
    this.db = db;
    this.selectOne = db.prepare('SELECT key, value FROM account_metadata WHERE account = ? ORDER BY key');
    const exists = db.prepare<[string, string], { n: number }>('SELECT 1 AS n FROM account_metadata WHERE account = ? AND key = ?');
    const count = db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM account_metadata WHERE account = ?');
    const upsert = db.prepare<[string, string, string]>(
      `INSERT INTO account_metadata (account, key, value) VALUES (?, ?, ?)
       ON CONFLICT (account, key) DO UPDATE SET value = excluded.value`,
    );
    // One connection, one transaction: the count and the insert cannot interleave with another set.
    this.setSync = db.transaction((account: string, key: string, value: string, maxKeys: number): MetadataSetResult => {
      if (!exists.get(account, key) && count.get(account)!.n >= maxKeys) return 'limit';
      upsert.run(account, key, value);
      return 'set';
    });
    this.deleteOne = db.prepare('DELETE FROM account_metadata WHERE account = ? AND key = ?');
    const deleteAll = db.prepare<[string], MetadataEntry>('DELETE FROM account_metadata WHERE account = ? RETURNING key, value');
    this.clearSync = db.transaction((account: string) => deleteAll.all(account).sort(byKey));
  }

  async list(account: string): Promise<MetadataEntry[]> {
    return this.selectOne.all(account);
  }

  async listMany(accounts: readonly string[]): Promise<Map<string, MetadataEntry[]>> {
    const result = new Map<string, MetadataEntry[]>();
    for (let i = 0; i < accounts.length; i += MANY_CHUNK) {
      const chunk = accounts.slice(i, i + MANY_CHUNK);
      const rows = this.db
        .prepare<string[], MetadataEntry & { account: string }>(
          `SELECT account, key, value FROM account_metadata WHERE account IN (${chunk.map(() => '?').join(',')}) ORDER BY account, key`,
        )
        .all(...chunk);
      addEntries(result, rows);
    }
    return result;
  }

  async set(account: string, key: string, value: string, maxKeys: number): Promise<MetadataSetResult> {
    return this.setSync.immediate(account, key, value, maxKeys);
  }

  async delete(account: string, key: string): Promise<boolean> {
    return this.deleteOne.run(account, key).changes > 0;
  }

  async clear(account: string): Promise<MetadataEntry[]> {
    return this.clearSync(account);
  }
}

/** Code point order, as SQLite's BINARY collation and PostgreSQL's COLLATE "C" compare. */
export function byKey(a: MetadataEntry, b: MetadataEntry): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}
