import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { Accounts } from '../../src/core/accounts.js';
import { silentLogger } from '../../src/observability/logger.js';
import { openPgStore } from '../../src/store/postgres/store.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import { dmKey, type StoredMessage } from '../../src/store/store.js';
import { loginClient } from '../helpers/accounts.js';
import { runParley } from '../helpers/cli.js';
import { dropSchema, pgSkipReason, randomSchema, TEST_PG_URL } from '../helpers/postgres.js';
import type { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const skip = await pgSkipReason();
const BASE = Date.parse('2026-11-01T00:00:00Z');
const CAPS = ['batch', 'server-time', 'message-tags', 'draft/chathistory', 'draft/read-marker'];

/** The reply to `line`, with the random batch reference replaced, so two servers compare. */
async function reply(client: RawClient, line: string): Promise<string[]> {
  const start = client.lines.length;
  client.send(line);
  await client.sync();
  const ids = new Map<string, string>();
  return client.lines
    .slice(start)
    .filter((l) => !/ PONG \S+ :?sync-\d+$/.test(l))
    .map((l) =>
      l
        .replace(/batch=([^; ]+)/, (_, id: string) => `batch=${ids.get(id) ?? ids.set(id, `b${ids.size}`).get(id)}`)
        .replace(/BATCH ([+-])(\S+)/, (_, sign: string, id: string) => `BATCH ${sign}${ids.get(id) ?? ids.set(id, `b${ids.size}`).get(id)}`),
    );
}

describe('parley store copy (SQLite to PostgreSQL)', { skip }, () => {
  const data = mkdtempSync(join(tmpdir(), 'parley-copy-'));
  const schema = randomSchema('copy');
  const messages: StoredMessage[] = [];
  after(async () => {
    await dropSchema(schema);
    rmSync(data, { recursive: true, force: true });
  });

  before(async () => {
    // A populated embedded store, as a running installation leaves it.
    const store = openSqliteStore(data);
    try {
      const config = loadConfig({ env: {}, overrides: { accounts: { scrypt_log_n: 10 } } });
      const accounts = new Accounts(store, config.accounts);
      for (const name of ['Alice', 'bob', 'Carol']) {
        assert.ok((await accounts.register(name, `${name}-password`, null, 30)).ok);
      }
      await store.rooms.save({
        name: '#Lobby',
        key: '#lobby',
        founder: 'alice',
        createdAt: BASE,
        topic: { text: 'Welcome ✓', setBy: 'Alice!alice@host', setAt: BASE + 1 },
        modes: { flags: 'nt', key: null, limit: null },
        bans: [{ mask: '*!*@bad.example', setBy: 'alice', setAt: BASE + 2 }],
        exceptions: [{ mask: '$a:carol', setBy: 'alice', setAt: BASE + 3 }],
        inviteExceptions: [],
        operators: ['alice', 'carol'],
      });
      await store.bans.save({ kind: 'kline', mask: '*@spam.example', reason: 'spam', setBy: 'oper', setAt: BASE, expiresAt: null });
      await store.bans.save({ kind: 'dline', mask: '192.0.2.0/24', reason: 'later', setBy: 'oper', setAt: BASE, expiresAt: BASE + 365 * 86_400_000 });
      await store.readMarkers.set('alice', '#lobby', BASE + 1_000_000);
      await store.readMarkers.set('bob', 'alice', BASE + 7);
      await store.metadata.set('alice', 'display-name', 'Alice ✓', 10);
      await store.metadata.set('alice', 'pronouns', 'she/her', 10);
      await store.metadata.set('carol', 'status', '', 10);
      const upload = { id: 'AAAAAAAAAAAAAAAAAAAAAA', account: 'alice', filename: 'cat ✓.png', contentType: 'image/png', size: 100, createdAt: BASE };
      await store.uploads.reserve(upload, 1000);
      await store.uploads.complete(upload.id, 42);
      const who = ['alice', 'bob', 'carol'];
      for (let i = 0; i < 4500; i++) {
        const nick = who[i % 3]!;
        messages.push({
          msgid: `lobby-${String(i).padStart(5, '0')}`,
          // Some share a millisecond: order then comes from the msgid.
          time: BASE + Math.floor(i / 2) * 1000,
          conversation: '#lobby',
          source: `${nick}!${nick}@127.0.0.1`,
          account: nick,
          command: i % 50 === 0 ? 'NOTICE' : 'PRIVMSG',
          target: '#Lobby',
          text: `message ${i} \u0002bold\u0002 é`,
          tags: i % 7 === 0 ? { '+draft/reply': `lobby-${String(i - 1).padStart(5, '0')}`, '+typing': 'done' } : {},
        });
      }
      for (let i = 0; i < 30; i++) {
        const [from, to] = i % 2 ? ['bob', 'alice'] : ['alice', 'bob'];
        messages.push({
          msgid: `dm-${i}`, time: BASE + i * 500, conversation: dmKey('alice', 'bob'), source: `${from}!${from}@127.0.0.1`,
          account: from!, command: 'PRIVMSG', target: to!, text: `dm ${i}`, tags: {},
        });
      }
      for (let i = 0; i < messages.length; i += 700) await store.history.append(messages.slice(i, i + 700));
    } finally {
      await store.close();
    }
  });

  it('copies everything, checks the counts, and a second run changes nothing', async () => {
    const args = ['store', 'copy', '--from', data, '--to', TEST_PG_URL, '--schema', schema, '--batch', '1000'];
    const first = runParley(args);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /accounts +3 in SQLite, +3 in PostgreSQL: ok/);
    assert.match(first.stdout, /registered rooms +1 in SQLite, +1 in PostgreSQL: ok/);
    assert.match(first.stdout, /server bans +2 in SQLite, +2 in PostgreSQL: ok/);
    assert.match(first.stdout, /read markers +2 in SQLite, +2 in PostgreSQL: ok/);
    assert.match(first.stdout, /account metadata +3 in SQLite, +3 in PostgreSQL: ok/);
    assert.match(first.stdout, /uploaded files +1 in SQLite, +1 in PostgreSQL: ok/);
    assert.match(first.stdout, new RegExp(`messages +${messages.length} in SQLite, +${messages.length} in PostgreSQL: ok`));
    assert.match(first.stdout, /copy complete/);
    const second = runParley(args);
    assert.equal(second.status, 0, second.stderr);
    assert.equal(second.stdout, first.stdout);

    // Record for record, the same.
    const source = openSqliteStore(data);
    const target = await openPgStore({ url: TEST_PG_URL, schema, logger: silentLogger });
    try {
      assert.deepEqual(await target.accounts.list(), await source.accounts.list());
      assert.deepEqual(await target.rooms.list(), await source.rooms.list());
      assert.deepEqual(await target.bans.list(BASE), await source.bans.list(BASE));
      assert.deepEqual(await target.history.latest('#lobby', Infinity), await source.history.latest('#lobby', Infinity));
      assert.deepEqual(await target.history.directConversationsOf('bob'), [dmKey('alice', 'bob')]);
      assert.equal(await target.readMarkers.get('alice', '#lobby'), BASE + 1_000_000);
      for (const who of ['alice', 'bob', 'carol']) assert.deepEqual(await target.metadata.list(who), await source.metadata.list(who));
      assert.equal((await target.metadata.list('alice')).length, 2);
      assert.deepEqual(await target.uploads.get('AAAAAAAAAAAAAAAAAAAAAA'), await source.uploads.get('AAAAAAAAAAAAAAAAAAAAAA'));
      assert.equal((await target.uploads.get('AAAAAAAAAAAAAAAAAAAAAA'))!.size, 42);
    } finally {
      await source.close();
      await target.close();
    }
  });

  it('a server on the copy serves the same CHATHISTORY as one on the SQLite store', async () => {
    const servers: TestServer[] = [];
    const clients: RawClient[] = [];
    try {
      servers.push(await startTestServer({ data_dir: data, accounts: { scrypt_log_n: 10 }, history: { max_query: 200 } }));
      const pgData = mkdtempSync(join(tmpdir(), 'parley-copy-pg-'));
      servers.push(await startTestServer({ data_dir: pgData, store: { url: TEST_PG_URL, schema }, accounts: { scrypt_log_n: 10 }, history: { max_query: 200 } }));
      for (const server of servers) {
        const alice = await loginClient(server.port, 'alice', 'alice', 'Alice-password', CAPS);
        alice.send('JOIN #lobby');
        await alice.sync();
        clients.push(alice);
      }
      const queries = [
        'CHATHISTORY LATEST #lobby * 150',
        'CHATHISTORY LATEST #lobby msgid=lobby-04400 50',
        'CHATHISTORY BEFORE #lobby msgid=lobby-02001 120',
        `CHATHISTORY BEFORE #lobby timestamp=${new Date(BASE + 1000 * 1000).toISOString()} 30`,
        'CHATHISTORY AFTER #lobby msgid=lobby-00010 100',
        'CHATHISTORY AROUND #lobby msgid=lobby-03000 41',
        'CHATHISTORY BETWEEN #lobby msgid=lobby-00100 msgid=lobby-00300 200',
        'CHATHISTORY BETWEEN #lobby msgid=lobby-04000 msgid=lobby-01000 60',
        `CHATHISTORY TARGETS timestamp=${new Date(BASE - 1).toISOString()} timestamp=${new Date(BASE + 10_000_000).toISOString()} 10`,
        'CHATHISTORY LATEST bob * 100',
        'MARKREAD #lobby',
      ];
      for (const q of queries) {
        const [fromSqlite, fromPg] = [await reply(clients[0]!, q), await reply(clients[1]!, q)];
        assert.ok(fromSqlite.length > 0 && !fromSqlite.some((l) => / FAIL /.test(l)), `${q}: ${fromSqlite.join('\n')}`);
        assert.deepEqual(fromPg, fromSqlite, q);
      }
      // bob logs in on the copy with his own password (hash and SCRAM keys were copied).
      clients.push(await loginClient(servers[1]!.port, 'bob', 'bob', 'bob-password'));
    } finally {
      for (const c of clients) c.close();
      for (const s of servers) await s.stop();
    }
  });
});
