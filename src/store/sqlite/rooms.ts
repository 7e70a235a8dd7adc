import type Database from 'better-sqlite3';
import { ROOM_COLUMNS as COLUMNS, roomFromRow as fromRow, roomToRow as toRow, type RoomRow } from '../rows.js';
import type { RoomRegistration, RoomRegistrationStore } from '../store.js';

export class SqliteRoomRegistrationStore implements RoomRegistrationStore {
  private readonly upsert: Database.Statement<[RoomRow]>;
  private readonly selectOne: Database.Statement<[string], RoomRow>;
  private readonly selectAll: Database.Statement<[], RoomRow>;
  private readonly deleteRow: Database.Statement<[string]>;

  constructor(db: Database.Database) {
    this.upsert = db.prepare(
      `INSERT INTO rooms (${COLUMNS})
       VALUES (@key, @name, @founder, @created_at, @topic_text, @topic_set_by, @topic_set_at,
               @mode_flags, @mode_key, @mode_limit, @bans, @exceptions, @invite_exceptions, @operators)
       ON CONFLICT (key) DO UPDATE SET
         name = excluded.name, founder = excluded.founder, created_at = excluded.created_at,
         topic_text = excluded.topic_text, topic_set_by = excluded.topic_set_by,
         topic_set_at = excluded.topic_set_at, mode_flags = excluded.mode_flags,
         mode_key = excluded.mode_key, mode_limit = excluded.mode_limit,
         bans = excluded.bans, exceptions = excluded.exceptions,
         invite_exceptions = excluded.invite_exceptions, operators = excluded.operators`,
    );
    this.selectOne = db.prepare(`SELECT ${COLUMNS} FROM rooms WHERE key = ?`);
    this.selectAll = db.prepare(`SELECT ${COLUMNS} FROM rooms ORDER BY key`);
    this.deleteRow = db.prepare('DELETE FROM rooms WHERE key = ?');
  }

  async save(registration: RoomRegistration): Promise<void> {
    this.upsert.run(toRow(registration));
  }

  async get(key: string): Promise<RoomRegistration | null> {
    const row = this.selectOne.get(key);
    return row ? fromRow(row) : null;
  }

  async delete(key: string): Promise<boolean> {
    return this.deleteRow.run(key).changes === 1;
  }

  async list(): Promise<RoomRegistration[]> {
    return this.selectAll.all().map(fromRow);
  }
}
