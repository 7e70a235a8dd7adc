import type Database from 'better-sqlite3';
import type { ReadMarkerStore } from '../store.js';

export class SqliteReadMarkerStore implements ReadMarkerStore {
  private readonly upsert: Database.Statement<[string, string, number], { time: number }>;
  private readonly select: Database.Statement<[string, string], { time: number }>;
  private readonly moveAll: (from: string, to: string) => void;

  constructor(db: Database.Database) {
    const copy = db.prepare<[string, string]>(
      `INSERT INTO read_markers (account, target, time) SELECT account, ?, time FROM read_markers WHERE target = ?
       ON CONFLICT (account, target) DO UPDATE SET time = max(time, excluded.time)`,
    );
    const drop = db.prepare<[string]>('DELETE FROM read_markers WHERE target = ?');
    this.moveAll = db.transaction((from: string, to: string) => {
      copy.run(to, from);
      drop.run(from);
    });
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

  async move(from: string, to: string): Promise<void> {
    if (from !== to) this.moveAll(from, to);
  }
}
