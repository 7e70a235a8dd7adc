/**
 * Rows as both SQL stores lay them out: sqlite/ and postgres/ use the same tables and column
 * names, so the mapping between a row and a record is written once, here.
 */
import type { AccountRecord, RoomRegistration, ServerBan } from './store.js';

export interface AccountRow {
  key: string;
  name: string;
  password_hash: string;
  scram_salt: string;
  scram_iterations: number;
  scram_stored_key: string;
  scram_server_key: string;
  email: string | null;
  created_at: number;
}

export const ACCOUNT_COLUMNS =
  'key, name, password_hash, scram_salt, scram_iterations, scram_stored_key, scram_server_key, email, created_at';

export function accountFromRow(row: AccountRow): AccountRecord {
  return {
    name: row.name,
    key: row.key,
    passwordHash: row.password_hash,
    scram: {
      salt: row.scram_salt,
      iterations: row.scram_iterations,
      storedKey: row.scram_stored_key,
      serverKey: row.scram_server_key,
    },
    email: row.email,
    createdAt: row.created_at,
  };
}

export interface BanRow {
  kind: ServerBan['kind'];
  mask: string;
  reason: string;
  set_by: string;
  set_at: number;
  expires_at: number | null;
}

export const banFromRow = (row: BanRow): ServerBan => ({
  kind: row.kind,
  mask: row.mask,
  reason: row.reason,
  setBy: row.set_by,
  setAt: row.set_at,
  expiresAt: row.expires_at,
});

/** `bans`, `exceptions`, `invite_exceptions` and `operators` are JSON: text as written, and as SQLite returns it; PostgreSQL's json columns come back parsed. */
export interface RoomRow {
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
  bans: string | MaskEntryRecord[];
  exceptions: string | MaskEntryRecord[];
  invite_exceptions: string | MaskEntryRecord[];
  operators: string | string[];
}

type MaskEntryRecord = RoomRegistration['bans'][number];

/** Only the documented fields, so stray properties never reach the database. */
const maskEntries = (list: MaskEntryRecord[]): string => JSON.stringify(list.map((b) => ({ mask: b.mask, setBy: b.setBy, setAt: b.setAt })));

export const ROOM_COLUMNS =
  'key, name, founder, created_at, topic_text, topic_set_by, topic_set_at, mode_flags, mode_key, mode_limit, bans, exceptions, invite_exceptions, operators';

export function roomToRow(r: RoomRegistration): RoomRow {
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
    bans: maskEntries(r.bans),
    exceptions: maskEntries(r.exceptions),
    invite_exceptions: maskEntries(r.inviteExceptions),
    operators: JSON.stringify(r.operators),
  };
}

const parsed = <T>(value: string | T): T => (typeof value === 'string' ? (JSON.parse(value) as T) : value);

export function roomFromRow(row: RoomRow): RoomRegistration {
  return {
    name: row.name,
    key: row.key,
    founder: row.founder,
    createdAt: row.created_at,
    topic: row.topic_text === null ? null : { text: row.topic_text, setBy: row.topic_set_by ?? '', setAt: row.topic_set_at ?? 0 },
    modes: { flags: row.mode_flags, key: row.mode_key, limit: row.mode_limit },
    bans: parsed(row.bans),
    exceptions: parsed(row.exceptions),
    inviteExceptions: parsed(row.invite_exceptions),
    operators: parsed(row.operators),
  };
}

/** Metadata rows of several accounts into `result`, per account, in row order (both stores' listMany). */
export function addEntries(result: Map<string, { key: string; value: string }[]>, rows: Iterable<{ account: string; key: string; value: string }>): void {
  for (const { account, key, value } of rows) {
    let list = result.get(account);
    if (!list) result.set(account, (list = []));
    list.push({ key, value });
  }
}
