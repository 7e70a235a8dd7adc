import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashPassword } from '../../src/auth/password.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer } from '../helpers/server.js';

describe('LUSERS counts', () => {
  it('follows registrations, invisible users, operators and departures', async () => {
    const server = await startTestServer({ opers: [{ name: 'op', password_hash: await hashPassword('op-password', { N: 1024 }) }] });
    try {
      const watcher = await RawClient.register(server.port, 'watcher');
      const hidden = await RawClient.register(server.port, 'hidden');
      hidden.send('MODE hidden +i');
      hidden.send('OPER op op-password');
      await hidden.expectCommand('381');
      const pending = await RawClient.connect({ port: server.port });
      pending.send('NICK pending');
      await hidden.sync();

      const lusers = async () => {
        watcher.send('LUSERS');
        const client = await watcher.expectCommand('251');
        const ops = await watcher.expectCommand('252');
        const unknown = await watcher.expectCommand('253');
        return [client.params[1], ops.params[1], unknown.params[1]];
      };
      assert.deepEqual(await lusers(), ['There are 1 users and 1 invisible on 1 servers', '1', '1']);

      watcher.send('WHOIS hidden');
      await watcher.expect((m) => m.command === '313' && m.params[1] === 'hidden');

      // Share a room so the departure is observable: the QUIT arrives once the server forgot it.
      watcher.send('JOIN #l');
      await watcher.expectCommand('366');
      hidden.send('JOIN #l');
      await hidden.expectCommand('366');
      hidden.close();
      await watcher.expect((m) => m.command === 'QUIT' && m.source?.startsWith('hidden!') === true);
      assert.deepEqual(await lusers(), ['There are 1 users and 0 invisible on 1 servers', '0', '1']);
      for (const c of [watcher, pending]) c.close();
    } finally {
      await server.stop();
    }
  });
});
