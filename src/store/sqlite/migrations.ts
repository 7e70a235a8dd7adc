import type Database from 'better-sqlite3';

/**
 * Schema migrations, applied in order. The database's `PRAGMA user_version` is the number of
 * steps already applied; opening a store applies the rest, each step in its own transaction
 * together with the user_version bump, so a failing step leaves the database as it was.
 *
 * APPEND-ONLY: a step that has shipped is frozen. Never edit, reorder or remove one (databases
 * in the field have already run it); change the schema by appending a new step.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: initial schema. FROZEN — shipped; do not edit.
  `
  CREATE TABLE accounts (
    key              TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    password_hash    TEXT NOT NULL,
    scram_salt       TEXT NOT NULL,
    scram_iterations INTEGER NOT NULL,
    scram_stored_key TEXT NOT NULL,
    scram_server_key TEXT NOT NULL,
    email            TEXT,
    created_at       INTEGER NOT NULL
  ) STRICT;

  -- topic_* are all NULL or all set; bans and operators are JSON arrays (order kept).
  CREATE TABLE rooms (
    key          TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    founder      TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    topic_text   TEXT,
    topic_set_by TEXT,
    topic_set_at INTEGER,
    mode_flags   TEXT NOT NULL,
    mode_key     TEXT,
    mode_limit   INTEGER,
    bans         TEXT NOT NULL,
    operators    TEXT NOT NULL
  ) STRICT;
  CREATE INDEX rooms_founder ON rooms (founder);

  -- History. Order within a conversation is (time, msgid); msgid compares bytewise (BINARY).
  CREATE TABLE messages (
    id           INTEGER PRIMARY KEY,
    msgid        TEXT NOT NULL UNIQUE,
    conversation TEXT NOT NULL,
    time         INTEGER NOT NULL,
    source       TEXT NOT NULL,
    account      TEXT,
    command      TEXT NOT NULL CHECK (command IN ('PRIVMSG', 'NOTICE')),
    target       TEXT NOT NULL,
    text         TEXT NOT NULL,
    tags         TEXT NOT NULL
  ) STRICT;
  CREATE INDEX messages_position ON messages (conversation, time, msgid);

  -- Both participants of every direct-message conversation with stored messages.
  CREATE TABLE dm_participants (
    account      TEXT NOT NULL,
    conversation TEXT NOT NULL,
    PRIMARY KEY (account, conversation)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX dm_participants_conversation ON dm_participants (conversation);

  CREATE TABLE read_markers (
    account TEXT NOT NULL,
    target  TEXT NOT NULL,
    time    INTEGER NOT NULL,
    PRIMARY KEY (account, target)
  ) STRICT, WITHOUT ROWID;
  `,
  // 2: server bans (KLINE, DLINE).
  `
  CREATE TABLE server_bans (
    kind       TEXT NOT NULL CHECK (kind IN ('kline', 'dline')),
    mask       TEXT NOT NULL,
    reason     TEXT NOT NULL,
    set_by     TEXT NOT NULL,
    set_at     INTEGER NOT NULL,
    expires_at INTEGER,
    PRIMARY KEY (kind, mask)
  ) STRICT, WITHOUT ROWID;
  `,
  // 3: full-text search (store.ts SearchStore, sqlite/search.ts). An external-content FTS5
  // index over messages.text (rowid = messages.id), kept in step by triggers in the same
  // transaction as every insert (replaced by the batch append in 4), delete (pruning) and text
  // update (edits, issue 12), and filled
  // from the rows already there ('rebuild'). unicode61 with remove_diacritics 0: case-folded,
  // accents kept, as PostgreSQL's 'simple' configuration does, so both stores find the same
  // messages. columnsize=0: no per-row sizes (no bm25 ranking; results are ordered by time).
  `
  CREATE VIRTUAL TABLE messages_fts USING fts5 (
    text,
    content = 'messages',
    content_rowid = 'id',
    columnsize = 0,
    tokenize = 'unicode61 remove_diacritics 0'
  );
  CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
  END;
  CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
  END;
  CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
  END;
  INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
  `,
  // 4: new rows are indexed by the history store's batch append (sqlite/history.ts), one
  // INSERT ... SELECT per batch in the same transaction: the per-row insert trigger cost four
  // times as much. Deletes and text updates keep their triggers (they are rare, and as fast).
  `
  DROP TRIGGER messages_fts_insert;
  `,
  // 5: a registered room keeps its ban exceptions (+e) and invite exceptions (+I) as it keeps
  // its bans: JSON arrays of { mask, setBy, setAt }.
  `
  ALTER TABLE rooms ADD COLUMN exceptions TEXT NOT NULL DEFAULT '[]';
  ALTER TABLE rooms ADD COLUMN invite_exceptions TEXT NOT NULL DEFAULT '[]';
  `,
  // 6: account metadata (IRCv3 draft/metadata-2, store.ts MetadataStore): one row per key.
  // Deleted with the account by the account store, as read markers are.
  `
  CREATE TABLE account_metadata (
    account TEXT NOT NULL,
    key     TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (account, key)
  ) STRICT, WITHOUT ROWID;
  `,
  // 7: uploaded files (soju.im/filehost, store.ts UploadStore): one row per file, the bytes
  // on disk. pending = 1 while the body is being received, with size its reservation, so the
  // quota counts uploads in flight; the partial index finds the ones a crash left behind.
  `
  CREATE TABLE uploads (
    id           TEXT PRIMARY KEY,
    account      TEXT NOT NULL,
    filename     TEXT,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    pending      INTEGER NOT NULL CHECK (pending IN (0, 1))
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX uploads_account ON uploads (account);
  CREATE INDEX uploads_pending ON uploads (created_at) WHERE pending = 1;
  `,
  // 8: room events in history (IRCv3 draft/event-playback, store.ts EventCommand): JOIN, PART,
  // QUIT, KICK, MODE, TOPIC, NICK and TAGMSG rows beside the messages, in the same (time, msgid)
  // order, with their line's parameters in `params` (a JSON array; '[]' for messages). The CHECK
  // on `command` can only change by rebuilding the table (SQLite has no ALTER ... CHECK): rows
  // are copied with their ids, so the FTS5 index (rowid = id) stays valid; the index and the
  // delete/update triggers went with the old table and are made again. One pass over the
  // history on upgrade (a rewrite, as PostgreSQL's migration 2 was): 2.3 s for 1M messages here,
  // the FTS5 index still matching every row afterwards.
  `
  CREATE TABLE messages_v8 (
    id           INTEGER PRIMARY KEY,
    msgid        TEXT NOT NULL UNIQUE,
    conversation TEXT NOT NULL,
    time         INTEGER NOT NULL,
    source       TEXT NOT NULL,
    account      TEXT,
    command      TEXT NOT NULL CHECK (command IN ('PRIVMSG', 'NOTICE', 'TAGMSG', 'JOIN', 'PART', 'QUIT', 'KICK', 'MODE', 'TOPIC', 'NICK')),
    target       TEXT NOT NULL,
    text         TEXT NOT NULL,
    tags         TEXT NOT NULL,
    params       TEXT NOT NULL DEFAULT '[]'
  ) STRICT;
  INSERT INTO messages_v8 (id, msgid, conversation, time, source, account, command, target, text, tags)
    SELECT id, msgid, conversation, time, source, account, command, target, text, tags FROM messages;
  DROP TABLE messages;
  ALTER TABLE messages_v8 RENAME TO messages;
  CREATE INDEX messages_position ON messages (conversation, time, msgid);
  CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
  END;
  CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
  END;
  `,
];

/** The user_version of a fully migrated database. */
export const SCHEMA_VERSION = MIGRATIONS.length;

export class MigrationError extends Error {
  override name = 'MigrationError';
}

/**
 * Brings the database up to `migrations.length` (default: every step above). Returns the number
 * of steps applied. Refuses a database written by a newer version of the server.
 */
export function migrate(db: Database.Database, migrations: readonly string[] = MIGRATIONS): number {
  let applied = 0;
  // Each step reads user_version inside its own IMMEDIATE (write-locked) transaction, so two
  // processes opening the same file at once cannot both apply a step.
  const step = db.transaction((): boolean => {
    const current = userVersion(db);
    if (current > migrations.length) {
      throw new MigrationError(
        `database schema version ${current} is newer than this server supports (${migrations.length})`,
      );
    }
    if (current === migrations.length) return false;
    try {
      db.exec(migrations[current]!);
    } catch (err) {
      throw new MigrationError(`migration ${current + 1} failed: ${(err as Error).message}`, { cause: err });
    }
    // PRAGMA takes no bound parameters; `current + 1` is an integer computed here.
    db.pragma(`user_version = ${current + 1}`);
    return true;
  });
  while (step.immediate()) applied++;
  return applied;
}

export function userVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}
