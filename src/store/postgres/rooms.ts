import { ROOM_COLUMNS as COLUMNS, roomFromRow as fromRow, roomToRow, type RoomRow } from '../rows.js';
import type { RoomRegistration, RoomRegistrationStore } from '../store.js';
import type { Db } from './pool.js';

/** The row's values in ROOM_COLUMNS order, for $1..$14. */
const toValues = (r: RoomRegistration): unknown[] => {
  const row = roomToRow(r) as unknown as Record<string, unknown>;
  return COLUMNS.split(', ').map((column) => row[column]);
};

export class PgRoomRegistrationStore implements RoomRegistrationStore {
  constructor(private readonly db: Db) {}

  async save(registration: RoomRegistration): Promise<void> {
    await this.db.run(
      `INSERT INTO rooms (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
       ON CONFLICT (key) DO UPDATE SET
         name = excluded.name, founder = excluded.founder, created_at = excluded.created_at,
         topic_text = excluded.topic_text, topic_set_by = excluded.topic_set_by,
         topic_set_at = excluded.topic_set_at, mode_flags = excluded.mode_flags,
         mode_key = excluded.mode_key, mode_limit = excluded.mode_limit,
         bans = excluded.bans, exceptions = excluded.exceptions,
         invite_exceptions = excluded.invite_exceptions, operators = excluded.operators`,
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
