/**
 * draft/metadata-2 across nodes: two servers on one Redis prefix and one PostgreSQL schema.
 * A SET on node A is in the store every node reads (GET on B), and reaches B's subscribers
 * through the network log: one sharing a room with the user, one monitoring it; one that did
 * not subscribe hears nothing.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { IrcMessage } from '../../src/protocol/index.js';
import { loginClient, registerAccount } from '../helpers/accounts.js';
import { dropSchema, pgSkipReason, randomSchema, TEST_PG_URL } from '../helpers/postgres.js';
import { redisSkipReason } from '../cluster/redis-helpers.js';
import { twoNodes } from './two-nodes.js';

const skip = (await redisSkipReason()) || (await pgSkipReason());
const schema = randomSchema();
const CAPS = ['draft/metadata-2', 'batch'];
const is = (command: string, param?: string) => (m: IrcMessage) => m.command === command && (param === undefined || m.params.includes(param));

describe('draft/metadata-2 across two nodes', { skip }, () => {
  const nodes = twoNodes('metadata', { store: { url: TEST_PG_URL, schema }, accounts: { scrypt_log_n: 10 } });
  after(() => dropSchema(schema));

  it('a SET on node A is read on node B and told to B\'s subscribers in a shared room and on MONITOR', async () => {
    await registerAccount(nodes.a.port, 'meta1', 'password-1');
    const setter = await loginClient(nodes.a.port, 'meta1', 'meta1', 'password-1', CAPS);
    nodes.clients.push(setter);
    const roomie = await nodes.register(nodes.b, 'roomie', CAPS);
    const watcher = await nodes.register(nodes.b, 'watcher', CAPS);
    const deaf = await nodes.register(nodes.b, 'deaf', CAPS);
    for (const c of [roomie, watcher]) {
      c.send('METADATA * SUB status display-name');
      await c.expect(is('770'));
    }
    watcher.send('MONITOR + meta1');
    await watcher.expect(is('730'));
    for (const c of [roomie, deaf]) {
      c.send('JOIN #two');
      await c.expect(is('366', '#two'));
    }
    setter.send('JOIN #two');
    await setter.expect(is('366', '#two'));
    await roomie.expect((m) => m.command === 'JOIN' && m.source?.startsWith('meta1!') === true);

    setter.send('METADATA * SET status :on node A');
    assert.deepEqual((await setter.expect(is('761'))).params, ['meta1', 'meta1', 'status', '*', 'on node A']);
    for (const c of [roomie, watcher]) {
      const told = await c.expect(is('METADATA'));
      assert.deepEqual(told.params, ['meta1', 'status', '*', 'on node A']);
    }
    // The store is shared: B reads the value, for a user it only knows from the shared state.
    deaf.send('METADATA meta1 GET status');
    assert.deepEqual((await deaf.expect(is('761'))).params, ['deaf', 'meta1', 'status', '*', 'on node A']);
    assert.equal((await deaf.sync()).filter((m) => m.command === 'METADATA').length, 0);
    // A removal travels the same way.
    setter.send('METADATA * SET status');
    await setter.expect(is('766'));
    assert.deepEqual((await roomie.expect(is('METADATA'))).params, ['meta1', 'status', '*']);
    // A joiner on B subscribed to display-name gets A's user in the JOIN batch.
    setter.send('METADATA * SET display-name :Meta One');
    await setter.expect(is('761'));
    const late = await nodes.register(nodes.b, 'late', CAPS);
    late.send('METADATA * SUB display-name');
    await late.expect(is('770'));
    late.send('JOIN #two');
    const batch = await late.expect(is('METADATA'));
    assert.deepEqual(batch.params, ['meta1', 'display-name', '*', 'Meta One']);
    assert.ok(batch.tags?.batch);
  });
});
