import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { MIGRATIONS, MigrationError, SCHEMA_VERSION, migrate, userVersion } from '../../src/store/sqlite/migrations.js';
import { SqliteHistoryStore } from '../../src/store/sqlite/history.js';
import { openSqliteStore, SQLITE_FILE_NAME } from '../../src/store/sqlite/store.js';
import { dmKey, type StoredMessage } from '../../src/store/store.js';
import { searchContract } from '../contract/search.contract.js';
import { storeContract } from '../contract/store.contract.js';
import { uploadsContract } from '../contract/uploads.contract.js';

const contractDir = mkdtempSync(join(tmpdir(), 'parley-sqlite-contract-'));
storeContract(
  'SqliteStore',
  async () => openSqliteStore(contractDir),
  async () => rmSync(contractDir, { recursive: true, force: true }),
);
const searchDir = mkdtempSync(join(tmpdir(), 'parley-sqlite-search-'));
searchContract(
  'SqliteStore',
  async () => openSqliteStore(searchDir),
  async () => rmSync(searchDir, { recursive: true, force: true }),
);
const uploadsDir = mkdtempSync(join(tmpdir(), 'parley-sqlite-uploads-'));
uploadsContract(
  'SqliteStore',
  async () => openSqliteStore(uploadsDir),
  async () => rmSync(uploadsDir, { recursive: true, force: true }),
);

const BASE = 1_767_225_600_000;
const msg = (conversation: string, msgid: string, time: number): StoredMessage => ({
  msgid,
  time,
  conversation,
  source: 'n!u@h',
  account: null,
  command: 'PRIVMSG',
  target: conversation,
  text: msgid,
  tags: { '+k': 'v' },
});

