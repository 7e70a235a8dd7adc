import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashPassword } from '../../src/auth/password.js';
import { createLogger } from '../../src/observability/logger.js';
import { registerAccount } from '../helpers/accounts.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer } from '../helpers/server.js';

describe('logs', () => {
  it('never contain a password, right or wrong, whatever path it took', async () => {
    const lines: string[] = [];
    const logger = createLogger('debug', (line) => lines.push(line));
    const server = await startTestServer(
      { accounts: { scrypt_log_n: 10 }, opers: [{ name: 'root', password_hash: await hashPassword('Oper-Secret-1', { N: 1024 }) }] },
      logger,
    );
    try {
      await registerAccount(server.port, 'logged', 'Account-Secret-2');
      const client = await RawClient.register(server.port, 'logged2');
      client.send('PRIVMSG NickServ :IDENTIFY logged Wrong-Secret-3');
      client.send('PRIVMSG NickServ :IDENTIFY logged Account-Secret-2');
      await client.expectCommand('900');
      client.send('OPER root Wrong-Secret-4');
      await client.expectCommand('464');
      client.send('OPER root Oper-Secret-1');
      await client.expectCommand('381');
      client.send(`AUTHENTICATE PLAIN`);
      await client.sync();
      client.close();
    } finally {
      await server.stop();
    }
    const all = lines.join('');
    assert.ok(lines.length > 0, 'the debug logger saw the session');
    for (const secret of ['Oper-Secret-1', 'Account-Secret-2', 'Wrong-Secret-3', 'Wrong-Secret-4']) {
      assert.ok(!all.includes(secret), `${secret} appears in the log`);
    }
  });
});
