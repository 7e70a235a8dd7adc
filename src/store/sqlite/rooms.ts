import type Database from 'better-sqlite3';
import type { RoomRegistration, RoomRegistrationStore } from '../store.js';

interface RoomRow {
  key: string;
  name: string;
  founder: string;
  created_at: number;
  topic_text: string | null;
  topic_set_by: string | null;
  topic_set_at: number | null;
  mode_flags: string;
  mode_key: string | null;
  mode_limit: number | null;
  bans: string;
  operators: string;
}

const COLUMNS =
  'key, name, founder, created_at, topic_text, topic_set_by, topic_set_at, mode_flags, mode_key, mode_limit, bans, operators';

function toRow(r: RoomRegistration): RoomRow {
  return {
    key: r.key,
    name: r.name,
    founder: r.founder,
    created_at: r.createdAt,
    topic_text: r.topic?.text ?? null,
    topic_set_by: r.topic?.setBy ?? null,
    topic_set_at: r.topic?.setAt ?? null,
    mode_flags: r.modes.flags,
    mode_key: r.modes.key,
    mode_limit: r.modes.limit,
    // Copy only the documented fields so stray properties never reach the database.
    bans: JSON.stringify(r.bans.map((b) => ({ mask: b.mask, setBy: b.setBy, setAt: b.setAt }))),
    operators: JSON.stringify(r.operators),
  };
}

function fromRow(row: RoomRow): RoomRegistration {
  return {
    name: row.name,
    key: row.key,
    founder: row.founder,
    createdAt: row.created_at,
    topic:
      row.topic_text === null
        ? null
        : { text: row.topic_text, setBy: row.topic_set_by ?? '', setAt: row.topic_set_at ?? 0 },
    modes: { flags: row.mode_flags, key: row.mode_key, limit: row.mode_limit },
    bans: JSON.parse(row.bans) as RoomRegistration['bans'],
    operators: JSON.parse(row.operators) as string[],
  };
}

export class SqliteRoomRegistrationStore implements RoomRegistrationStore {
  private readonly upsert: Database.Statement<[RoomRow]>;
  private readonly selectOne: Database.Statement<[string], RoomRow>;
  private readonly selectAll: Database.Statement<[], RoomRow>;
  private readonly deleteRow: Database.Statement<[string]>;

  constructor(db: Database.Database) {
    this.upsert = db.prepare(
      `INSERT INTO rooms (${COLUMNS})
       VALUES (@key, @name, @founder, @created_at, @topic_text, @topic_set_by, @topic_set_at,
               @mode_flags, @mode_key, @mode_limit, @bans, @operators)
       ON CONFLICT (key) DO UPDATE SET
         name = excluded.name, founder = excluded.founder, created_at = excluded.created_at,
         topic_text = excluded.topic_text, topic_set_by = excluded.topic_set_by,
         topic_set_at = excluded.topic_set_at, mode_flags = excluded.mode_flags,
         mode_key = excluded.mode_key, mode_limit = excluded.mode_limit,
         bans = excluded.bans, operators = excluded.operators`,
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
