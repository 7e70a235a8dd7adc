import type { RoomRegistration, RoomRegistrationStore } from '../store.js';
import type { Db } from './pool.js';

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
  /** json columns: pg parses them. */
  bans: RoomRegistration['bans'];
  operators: string[];
}

const COLUMNS =
  'key, name, founder, created_at, topic_text, topic_set_by, topic_set_at, mode_flags, mode_key, mode_limit, bans, operators';

function toValues(r: RoomRegistration): unknown[] {
  return [
    r.key,
    r.name,
    r.founder,
    r.createdAt,
    r.topic?.text ?? null,
    r.topic?.setBy ?? null,
    r.topic?.setAt ?? null,
    r.modes.flags,
    r.modes.key,
    r.modes.limit,
    // Copy only the documented fields so stray properties never reach the database.
    JSON.stringify(r.bans.map((b) => ({ mask: b.mask, setBy: b.setBy, setAt: b.setAt }))),
    JSON.stringify(r.operators),
  ];
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
    bans: row.bans,
    operators: row.operators,
  };
}

export class PgRoomRegistrationStore implements RoomRegistrationStore {
  constructor(private readonly db: Db) {}

  async save(registration: RoomRegistration): Promise<void> {
    await this.db.run(
      `INSERT INTO rooms (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (key) DO UPDATE SET
         name = excluded.name, founder = excluded.founder, created_at = excluded.created_at,
         topic_text = excluded.topic_text, topic_set_by = excluded.topic_set_by,
         topic_set_at = excluded.topic_set_at, mode_flags = excluded.mode_flags,
         mode_key = excluded.mode_key, mode_limit = excluded.mode_limit,
         bans = excluded.bans, operators = excluded.operators`,
      toValues(registration),
      'rooms.save',
    );
  }

  async get(key: string): Promise<RoomRegistration | null> {
    const rows = await this.db.query<RoomRow>(`SELECT ${COLUMNS} FROM rooms WHERE key = $1`, [key], 'rooms.get');
    return rows[0] ? fromRow(rows[0]) : null;
  }

  async delete(key: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM rooms WHERE key = $1', [key], 'rooms.delete')) === 1;
  }

  async list(): Promise<RoomRegistration[]> {
    return (await this.db.query<RoomRow>(`SELECT ${COLUMNS} FROM rooms ORDER BY key`)).map(fromRow);
  }
}
