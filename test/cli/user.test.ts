import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { verifyPassword } from '../../src/auth/password.js';
import { loginClient } from '../helpers/accounts.js';
import { runParley } from '../helpers/cli.js';
import { startTestServer } from '../helpers/server.js';

describe('parley user', () => {
  it('adds, lists, changes and deletes accounts in the data directory', async () => {
    const data = mkdtempSync(join(tmpdir(), 'parley-user-'));
    const added = runParley(['user', 'add', 'Olga', '--data', data], 'first-password\n');
    assert.equal(added.status, 0, added.stderr);
    assert.match(added.stdout, /account Olga created/);
    assert.match(runParley(['user', 'list', '--data', data]).stdout, /^ACCOUNT +CREATED \(UTC\) +EMAIL\nOlga +\d{4}-\d\d-\d\d \d\d:\d\d\n/);

    const changed = runParley(['user', 'passwd', 'olga', '--data', data], 'second-password\n');
    assert.equal(changed.status, 0, changed.stderr);

    // The server, on the same data directory, accepts the new password.
    const server = await startTestServer({ data_dir: data, accounts: { scrypt_log_n: 10 } });
    try {
      const client = await loginClient(server.port, 'olga', 'Olga', 'second-password');
      client.close();
    } finally {
      await server.stop();
    }

    assert.equal(runParley(['user', 'del', 'OLGA', '--data', data]).status, 0);
    assert.doesNotMatch(runParley(['user', 'list', '--data', data]).stdout, /Olga/);
  });

  it('explains what is wrong', () => {
    const data = mkdtempSync(join(tmpdir(), 'parley-user-'));
    const short = runParley(['user', 'add', 'pat', '--data', data], 'short\n');
    assert.equal(short.status, 1);
    assert.match(short.stderr, /at least 8 characters/);
    const bad = runParley(['user', 'add', '1bad', '--data', data], 'long-enough-password\n');
    assert.match(bad.stderr, /nickname rules/);
    assert.equal(runParley(['user', 'add', 'pat', '--data', data], 'long-enough-password\n').status, 0);
    assert.match(runParley(['user', 'add', 'pat', '--data', data], 'long-enough-password\n').stderr, /exists/);
    assert.match(runParley(['user', 'del', 'nobody', '--data', data]).stderr, /no account named nobody/);
    const unknown = runParley(['user', 'frobnicate', 'x', '--data', data]);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown action/);
  });

  it('hashes an operator password for the config file', async () => {
    const hashed = runParley(['hash-password'], 'oper-secret\n');
    assert.equal(hashed.status, 0, hashed.stderr);
    const hash = hashed.stdout.trim();
    assert.match(hash, /^\$scrypt\$ln=15,r=8,p=1\$[^$]+\$[^$]+$/);
    assert.ok(await verifyPassword('oper-secret', hash));
    assert.ok(!(await verifyPassword('oper-secreT', hash)));
  });
});
