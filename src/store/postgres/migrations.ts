import type pg from 'pg';

/**
 * Schema migrations for PostgreSQL, applied in order. `parley_migrations` in the store's schema
 * records each applied step by number; opening a store applies the rest, each step in its own
 * transaction together with its row, so a failing step leaves the database as it was.
 *
 * The same small runner as SQLite (sqlite/migrations.ts) rather than node-pg-migrate: the steps
 * are a handful of SQL strings that ship inside the server, both stores then follow one model
 * (numbered, frozen, tested from the first schema up), and start-up needs no extra CLI, file
 * layout or dependency tree. What node-pg-migrate would add (an advisory lock, a tracking table,
 * one transaction per step) is the few lines of `migrate` below.
 *
 * APPEND-ONLY: a step that has shipped is frozen. Never edit, reorder or remove one (databases
 * in the field have already run it); change the schema by appending a new step.
 *
 * Keys, names and msgids compare bytewise (COLLATE "C"): the contract pins code-point order,
 * whatever the database's default collation.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: initial schema. FROZEN once shipped; do not edit.
  `
  CREATE TABLE accounts (
    key              text COLLATE "C" PRIMARY KEY,
    name             text NOT NULL,
    password_hash    text NOT NULL,
    scram_salt       text NOT NULL,
    scram_iterations integer NOT NULL,
    scram_stored_key text NOT NULL,
    scram_server_key text NOT NULL,
    email            text,
    created_at       bigint NOT NULL
  );

  -- topic_* are all NULL or all set; bans and operators are JSON arrays (json keeps them as written).
  CREATE TABLE rooms (
    key          text COLLATE "C" PRIMARY KEY,
    name         text NOT NULL,
    founder      text COLLATE "C" NOT NULL,
    created_at   bigint NOT NULL,
    topic_text   text,
    topic_set_by text,
    topic_set_at bigint,
    mode_flags   text NOT NULL,
    mode_key     text,
    mode_limit   integer,
    bans         json NOT NULL,
    operators    json NOT NULL
  );
  CREATE INDEX rooms_founder ON rooms (founder);

  -- History. Order within a conversation is (time, msgid); every CHATHISTORY query is one range
  -- scan of messages_position. Times are milliseconds since the epoch.
  CREATE TABLE messages (
    msgid        text COLLATE "C" PRIMARY KEY,
    conversation text COLLATE "C" NOT NULL,
    time         bigint NOT NULL,
    source       text NOT NULL,
    account      text COLLATE "C",
    command      text NOT NULL CHECK (command IN ('PRIVMSG', 'NOTICE')),
    target       text NOT NULL,
    text         text NOT NULL,
    tags         json NOT NULL
  );
  CREATE INDEX messages_position ON messages (conversation, time, msgid);

  -- Both participants of every direct-message conversation with stored messages.
  CREATE TABLE dm_participants (
    account      text COLLATE "C" NOT NULL,
    conversation text COLLATE "C" NOT NULL,
    PRIMARY KEY (account, conversation)
  );
  CREATE INDEX dm_participants_conversation ON dm_participants (conversation);

  CREATE TABLE read_markers (
    account text COLLATE "C" NOT NULL,
    target  text COLLATE "C" NOT NULL,
    time    bigint NOT NULL,
    PRIMARY KEY (account, target)
  );

  CREATE TABLE server_bans (
    kind       text COLLATE "C" NOT NULL CHECK (kind IN ('kline', 'dline')),
    mask       text COLLATE "C" NOT NULL,
    reason     text NOT NULL,
    set_by     text NOT NULL,
    set_at     bigint NOT NULL,
    expires_at bigint,
    PRIMARY KEY (kind, mask)
  );
  `,
  // 2: full-text search (store.ts SearchStore, postgres/search.ts). A generated tsvector column
  // with a GIN index. 'simple', not a language configuration: chat is multilingual and a
  // language config (english) stems and drops stop words, so "The Who" or "was it" would find
  // nothing and other languages would be stemmed as English; 'simple' lower-cases and keeps
  // every word, and so matches SQLite's FTS5 unicode61 (no stemming, no stop words). Every ASCII
  // punctuation character becomes a space first: the default parser would otherwise index
  // `github.com/x` as url/host tokens, `a@b.com` as one email, drop `<b>` as an XML tag, so a
  // word inside them could not be found, where FTS5 splits on punctuation. translate() and
  // to_tsvector(regconfig, text) are immutable, as a generated column needs. Adding a STORED
  // column rewrites the table under an exclusive lock (and computes every row's vector: the
  // backfill); on a large history run this upgrade at a quiet time (1M messages: ~40 s here).
  // gin_pending_list_limit 512 kB, not the 4 MB default: every search scans the whole pending
  // list of recent inserts (measured: a rare word 5.1 ms at 4 MB, 1.1 ms at 512 kB; appends
  // 16.5k/s -> 14.2k/s in bench/store-search.mjs; fastupdate off: 0.6 ms but 9.2k/s).
  `
  ALTER TABLE messages ADD COLUMN search tsvector GENERATED ALWAYS AS (
    to_tsvector('simple'::regconfig,
      translate(text, '!"#$%&''()*+,-./:;<=>?@[\\]^_\`{|}~', '                                '))
  ) STORED;
  CREATE INDEX messages_search ON messages USING gin (search) WITH (gin_pending_list_limit = 512);
  `,
  // 3: the same vectors, computed ~10x cheaper. translate() with a 32-character set costs
  // ~19 us a row in a UTF-8 database, more than to_tsvector itself (~11 us); regexp_replace
  // with the equivalent bracket class (every ASCII punctuation character: ! to /, : to @, [ to
  // `, { to ~) gives the same text for ~1.4 us. Appends with search: 11k/s -> see
  // bench/store-search.mjs. Rewrites the table, as migration 2 did (drop and re-add the column).
  `
  ALTER TABLE messages DROP COLUMN search;
  ALTER TABLE messages ADD COLUMN search tsvector GENERATED ALWAYS AS (
    to_tsvector('simple'::regconfig, regexp_replace(text, '[!-/:-@[-\`{-~]', ' ', 'g'))
  ) STORED;
  CREATE INDEX messages_search ON messages USING gin (search) WITH (gin_pending_list_limit = 512);
  `,
  // 4: a registered room keeps its ban exceptions (+e) and invite exceptions (+I) as it keeps
  // its bans: JSON arrays of { mask, setBy, setAt }.
  `
  ALTER TABLE rooms ADD COLUMN exceptions json NOT NULL DEFAULT '[]',
                    ADD COLUMN invite_exceptions json NOT NULL DEFAULT '[]';
  `,
  // 5: account metadata (IRCv3 draft/metadata-2, store.ts MetadataStore): one row per key.
  // Deleted with the account by the account store, as read markers are.
  `
  CREATE TABLE account_metadata (
    account text COLLATE "C" NOT NULL,
    key     text COLLATE "C" NOT NULL,
    value   text NOT NULL,
    PRIMARY KEY (account, key)
  );
  `,
  // 6: uploaded files (soju.im/filehost, store.ts UploadStore): one row per file, the bytes
  // on disk. pending while the body is being received, with size its reservation, so the
  // quota counts uploads in flight; the partial index finds the ones a crash left behind.
  `
  CREATE TABLE uploads (
    id           text COLLATE "C" PRIMARY KEY,
    account      text COLLATE "C" NOT NULL,
    filename     text,
    content_type text NOT NULL,
    size         bigint NOT NULL,
    created_at   bigint NOT NULL,
    pending      boolean NOT NULL
  );
  CREATE INDEX uploads_account ON uploads (account);
  CREATE INDEX uploads_pending ON uploads (created_at) WHERE pending;
  `,
  // 7: room events in history (IRCv3 draft/event-playback, store.ts EventCommand): JOIN, PART,
  // QUIT, KICK, MODE, TOPIC, NICK and TAGMSG rows beside the messages, in the same (time, msgid)
  // order, with their line's parameters in `params` ('[]' for messages). A constant default adds
  // the column without a rewrite; the wider CHECK is checked against the rows once (a scan).
  `
  ALTER TABLE messages DROP CONSTRAINT messages_command_check;
  ALTER TABLE messages ADD CONSTRAINT messages_command_check
    CHECK (command IN ('PRIVMSG', 'NOTICE', 'TAGMSG', 'JOIN', 'PART', 'QUIT', 'KICK', 'MODE', 'TOPIC', 'NICK'));
  ALTER TABLE messages ADD COLUMN params json NOT NULL DEFAULT '[]';
  `,
];

/** The version of a fully migrated schema. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** First key of the two-key advisory lock (`'pary'`); the second is the schema name's hash. */
const LOCK_CLASS = 0x70617279;

