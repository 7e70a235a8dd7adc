import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loginClient } from '../helpers/accounts.js';
import { runParley } from '../helpers/cli.js';
import { dropSchema, pgAdmin, pgSkipReason, randomSchema, TEST_PG_URL } from '../helpers/postgres.js';
import { startTestServer } from '../helpers/server.js';

const skip = await pgSkipReason();

describe('parley user on PostgreSQL (store.url)', { skip }, () => {
  const schema = randomSchema('cli');
  const env = { PARLEY_STORE__URL: TEST_PG_URL, PARLEY_STORE__SCHEMA: schema };
  // data_dir is not used by a PostgreSQL store; an empty one shows nothing lands there.
  const data = mkdtempSync(join(tmpdir(), 'parley-user-pg-'));
  after(async () => {
    await dropSchema(schema);
    rmSync(data, { recursive: true, force: true });
  });

  it('adds, lists, changes and deletes accounts in the database; a server on it accepts them', async () => {
    const added = runParley(['user', 'add', 'Olga', '--data', data], 'first-password\n', env);
    assert.equal(added.status, 0, added.stderr);
    assert.match(added.stdout, /account Olga created/);
    const rows = await pgAdmin<{ key: string; name: string }>(`SELECT key, name FROM ${schema}.accounts`);
    assert.deepEqual(rows, [{ key: 'olga', name: 'Olga' }]);
    assert.match(runParley(['user', 'list', '--data', data], '', env).stdout, /^Olga  /m);
    assert.equal(runParley(['user', 'passwd', 'olga', '--data', data], 'second-password\n', env).status, 0);

    const server = await startTestServer({ data_dir: data, store: { url: TEST_PG_URL, schema }, accounts: { scrypt_log_n: 10 } });
    try {
      const client = await loginClient(server.port, 'olga', 'Olga', 'second-password');
      client.close();
    } finally {
      await server.stop();
    }

    assert.equal(runParley(['user', 'del', 'OLGA', '--data', data], '', env).status, 0);
    assert.doesNotMatch(runParley(['user', 'list', '--data', data], '', env).stdout, /Olga/);
  });

  it('an unreachable database: one readable line naming the URL without its password', async () => {
    const probe = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => probe.once('listening', r));
    const { port } = probe.address() as net.AddressInfo;
    await new Promise((r) => probe.close(r));
    const result = runParley(['user', 'list', '--data', data], '', { PARLEY_STORE__URL: `postgres://parley:hunter2@127.0.0.1:${port}/parley` });
    assert.equal(result.status, 1);
    assert.equal(result.stderr, `parley user: store.url postgres://parley@127.0.0.1:${port}/parley: connection refused\n`);
    const served = runParley(['serve', '--data', data, '--listen', '127.0.0.1:0'], '', {
      PARLEY_STORE__URL: `postgres://parley:hunter2@127.0.0.1:${port}/parley`,
      PARLEY_HTTP__LISTEN: '',
    });
    assert.equal(served.status, 1);
    assert.match(served.stderr, new RegExp(`could not start: store\\.url postgres://parley@127\\.0\\.0\\.1:${port}/parley: connection refused`));
    assert.doesNotMatch(served.stderr, /hunter2|\n\s+at /);
  });
});
