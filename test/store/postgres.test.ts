import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { loadConfig } from '../../src/config/load.js';
import { createLogger, silentLogger } from '../../src/observability/logger.js';
import { openStore } from '../../src/store/open.js';
import { MIGRATIONS, MigrationError, SCHEMA_VERSION, migrate, schemaVersion } from '../../src/store/postgres/migrations.js';
import { openPgStore, PgStore, StoreOpenError } from '../../src/store/postgres/store.js';
import { dmKey, type StoredMessage } from '../../src/store/store.js';
import { searchContract } from '../contract/search.contract.js';
import { storeContract } from '../contract/store.contract.js';
import { uploadsContract } from '../contract/uploads.contract.js';
import { dropSchema, pgAdmin, pgSkipReason, randomSchema, TEST_PG_URL } from '../helpers/postgres.js';

const skip = await pgSkipReason();
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

/** Every statement the store sends, recorded (the store's sub-stores share its PgPool). */
function record(store: PgStore): { text: string; values: unknown[] }[] {
  const calls: { text: string; values: unknown[] }[] = [];
  const { db } = store;
  const query = db.query.bind(db);
  const run = db.run.bind(db);
  db.query = (text, values, name) => {
    calls.push({ text, values: [...(values ?? [])] });
    return query(text, values, name);
  };
  db.run = (text, values, name) => {
    calls.push({ text, values: [...(values ?? [])] });
    return run(text, values, name);
  };
  return calls;
}

