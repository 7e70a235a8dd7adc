import type Database from 'better-sqlite3';
import { ACCOUNT_COLUMNS as COLUMNS, accountFromRow as fromRow, type AccountRow } from '../rows.js';
import type { AccountRecord, AccountStore, ScramCredentials } from '../store.js';

export class SqliteAccountStore implements AccountStore {
  private readonly insert: Database.Statement<[AccountRow]>;
  private readonly selectOne: Database.Statement<[string], AccountRow>;
  private readonly selectAll: Database.Statement<[], AccountRow>;
  private readonly updatePassword: Database.Statement<
    [{ key: string; hash: string; salt: string; iterations: number; storedKey: string; serverKey: string }]
  >;
  private readonly deleteAccount: (key: string) => boolean;

  constructor(db: Database.Database) {
    this.insert = db.prepare(
      `INSERT INTO accounts (${COLUMNS})
       VALUES (@key, @name, @password_hash, @scram_salt, @scram_iterations, @scram_stored_key,
               @scram_server_key, @email, @created_at)
       ON CONFLICT (key) DO NOTHING`,
    );
    this.selectOne = db.prepare(`SELECT ${COLUMNS} FROM accounts WHERE key = ?`);
    this.selectAll = db.prepare(`SELECT ${COLUMNS} FROM accounts ORDER BY key`);
    this.updatePassword = db.prepare(
      `UPDATE accounts SET password_hash = @hash, scram_salt = @salt, scram_iterations = @iterations,
              scram_stored_key = @storedKey, scram_server_key = @serverKey
       WHERE key = @key`,
    );
    const deleteMarkers = db.prepare<[string]>('DELETE FROM read_markers WHERE account = ?');
    const deleteMetadata = db.prepare<[string]>('DELETE FROM account_metadata WHERE account = ?');
    const deleteFounded = db.prepare<[string]>('DELETE FROM rooms WHERE founder = ?');
    const deleteRow = db.prepare<[string]>('DELETE FROM accounts WHERE key = ?');
    this.deleteAccount = db.transaction((key: string): boolean => {
      if (deleteRow.run(key).changes === 0) return false;
      deleteMarkers.run(key);
      deleteMetadata.run(key);
      // Losing the founder unregisters the room (a registration always has a founder).
      deleteFounded.run(key);
      return true;
    });
  }

  async create(account: AccountRecord): Promise<boolean> {
    const result = this.insert.run({
      key: account.key,
      name: account.name,
      password_hash: account.passwordHash,
      scram_salt: account.scram.salt,
      scram_iterations: account.scram.iterations,
      scram_stored_key: account.scram.storedKey,
      scram_server_key: account.scram.serverKey,
      email: account.email,
      created_at: account.createdAt,
    });
    return result.changes === 1;
  }

  async get(key: string): Promise<AccountRecord | null> {
    const row = this.selectOne.get(key);
    return row ? fromRow(row) : null;
  }

  async setPassword(key: string, passwordHash: string, scram: ScramCredentials): Promise<boolean> {
    const result = this.updatePassword.run({
      key,
      hash: passwordHash,
      salt: scram.salt,
      iterations: scram.iterations,
      storedKey: scram.storedKey,
      serverKey: scram.serverKey,
    });
    return result.changes === 1;
  }

  async delete(key: string): Promise<boolean> {
    return this.deleteAccount(key);
  }

  async list(): Promise<AccountRecord[]> {
    return this.selectAll.all().map(fromRow);
  }
}