describe('SqliteStore specifics', () => {
  const root = mkdtempSync(join(tmpdir(), 'parley-sqlite-'));
  let n = 0;
  const freshDir = () => join(root, `db${n++}`);
  after(() => rmSync(root, { recursive: true, force: true }));

  it('creates a missing directory and parley.sqlite3 in it, with the documented pragmas', async () => {
    const dir = join(freshDir(), 'nested', 'deeper');
    assert.equal(existsSync(dir), false);
    const store = openSqliteStore(dir);
    try {
      assert.equal(store.path, join(dir, SQLITE_FILE_NAME));
      assert.ok(existsSync(join(dir, SQLITE_FILE_NAME)));
      assert.equal(store.db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(store.db.pragma('synchronous', { simple: true }), 1); // NORMAL
      assert.equal(store.db.pragma('foreign_keys', { simple: true }), 1);
      assert.ok((store.db.pragma('busy_timeout', { simple: true }) as number) > 0);
      assert.ok((store.db.pragma('cache_size', { simple: true }) as number) < -2000, 'a cache above the 2 MiB default');
      assert.equal(userVersion(store.db), SCHEMA_VERSION);
    } finally {
      await store.close();
    }
    await store.close(); // closing twice is harmless
  });

  it('keeps everything across close and reopen', async () => {
    const dir = freshDir();
    const first = openSqliteStore(dir);
    const account = {
      name: 'Alice',
      key: 'alice',
      passwordHash: 'hash',
      scram: { salt: 's', iterations: 4096, storedKey: 'sk', serverKey: 'svk' },
      email: null,
      createdAt: BASE,
    };
    const room = {
      name: '#Lobby',
      key: '#lobby',
      founder: 'alice',
      createdAt: BASE,
      topic: { text: 'hi', setBy: 'alice', setAt: BASE },
      modes: { flags: 'nt', key: null, limit: 10 },
      bans: [{ mask: 'x!*@*', setBy: 'alice', setAt: BASE }],
      exceptions: [],
      inviteExceptions: [{ mask: '$a:alice', setBy: 'alice', setAt: BASE }],
      operators: ['alice'],
    };
    const messages = [msg('#lobby', 'm1', BASE + 1), msg(dmKey('alice', 'bob'), 'm2', BASE + 2)];
    await first.accounts.create(account);
    await first.rooms.save(room);
    await first.history.append(messages);
    await first.readMarkers.set('alice', '#lobby', BASE + 5);
    await first.close();

    const second = openSqliteStore(dir);
    try {
      assert.deepEqual(await second.accounts.get('alice'), account);
      assert.deepEqual(await second.rooms.get('#lobby'), room);
      assert.deepEqual(await second.history.latest('#lobby', 10), [messages[0]]);
      assert.deepEqual(await second.history.directConversationsOf('bob'), [dmKey('alice', 'bob')]);
      assert.equal(await second.readMarkers.get('alice', '#lobby'), BASE + 5);
      assert.deepEqual((await second.history.conversations()).sort(), [dmKey('alice', 'bob'), '#lobby'].sort());
    } finally {
      await second.close();
    }
  });

  it('migrates a database at user_version 0 to the latest, and reopening is a no-op', async () => {
    const dir = freshDir();
    const first = openSqliteStore(dir);
    assert.equal(userVersion(first.db), MIGRATIONS.length);
    await first.history.append([msg('#a', 'keep-me', BASE)]);
    await first.close();

    const raw = new Database(join(dir, SQLITE_FILE_NAME));
    try {
      assert.equal(migrate(raw), 0, 'nothing left to apply');
      assert.equal(userVersion(raw), SCHEMA_VERSION);
      const tables = raw
        .prepare<[], { name: string }>("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .all()
        .map((r) => r.name);
      for (const t of ['accounts', 'account_metadata', 'dm_participants', 'messages', 'read_markers', 'rooms']) assert.ok(tables.includes(t), t);
    } finally {
      raw.close();
    }
    const again = openSqliteStore(dir);
    try {
      assert.equal(userVersion(again.db), SCHEMA_VERSION);
      assert.deepEqual((await again.history.latest('#a', 10)).map((m) => m.msgid), ['keep-me']);
    } finally {
      await again.close();
    }
  });

  it('upgrades a database made by the first schema, keeping its data; server bans work after', async () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    const raw = new Database(join(dir, SQLITE_FILE_NAME));
    try {
      assert.equal(migrate(raw, MIGRATIONS.slice(0, 1)), 1);
      raw.prepare("INSERT INTO read_markers (account, target, time) VALUES ('old', '#room', 42)").run();
    } finally {
      raw.close();
    }
    const store = openSqliteStore(dir);
    try {
      assert.equal(userVersion(store.db), SCHEMA_VERSION);
      assert.equal(await store.readMarkers.get('old', '#room'), 42);
      const ban = { kind: 'dline' as const, mask: '192.0.2.0/24', reason: 'r', setBy: 'o', setAt: BASE, expiresAt: null };
      await store.bans.save(ban);
      assert.deepEqual(await store.bans.list(BASE), [ban]);
    } finally {
      await store.close();
    }
  });

  it('applies only the steps a database lacks, each once, in order', () => {
    const db = new Database(':memory:');
    try {
      assert.equal(userVersion(db), 0);
      assert.equal(migrate(db, MIGRATIONS), MIGRATIONS.length);
      const extended = [
        ...MIGRATIONS,
        'CREATE TABLE extra_one (x INTEGER)',
        "CREATE TABLE extra_two (y TEXT); INSERT INTO extra_two VALUES ('seeded')",
      ];
      assert.equal(migrate(db, extended), 2);
      assert.equal(userVersion(db), MIGRATIONS.length + 2);
      assert.equal(migrate(db, extended), 0);
      assert.deepEqual(db.prepare('SELECT y FROM extra_two').all(), [{ y: 'seeded' }]);
    } finally {
      db.close();
    }
  });

  it('a failing step rolls back entirely and leaves user_version alone', () => {
    const db = new Database(':memory:');
    try {
      migrate(db);
      const broken = [...MIGRATIONS, 'CREATE TABLE half_done (x INTEGER); CREATE TABLE broken ('];
      assert.throws(() => migrate(db, broken), MigrationError);
      assert.equal(userVersion(db), SCHEMA_VERSION);
      const half = db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE name = 'half_done'").get() as { n: number };
      assert.equal(half.n, 0);
    } finally {
      db.close();
    }
  });

  it('refuses a database from a newer schema version', async () => {
    const dir = freshDir();
    (await openSqliteStore(dir).close());
    const raw = new Database(join(dir, SQLITE_FILE_NAME));
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    assert.throws(() => openSqliteStore(dir), MigrationError);
  });

  it('appendSync has committed when it returns: another connection sees the batch', async () => {
    const dir = freshDir();
    const store = openSqliteStore(dir);
    const reader = new Database(join(dir, SQLITE_FILE_NAME), { readonly: true });
    try {
      const result = store.history.appendSync([msg('#sync', 's1', BASE), msg('#sync', 's2', BASE + 1)]);
      assert.equal(result, undefined);
      const n = reader.prepare("SELECT count(*) AS n FROM messages WHERE conversation = '#sync'").get() as { n: number };
      assert.equal(n.n, 2);
    } finally {
      reader.close();
      await store.close();
    }
  });

  it('a committed batch survives the process being killed with SIGKILL', async () => {
    const dir = freshDir();
    const fixture = fileURLToPath(new URL('./fixtures/append-then-hang.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, dir, '250', '#killed'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('committed\n')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`child exited early (${code})`)));
      });
    } finally {
      child.kill('SIGKILL');
    }
    await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('exit', resolve)));
    assert.equal(child.signalCode, 'SIGKILL');
    assert.ok(existsSync(join(dir, `${SQLITE_FILE_NAME}-wal`)), 'the batch was still in the WAL');
    const store = openSqliteStore(dir);
    try {
      const got = await store.history.latest('#killed', 1000);
      assert.equal(got.length, 250);
      assert.equal(got[249]!.msgid, '#killed/249');
    } finally {
      await store.close();
    }
  });

  it('forgets a DM conversation for directConversationsOf once it is pruned empty', async () => {
    const store = openSqliteStore(freshDir());
    try {
      const key = dmKey('x', 'y');
      await store.history.append([msg(key, 'd1', BASE)]);
      assert.deepEqual(await store.history.directConversationsOf('y'), [key]);
      assert.equal(await store.history.prune(key, { keep: 0 }), 1);
      assert.deepEqual(await store.history.directConversationsOf('x'), []);
      assert.deepEqual(await store.history.directConversationsOf('y'), []);
    } finally {
      await store.close();
    }
  });
});