/** Back to the pool's own methods. */
function stopRecording(store: PgStore): void {
  Reflect.deleteProperty(store.db, 'query');
  Reflect.deleteProperty(store.db, 'run');
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

if (skip) {
  describe('PgStore (PostgreSQL)', { skip }, () => {
    it('needs a PostgreSQL server', () => {});
  });
} else {
  const contractSchema = randomSchema('contract');
  storeContract(
    'PgStore',
    async () => openPgStore({ url: TEST_PG_URL, schema: contractSchema, logger: silentLogger }),
    async () => dropSchema(contractSchema),
  );
  const searchSchema = randomSchema('search');
  searchContract(
    'PgStore',
    async () => openPgStore({ url: TEST_PG_URL, schema: searchSchema, logger: silentLogger }),
    async () => dropSchema(searchSchema),
  );
  const uploadsSchema = randomSchema('uploads');
  uploadsContract(
    'PgStore',
    async () => openPgStore({ url: TEST_PG_URL, schema: uploadsSchema, logger: silentLogger }),
    async () => dropSchema(uploadsSchema),
  );

  describe('PgStore specifics', () => {
    const schemas: string[] = [];
    const fresh = (): string => {
      const s = randomSchema();
      schemas.push(s);
      return s;
    };
    const open = (schema: string, extra: { pruneBatch?: number } = {}) =>
      openPgStore({ url: TEST_PG_URL, schema, logger: silentLogger, ...extra });
    after(async () => {
      for (const s of schemas) await dropSchema(s);
    });

    it('creates the schema, migrates it, and reopening applies nothing', async () => {
      const schema = fresh();
      const store = await open(schema);
      await store.history.append([msg('#a', 'keep-me', BASE)]);
      await store.close();
      await store.close(); // closing twice is harmless
      const tables = await pgAdmin<{ t: string }>('SELECT tablename AS t FROM pg_tables WHERE schemaname = $1 ORDER BY 1', [schema]);
      assert.deepEqual(
        tables.map((r) => r.t),
        ['account_metadata', 'accounts', 'dm_participants', 'messages', 'parley_migrations', 'read_markers', 'rooms', 'server_bans', 'uploads'],
      );
      const again = await open(schema);
      try {
        const client = await again.db.connect();
        try {
          assert.equal(await migrate(client, schema), 0);
          assert.equal(await schemaVersion(client, schema), SCHEMA_VERSION);
        } finally {
          client.release();
        }
        assert.deepEqual((await again.history.latest('#a', 10)).map((m) => m.msgid), ['keep-me']);
      } finally {
        await again.close();
      }
    });

    it('several nodes starting at once: one migrates, all open, each step applied once', async () => {
      const schema = fresh();
      const stores = await Promise.all(Array.from({ length: 6 }, () => open(schema)));
      try {
        const rows = await pgAdmin<{ version: number }>(`SELECT version FROM ${schema}.parley_migrations ORDER BY version`);
        assert.deepEqual(rows.map((r) => r.version), MIGRATIONS.map((_, i) => i + 1));
        await Promise.all(stores.map((s, i) => s.accounts.create({
          name: `N${i}`, key: `n${i}`, passwordHash: 'h', scram: { salt: 's', iterations: 1, storedKey: 'a', serverKey: 'b' }, email: null, createdAt: BASE,
        })));
        assert.equal((await stores[0]!.accounts.list()).length, 6);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });

    it('applies only the steps a schema lacks, each in its own transaction; a failing step leaves nothing', async () => {
      const schema = fresh();
      await open(schema).then((s) => s.close());
      const client = new pg.Client({ connectionString: TEST_PG_URL });
      await client.connect();
      try {
        const extended = [...MIGRATIONS, 'CREATE TABLE extra_one (x integer)', "CREATE TABLE extra_two (y text); INSERT INTO extra_two VALUES ('seeded')"];
        assert.equal(await migrate(client, schema, extended), 2);
        assert.equal(await schemaVersion(client, schema), MIGRATIONS.length + 2);
        assert.equal(await migrate(client, schema, extended), 0);
        assert.deepEqual((await client.query(`SELECT y FROM ${schema}.extra_two`)).rows, [{ y: 'seeded' }]);

        const broken = [...extended, 'CREATE TABLE half_done (x integer); CREATE TABLE broken ('];
        await assert.rejects(migrate(client, schema, broken), MigrationError);
        assert.equal(await schemaVersion(client, schema), extended.length);
        assert.equal((await client.query('SELECT to_regclass($1) AS t', [`${schema}.half_done`])).rows[0].t, null);
        // The lock was released: the next migrate runs at once.
        assert.equal(await migrate(client, schema, extended), 0);
      } finally {
        await client.end();
      }
    });

    it('refuses a schema from a newer version, with a clear error', async () => {
      const schema = fresh();
      await open(schema).then((s) => s.close());
      await pgAdmin(`INSERT INTO ${schema}.parley_migrations (version) VALUES ($1)`, [SCHEMA_VERSION + 1]);
      await assert.rejects(open(schema), (err: Error) => {
        assert.ok(err instanceof StoreOpenError);
        assert.ok(err.cause instanceof MigrationError);
        assert.match(err.message, new RegExp(`schema ${schema} is at version ${SCHEMA_VERSION + 1}, newer than this server supports \\(${SCHEMA_VERSION}\\)`));
        return true;
      });
    });

    it('start-up errors name the URL without its password, and what failed', async () => {
      const port = await closedPort();
      await assert.rejects(
        openPgStore({ url: `postgres://parley:hunter2@127.0.0.1:${port}/parley`, logger: silentLogger }),
        (err: Error) => {
          assert.ok(err instanceof StoreOpenError);
          assert.equal(err.message, `store.url postgres://parley@127.0.0.1:${port}/parley: connection refused`);
          return true;
        },
      );
      const url = new URL(TEST_PG_URL);
      url.pathname = '/parley_no_such_database';
      await assert.rejects(openPgStore({ url: url.toString(), logger: silentLogger }), /parley_no_such_database.*does not exist/);
    });

    it('store.url (or PARLEY_STORE__URL) selects PostgreSQL in openStore; other schemes are refused', async () => {
      const schema = fresh();
      const config = loadConfig({ env: { PARLEY_STORE__URL: TEST_PG_URL, PARLEY_STORE__SCHEMA: schema } });
      const store = await openStore(config, silentLogger);
      try {
        assert.ok(store instanceof PgStore);
        assert.equal(store.schema, schema);
      } finally {
        await store.close();
      }
      assert.equal(loadConfig({ env: {} }).store.url, null);
      assert.throws(() => loadConfig({ env: { PARLEY_STORE__URL: 'mysql://db/x' } }), /store\.url: must be a postgres:\/\//);
      assert.throws(() => loadConfig({ env: { PARLEY_STORE__SCHEMA: 'Bad-Name' } }), /store\.schema/);
    });

    it('append is one statement per batch; times come back as numbers', async () => {
      const store = await open(fresh());
      try {
        const calls = record(store);
        const batch = Array.from({ length: 500 }, (_, i) => msg(dmKey('ann', 'bob'), `b${i}`, BASE + i));
        await store.history.append(batch);
        assert.equal(calls.length, 1);
        assert.match(calls[0]!.text, /unnest/);
        const got = await store.history.latest(dmKey('ann', 'bob'), 1000);
        assert.equal(got.length, 500);
        assert.equal(typeof got[0]!.time, 'number');
        assert.deepEqual(await store.history.directConversationsOf('bob'), [dmKey('ann', 'bob')]);
      } finally {
        await store.close();
      }
    });

    it('read markers only move forward when nodes race', async () => {
      const schema = fresh();
      const [one, two] = await Promise.all([open(schema), open(schema)]);
      try {
        const times = Array.from({ length: 40 }, (_, i) => BASE + ((i * 7919) % 40));
        const results = await Promise.all(times.map((t, i) => (i % 2 ? one : two).readMarkers.set('acct', '#room', t)));
        for (const [i, r] of results.entries()) assert.ok(r >= times[i]!);
        assert.equal(await one.readMarkers.get('acct', '#room'), Math.max(...times));
      } finally {
        await one.close();
        await two.close();
      }
    });

    it('prune deletes in bounded batches', async () => {
      const store = await open(fresh(), { pruneBatch: 3 });
      try {
        const conv = dmKey('p', 'q');
        await store.history.append(Array.from({ length: 10 }, (_, i) => msg(conv, `p${i}`, BASE + i)));
        const calls = record(store);
        assert.equal(await store.history.prune(conv, { olderThan: BASE + 7 }), 7);
        const deletes = calls.filter((c) => /^DELETE FROM messages/.test(c.text));
        assert.equal(deletes.length, 3, '3 + 3 + 1');
        assert.deepEqual((await store.history.latest(conv, 100)).map((m) => m.msgid), ['p7', 'p8', 'p9']);
        assert.equal(await store.history.prune(conv, { keep: 0 }), 3);
        assert.deepEqual(await store.history.directConversationsOf('p'), []);
      } finally {
        await store.close();
      }
    });

    describe('a lost connection', () => {
      /** A TCP relay to the real server that the test can cut and restore. */
      let relay: net.Server;
      let port = 0;
      const sockets = new Set<net.Socket>();
      const target = new URL(TEST_PG_URL);
      const listen = () =>
        new Promise<void>((resolve) => {
          relay = net.createServer((client) => {
            const upstream = net.connect(Number(target.port || 5432), target.hostname);
            for (const s of [client, upstream]) {
              sockets.add(s);
              s.on('error', () => {});
              s.on('close', () => sockets.delete(s));
            }
            client.pipe(upstream).pipe(client);
          });
          relay.listen(port, '127.0.0.1', () => {
            port = (relay.address() as net.AddressInfo).port;
            resolve();
          });
        });
      const cut = async () => {
        await new Promise((r) => {
          relay.close(r);
          for (const s of sockets) s.destroy();
        });
      };
      before(listen);
      after(() => relay.close());

      it('is logged, reported by health(), never thrown, and the next query reconnects', async () => {
        const logs: string[] = [];
        const url = new URL(TEST_PG_URL);
        url.port = String(port);
        const store = await openPgStore({ url: url.toString(), schema: fresh(), logger: createLogger('info', (l) => logs.push(l)) });
        try {
          await Promise.all([store.accounts.list(), store.accounts.list(), store.accounts.list()]); // a few idle connections
          assert.deepEqual(store.health(), { ok: true });
          await cut();
          await new Promise((r) => setTimeout(r, 50)); // idle connections notice the cut
          assert.ok(logs.some((l) => l.includes('idle PostgreSQL connection failed')), logs.join(''));
          await assert.rejects(store.accounts.list());
          const down = store.health();
          assert.equal(down.ok, false);
          assert.match(down.error!, /connection refused/);
          await listen();
          assert.deepEqual(await store.accounts.list(), []);
          assert.deepEqual(store.health(), { ok: true });
          assert.ok(logs.some((l) => l.includes('connection restored')));
        } finally {
          await store.close();
        }
      });
    });

    describe('query plans: one index range scan of messages_position each', () => {
      let store: PgStore;
      const schema = randomSchema('plans');
      const CONVERSATIONS = 30;
      const PER = 2000;
      const conv = (i: number) => `#plan${String(i).padStart(2, '0')}`;
      const id = (c: number, i: number) => `${conv(c)}/${String(i).padStart(5, '0')}`;
      before(async () => {
        schemas.push(schema);
        store = await open(schema);
        for (let c = 0; c < CONVERSATIONS; c++) {
          for (let start = 0; start < PER; start += 1000) {
            await store.history.append(Array.from({ length: 1000 }, (_, i) => msg(conv(c), id(c, start + i), BASE + (start + i) * 1000)));
          }
        }
        await store.db.query('ANALYZE messages');
      });
      after(() => store?.close());

      interface PlanNode {
        'Node Type': string;
        'Relation Name'?: string;
        'Index Name'?: string;
        'Actual Rows': number;
        'Actual Loops': number;
        Plans?: PlanNode[];
      }
      const nodes = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodes)];

      /** Runs `call`, then EXPLAIN ANALYZE of each statement it sent (not the msgid look-ups of BETWEEN). */
      async function plans(call: () => Promise<unknown>): Promise<PlanNode[]> {
        const calls = record(store);
        await call();
        stopRecording(store);
        const out: PlanNode[] = [];
        for (const c of calls.filter((c) => !/^SELECT msgid, time FROM messages WHERE conversation = \$1 AND msgid = ANY/.test(c.text))) {
          const rows = await store.db.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${c.text}`, c.values);
          out.push(rows[0]!['QUERY PLAN'][0].Plan);
        }
        return out;
      }

      function assertRangeScan(plan: PlanNode, limit: number, label: string): void {
        const all = nodes(plan);
        const types = all.map((n) => n['Node Type']);
        assert.ok(!types.includes('Seq Scan'), `${label}: no Seq Scan: ${types}`);
        assert.ok(!types.includes('Sort'), `${label}: no Sort: ${types}`);
        assert.ok(!types.some((t) => t.startsWith('Bitmap')), `${label}: no bitmap scan: ${types}`);
        const onMessages = all.filter((n) => n['Relation Name'] === 'messages');
        for (const n of onMessages) {
          assert.match(n['Node Type'], /^Index (Only )?Scan$/, label);
          assert.ok(['messages_position', 'messages_pkey'].includes(n['Index Name']!), `${label}: ${n['Index Name']}`);
        }
        const ranges = onMessages.filter((n) => n['Index Name'] === 'messages_position');
        assert.ok(ranges.length >= 1, `${label}: uses messages_position`);
        for (const n of ranges) assert.ok(n['Actual Rows'] <= limit, `${label}: read ${n['Actual Rows']} rows for a limit of ${limit}`);
      }

      const mid = (c: number, i: number) => ({ msgid: id(c, i) });
      const t = (i: number) => ({ time: BASE + i * 1000 + 500 });
      const shapes: [string, (s: PgStore) => Promise<unknown>, number, number][] = [
        ['LATEST', (s) => s.history.latest(conv(3), 50), 50, 1],
        ['LATEST after msgid', (s) => s.history.latest(conv(3), 50, mid(3, 100)), 50, 1],
        ['LATEST after time', (s) => s.history.latest(conv(3), 50, t(100)), 50, 1],
        ['BEFORE msgid', (s) => s.history.before(conv(3), mid(3, 1000), 50), 50, 1],
        ['BEFORE time', (s) => s.history.before(conv(3), t(1000), 50), 50, 1],
        ['AFTER msgid', (s) => s.history.after(conv(3), mid(3, 1000), 50), 50, 1],
        ['AFTER time', (s) => s.history.after(conv(3), t(1000), 50), 50, 1],
        ['AROUND msgid', (s) => s.history.around(conv(3), mid(3, 1000), 50), 25, 1],
        ['AROUND time', (s) => s.history.around(conv(3), t(1000), 50), 25, 1],
        ['BETWEEN msgids', (s) => s.history.between(conv(3), mid(3, 100), mid(3, 1900), 50), 50, 1],
        ['BETWEEN msgids, reversed', (s) => s.history.between(conv(3), mid(3, 1900), mid(3, 100), 50), 50, 1],
        ['BETWEEN times', (s) => s.history.between(conv(3), t(100), t(1900), 50), 50, 1],
      ];
      for (const [label, call, limit, statements] of shapes) {
        it(label, async () => {
          const got = await plans(() => call(store));
          assert.equal(got.length, statements);
          assertRangeScan(got[0]!, limit, label);
        });
      }

      it('TARGETS: one backward probe per conversation, only the few results sorted', async () => {
        const listed = Array.from({ length: 10 }, (_, i) => conv(i * 2));
        for (const [start, end] of [[BASE + 1000, BASE + 500_000], [BASE + 500_000, BASE + 1000]] as const) {
          const [plan] = await plans(() => store.history.targets(listed, start, end, 5));
          const all = nodes(plan!);
          assert.ok(!all.some((n) => n['Node Type'] === 'Seq Scan' && n['Relation Name'] === 'messages'));
          const probes = all.filter((n) => n['Relation Name'] === 'messages');
          assert.equal(probes.length, 1);
          assert.match(probes[0]!['Node Type'], /^Index (Only )?Scan$/);
          assert.equal(probes[0]!['Index Name'], 'messages_position');
          assert.equal(probes[0]!['Actual Loops'], listed.length);
          assert.ok(probes[0]!['Actual Rows'] <= 1);
          for (const sort of all.filter((n) => n['Node Type'] === 'Sort')) assert.ok(sort['Actual Rows'] <= listed.length);
        }
      });
    });
  });

  describe('PgStore search (tsvector, GIN)', () => {
    const schemas: string[] = [];
    after(async () => {
      for (const s of schemas) await dropSchema(s);
    });
    const words = (text: string) => ({ terms: text.split(' ').map((w) => [w]), from: null });

    it('upgrading a schema of version 1 fills the search column of the messages already there', async () => {
      const schema = randomSchema('fts_upgrade');
      schemas.push(schema);
      const client = new pg.Client({ connectionString: TEST_PG_URL });
      await client.connect();
      try {
        assert.equal(await migrate(client, schema, MIGRATIONS.slice(0, 1)), 1);
        await client.query(
          `INSERT INTO ${schema}.messages (msgid, conversation, time, source, account, command, target, text, tags)
           SELECT 'old' || i, '#old', $1::bigint + i, 'n!u@h', NULL, 'PRIVMSG', '#old',
                  CASE WHEN i % 100 = 7 THEN 'rare word ' || i ELSE 'common chatter ' || i END, '{}'
             FROM generate_series(0, 299) AS i`,
          [BASE],
        );
      } finally {
        await client.end();
      }
      const store = await openPgStore({ url: TEST_PG_URL, schema, logger: silentLogger });
      try {
        const page = await store.search.search({ conversations: ['#old'], query: words('rare word'), limit: 10 });
        assert.deepEqual(page.messages.map((m) => m.msgid), ['old207', 'old107', 'old7']);
        assert.equal((await store.search.search({ conversations: ['#old'], query: words('chatter'), limit: 1000 })).messages.length, 297);
        const index = await pgAdmin<{ def: string }>('SELECT indexdef AS def FROM pg_indexes WHERE schemaname = $1 AND indexname = $2', [schema, 'messages_search']);
        assert.match(index[0]!.def, /USING gin \(search\)/);
      } finally {
        await store.close();
      }
    });

    describe('query plan over 50,000 messages', () => {
      let store: PgStore;
      const schema = randomSchema('fts_plans');
      const VOCABULARY = Array.from({ length: 2000 }, (_, i) => `w${i.toString(36)}`);
      before(async () => {
        schemas.push(schema);
        store = await openPgStore({ url: TEST_PG_URL, schema, logger: silentLogger });
        // 50 conversations x 1,000 messages of 8 words; "zebra" and "quokka" in a handful only.
        for (let c = 0; c < 50; c++) {
          const batch: StoredMessage[] = [];
          for (let i = 0; i < 1000; i++) {
            const text = Array.from({ length: 8 }, (_, k) => VOCABULARY[(c * 7919 + i * 104729 + k * 1299709) % VOCABULARY.length]).join(' ');
            const rare = i % 250 === 3 ? ' zebra quokka' : '';
            batch.push({ ...msg(`#fts${c}`, `fts${c}/${i}`, BASE + i * 1000), text: text + rare });
          }
          await store.history.append(batch);
        }
        await store.db.query('ANALYZE messages');
      });
      after(() => store?.close());

      interface PlanNode {
        'Node Type': string;
        'Relation Name'?: string;
        'Index Name'?: string;
        Plans?: PlanNode[];
      }
      const nodes = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodes)];

      it('a selective two-word search in 10 conversations is a bitmap scan of messages_search, no Seq Scan', async () => {
        const calls = record(store);
        const request = { conversations: Array.from({ length: 10 }, (_, c) => `#fts${c * 3}`), query: words('zebra quokka'), limit: 50 };
        const page = await store.search.search(request);
        stopRecording(store);
        assert.equal(page.messages.length, 40);
        assert.equal(calls.length, 1);
        const rows = await store.db.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${calls[0]!.text}`, calls[0]!.values);
        const all = nodes(rows[0]!['QUERY PLAN'][0].Plan);
        const types = all.map((n) => `${n['Node Type']}${n['Index Name'] ? ` on ${n['Index Name']}` : ''}`);
        assert.ok(types.includes('Bitmap Index Scan on messages_search'), types.join(', '));
        assert.ok(!all.some((n) => n['Node Type'] === 'Seq Scan'), types.join(', '));
      });
    });
  });
}
