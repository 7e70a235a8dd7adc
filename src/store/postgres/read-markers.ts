import type { ReadMarkerStore } from '../store.js';
import type { Db } from './pool.js';

export class PgReadMarkerStore implements ReadMarkerStore {
  constructor(private readonly db: Db) {}

  /** Atomic across nodes: the row lock of the upsert orders concurrent sets, GREATEST keeps the max. */
  async set(account: string, target: string, time: number): Promise<number> {
    const rows = await this.db.query<{ time: number }>(
      `INSERT INTO read_markers (account, target, time) VALUES ($1, $2, $3)
       ON CONFLICT (account, target) DO UPDATE SET time = GREATEST(read_markers.time, excluded.time)
       RETURNING time`,
      [account, target, time],
      'readMarkers.set',
    );
    return rows[0]!.time;
  }

  async get(account: string, target: string): Promise<number | null> {
    const rows = await this.db.query<{ time: number }>(
      'SELECT time FROM read_markers WHERE account = $1 AND target = $2',
      [account, target],
      'readMarkers.get',
    );
    return rows[0]?.time ?? null;
  }

  /** One statement, so atomic: the old rows deleted and their times upserted under the new target. */
  async move(from: string, to: string): Promise<void> {
    if (from === to) return;
    await this.db.run(
      `WITH moved AS (DELETE FROM read_markers WHERE target = $1 RETURNING account, time)
       INSERT INTO read_markers (account, target, time) SELECT account, $2, time FROM moved
       ON CONFLICT (account, target) DO UPDATE SET time = GREATEST(read_markers.time, excluded.time)`,
      [from, to],
      'readMarkers.move',
    );
  }
}