describe('SqliteStore prune', () => {
  it('deletes in bounded batches, oldest first, with the event loop running between them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-sqlite-prune-'));
    const store = openSqliteStore(dir);
    try {
      const history = new SqliteHistoryStore(store.db, 3);
      const conv = dmKey('p', 'q');
      await history.append(Array.from({ length: 10 }, (_, i) => msg(conv, `p${i}`, BASE + i)));
      // Three batches (3 + 3 + 1): the event loop gets a turn after each full one.
      let done = false;
      let turns = 0;
      const pruning = history.prune(conv, { olderThan: BASE + 6.5 }).finally(() => (done = true));
      while (!done) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        turns++;
      }
      assert.equal(await pruning, 7, 'time < 6.5 is time <= 6');
      assert.ok(turns >= 2, `other work ran between the batches (${turns} turns)`);
      assert.deepEqual((await history.latest(conv, 100)).map((m) => m.msgid), ['p7', 'p8', 'p9']);
      assert.equal(await history.prune(conv, { keep: 1 }), 2, 'keep 1: p7 and p8 go');
      assert.deepEqual(await history.directConversationsOf('p'), [conv]);
      assert.equal(await history.prune(conv, { keep: 0 }), 1);
      assert.deepEqual(await history.directConversationsOf('p'), []);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SqliteStore search (FTS5)', () => {
  const root = mkdtempSync(join(tmpdir(), 'parley-sqlite-fts-'));
  let n = 0;
  const freshDir = () => join(root, `db${n++}`);
  after(() => rmSync(root, { recursive: true, force: true }));
  const words = (text: string) => ({ terms: text.split(' ').map((w) => [w]), from: null });
  const integrity = (db: Database.Database) =>
    db.prepare("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)").run();

  it('upgrading a database of schema 2 indexes the messages already there', async () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    const raw = new Database(join(dir, SQLITE_FILE_NAME));
    try {
      assert.equal(migrate(raw, MIGRATIONS.slice(0, 2)), 2);
      const insert = raw.prepare(
        `INSERT INTO messages (msgid, conversation, time, source, account, command, target, text, tags)
         VALUES (?, '#old', ?, 'n!u@h', NULL, 'PRIVMSG', '#old', ?, '{}')`,
      );
      for (let i = 0; i < 300; i++) insert.run(`old${i}`, BASE + i, i % 100 === 7 ? `rare word ${i}` : `common chatter ${i}`);
    } finally {
      raw.close();
    }
    const store = openSqliteStore(dir);
    try {
      assert.equal(userVersion(store.db), SCHEMA_VERSION);
      integrity(store.db);
      const page = await store.search.search({ conversations: ['#old'], query: words('rare word'), limit: 10 });
      assert.deepEqual(page.messages.map((m) => m.msgid), ['old207', 'old107', 'old7']);
      assert.equal((await store.search.search({ conversations: ['#old'], query: words('chatter'), limit: 1000 })).messages.length, 297);
      // New messages are indexed by the batch append from here on (migration 4 dropped the insert trigger).
      assert.equal((store.db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE name = 'messages_fts_insert'").get() as { n: number }).n, 0);
      await store.history.append([{ ...msg('#old', 'new1', BASE + 1000), text: 'rare word again' }]);
      assert.equal((await store.search.search({ conversations: ['#old'], query: words('rare word'), limit: 10 })).messages.length, 4);
    } finally {
      await store.close();
    }
  });

  it('the batch append and the triggers keep the index in step with inserts, prunes and text updates (edits)', async () => {
    const store = openSqliteStore(freshDir());
    try {
      const conv = '#edits';
      await store.history.append(Array.from({ length: 50 }, (_, i) => ({ ...msg(conv, `e${i}`, BASE + i), text: `first draft ${i}` })));
      await store.history.append([{ ...msg(conv, 'e0', BASE), text: 'a duplicate is not indexed twice' }]);
      // Duplicates between new rows: only the new rows are indexed, each once.
      await store.history.append([
        { ...msg(conv, 'e1', BASE + 1), text: 'duplicate again' },
        { ...msg(conv, 'e50', BASE + 50), text: 'late draft 50' },
        { ...msg(conv, 'e2', BASE + 2), text: 'duplicate again' },
        { ...msg(conv, 'e51', BASE + 51), text: 'late draft 51' },
      ]);
      await store.history.prune(conv, { keep: 42 });
      store.db.prepare("UPDATE messages SET text = 'second version' WHERE msgid = 'e49'").run();
      integrity(store.db);
      const find = async (q: string) =>
        (await store.search.search({ conversations: [conv], query: words(q), limit: 100 })).messages.map((m) => m.msgid);
      assert.deepEqual(await find('second version'), ['e49']);
      assert.equal((await find('draft')).length, 41, 'e10..e48 first drafts, e50 and e51 late drafts');
      assert.deepEqual(await find('late'), ['e51', 'e50']);
      assert.deepEqual(await find('duplicate'), []);
    } finally {
      await store.close();
    }
  });

  it('query plan: the FTS5 index first, each match joined by primary key, no scan of messages', async () => {
    const store = openSqliteStore(freshDir());
    try {
      const calls: string[] = [];
      const prepare = store.db.prepare.bind(store.db);
      store.db.prepare = ((sql: string) => {
        calls.push(sql);
        return prepare(sql);
      }) as typeof store.db.prepare;
      await store.search.search({
        conversations: ['#a', '#b'],
        query: { terms: [['x'], ['y', 'z']], from: 'nick' },
        after: BASE,
        before: BASE + 10,
        cursor: { time: BASE + 5, msgid: 'm' },
        limit: 10,
      });
      const sql = calls.find((s) => s.includes('messages_fts MATCH'))!;
      const plan = prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .all('"x" AND "y z"', '["#a","#b"]', BASE, BASE + 10, BASE + 5, 'm', 'nick', 11)
        .map((r) => (r as { detail: string }).detail);
      assert.match(plan[0]!, /^SCAN messages_fts VIRTUAL TABLE INDEX/, plan.join('\n'));
      assert.ok(plan.some((d) => /^SEARCH m USING INTEGER PRIMARY KEY \(rowid=\?\)/.test(d)), plan.join('\n'));
      assert.ok(!plan.some((d) => /^SCAN m\b/.test(d)), plan.join('\n'));
    } finally {
      await store.close();
    }
  });
});
