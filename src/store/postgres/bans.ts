import { banFromRow as fromRow, type BanRow } from '../rows.js';
import type { ServerBan, ServerBanStore } from '../store.js';
import type { Db } from './pool.js';

export class PgServerBanStore implements ServerBanStore {
  constructor(private readonly db: Db) {}

  async save(ban: ServerBan): Promise<void> {
    await this.db.run(
      `INSERT INTO server_bans (kind, mask, reason, set_by, set_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (kind, mask) DO UPDATE SET reason = excluded.reason, set_by = excluded.set_by,
         set_at = excluded.set_at, expires_at = excluded.expires_at`,
      [ban.kind, ban.mask, ban.reason, ban.setBy, ban.setAt, ban.expiresAt],
      'bans.save',
    );
  }

  async delete(kind: ServerBan['kind'], mask: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM server_bans WHERE kind = $1 AND mask = $2', [kind, mask], 'bans.delete')) > 0;
  }

  async list(now: number): Promise<ServerBan[]> {
    const rows = await this.db.query<BanRow>(
      `SELECT kind, mask, reason, set_by, set_at, expires_at FROM server_bans
       WHERE expires_at IS NULL OR expires_at > $1 ORDER BY kind, mask`,
      [now],
      'bans.list',
    );
    return rows.map(fromRow);
  }

  async prune(now: number): Promise<number> {
    return this.db.run('DELETE FROM server_bans WHERE expires_at IS NOT NULL AND expires_at <= $1', [now], 'bans.prune');
  }
}
