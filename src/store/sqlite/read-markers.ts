import type Database from 'better-sqlite3';
import type { ReadMarkerStore } from '../store.js';

export class SqliteReadMarkerStore implements ReadMarkerStore {
  private readonly upsert: Database.Statement<[string, string, number], { time: number }>;
  private readonly select: Database.Statement<[string, string], { time: number }>;

  constructor(db: Database.Database) {
    this.upsert = db.prepare(
      `INSERT INTO read_markers (account, target, time) VALUES (?, ?, ?)
       ON CONFLICT (account, target) DO UPDATE SET time = max(time, excluded.time)
       RETURNING time`,
    );
    this.select = db.prepare('SELECT time FROM read_markers WHERE account = ? AND target = ?');
  }

  async set(account: string, target: string, time: number): Promise<number> {
    return this.upsert.get(account, target, time)!.time;
  }

  async get(account: string, target: string): Promise<number | null> {
    return this.select.get(account, target)?.time ?? null;
  }
}
