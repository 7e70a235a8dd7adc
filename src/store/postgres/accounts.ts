import { ACCOUNT_COLUMNS as COLUMNS, accountFromRow as fromRow, type AccountRow } from '../rows.js';
import type { AccountRecord, AccountStore, ScramCredentials } from '../store.js';
import type { Db } from './pool.js';

export class PgAccountStore implements AccountStore {
  constructor(private readonly db: Db) {}

  async create(a: AccountRecord): Promise<boolean> {
    const inserted = await this.db.run(
      `INSERT INTO accounts (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (key) DO NOTHING`,
      [a.key, a.name, a.passwordHash, a.scram.salt, a.scram.iterations, a.scram.storedKey, a.scram.serverKey, a.email, a.createdAt],
      'accounts.create',
    );
    return inserted === 1;
  }

  async get(key: string): Promise<AccountRecord | null> {
    const rows = await this.db.query<AccountRow>(`SELECT ${COLUMNS} FROM accounts WHERE key = $1`, [key], 'accounts.get');
    return rows[0] ? fromRow(rows[0]) : null;
  }

  async setPassword(key: string, passwordHash: string, scram: ScramCredentials): Promise<boolean> {
    const updated = await this.db.run(
      `UPDATE accounts SET password_hash = $2, scram_salt = $3, scram_iterations = $4,
              scram_stored_key = $5, scram_server_key = $6
       WHERE key = $1`,
      [key, passwordHash, scram.salt, scram.iterations, scram.storedKey, scram.serverKey],
      'accounts.setPassword',
    );
    return updated === 1;
  }

  /** One statement, so one transaction: the account, its read markers and the rooms it founded. */
  async delete(key: string): Promise<boolean> {
    const rows = await this.db.query<{ n: number }>(
      `WITH gone AS (DELETE FROM accounts WHERE key = $1 RETURNING key),
            markers AS (DELETE FROM read_markers WHERE account IN (SELECT key FROM gone)),
            metadata AS (DELETE FROM account_metadata WHERE account IN (SELECT key FROM gone)),
            -- Losing the founder unregisters the room (a registration always has a founder).
            founded AS (DELETE FROM rooms WHERE founder IN (SELECT key FROM gone))
       SELECT count(*) AS n FROM gone`,
      [key],
      'accounts.delete',
    );
    return rows[0]!.n === 1;
  }

  async list(): Promise<AccountRecord[]> {
    return (await this.db.query<AccountRow>(`SELECT ${COLUMNS} FROM accounts ORDER BY key`)).map(fromRow);
  }
}