export class MigrationError extends Error {
  override name = 'MigrationError';
}

/**
 * Brings `schema` up to `migrations.length` steps, creating the schema if it is missing.
 * Returns the number of steps applied. Several processes may call this at once: they take the
 * same advisory lock, so one migrates and the others then find nothing left to do. A schema
 * written by a newer server (more steps than `migrations`) is refused.
 */
export async function migrate(client: pg.ClientBase, schema: string, migrations: readonly string[] = MIGRATIONS): Promise<number> {
  await client.query('SELECT pg_advisory_lock($1, hashtext($2))', [LOCK_CLASS, schema]);
  try {
    // Checked first: CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when it exists.
    const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (exists.rowCount === 0) await client.query(`CREATE SCHEMA ${schema}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${schema}.parley_migrations (
         version    integer PRIMARY KEY,
         applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const current = await schemaVersion(client, schema);
    if (current > migrations.length) {
      throw new MigrationError(
        `PostgreSQL schema ${schema} is at version ${current}, newer than this server supports (${migrations.length}); upgrade Parley`,
      );
    }
    for (let version = current + 1; version <= migrations.length; version++) {
      await client.query('BEGIN');
      try {
        await client.query(`SET LOCAL search_path = ${schema}`);
        await client.query(migrations[version - 1]!);
        await client.query(`INSERT INTO ${schema}.parley_migrations (version) VALUES ($1)`, [version]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new MigrationError(`migration ${version} failed: ${(err as Error).message}`, { cause: err });
      }
    }
    return migrations.length - current;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [LOCK_CLASS, schema]);
  }
}

/** The number of steps applied to `schema` (0 for a schema without the tracking table). */
export async function schemaVersion(client: pg.ClientBase, schema: string): Promise<number> {
  const table = await client.query('SELECT to_regclass($1) AS t', [`${schema}.parley_migrations`]);
  if (table.rows[0].t === null) return 0;
  const result = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${schema}.parley_migrations`);
  return result.rows[0]?.v ?? 0;
}
