import type Database from 'better-sqlite3';
import { banFromRow as fromRow, type BanRow } from '../rows.js';
import type { ServerBan, ServerBanStore } from '../store.js';

export class SqliteServerBanStore implements ServerBanStore {
  private readonly upsert: Database.Statement<[BanRow]>;
  private readonly remove: Database.Statement<[string, string]>;
  private readonly selectLive: Database.Statement<[number], BanRow>;
  private readonly removeExpired: Database.Statement<[number]>;

  constructor(db: Database.Database) {
    this.upsert = db.prepare(
      `INSERT INTO server_bans (kind, mask, reason, set_by, set_at, expires_at)
       VALUES (@kind, @mask, @reason, @set_by, @set_at, @expires_at)
       ON CONFLICT (kind, mask) DO UPDATE SET reason = excluded.reason, set_by = excluded.set_by,
         set_at = excluded.set_at, expires_at = excluded.expires_at`,
    );
    this.remove = db.prepare('DELETE FROM server_bans WHERE kind = ? AND mask = ?');
    this.selectLive = db.prepare(
      `SELECT kind, mask, reason, set_by, set_at, expires_at FROM server_bans
       WHERE expires_at IS NULL OR expires_at > ? ORDER BY kind, mask`,
    );
    this.removeExpired = db.prepare('DELETE FROM server_bans WHERE expires_at IS NOT NULL AND expires_at <= ?');
  }

  async save(ban: ServerBan): Promise<void> {
    this.upsert.run({
      kind: ban.kind,
      mask: ban.mask,
      reason: ban.reason,
      set_by: ban.setBy,
      set_at: ban.setAt,
      expires_at: ban.expiresAt,
    });
  }

  async delete(kind: ServerBan['kind'], mask: string): Promise<boolean> {
    return this.remove.run(kind, mask).changes > 0;
  }

  async list(now: number): Promise<ServerBan[]> {
    return this.selectLive.all(now).map(fromRow);
  }

  async prune(now: number): Promise<number> {
    return this.removeExpired.run(now).changes;
  }
}
