/**
 * A room's first member on a node is owed every message sequenced before its JOIN, even one
 * another node has published but not stored yet: the new copy starts from a snapshot that
 * already counts that message, so it is delivered to no one live, and the joiner's CHATHISTORY
 * (or a reconnecting client's CHATHISTORY AFTER) must find it in the store. The JOIN so waits for
 * the earlier messages' commits (room-copies.ts, SNAPSHOT_LOOKBACK).
 *
 * Two nodes on one Redis prefix and one PostgreSQL schema; a lock on the messages table keeps
 * node A's commit from ending while node B's first member joins.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { parseMessage } from '../../src/protocol/index.js';
import { waitFor } from '../contract/cluster-backend.js';
import { redisSkipReason } from '../cluster/redis-helpers.js';
import { dropSchema, pgSkipReason, randomSchema, TEST_PG_URL } from '../helpers/postgres.js';
import { twoNodes } from './two-nodes.js';

const skip = (await redisSkipReason()) || (await pgSkipReason());
const CAPS = ['echo-message', 'message-tags', 'server-time', 'batch', 'draft/chathistory'];

describe('a room\'s first member on a node', { skip }, () => {
  const schema = randomSchema('catchup');
  const nodes = twoNodes('catchup', { store: { url: TEST_PG_URL, schema } });
  after(() => dropSchema(schema));

  it('finds in history another node\'s message sequenced before its JOIN but stored after', async () => {
    const dan = await nodes.register(nodes.a, 'dan', CAPS);
    dan.send('JOIN #hole');
    await dan.expectCommand('366');
    // Before the lock: both nodes run in this process, so every output waits for A's commit.
    const eve = await nodes.register(nodes.b, 'eve', CAPS);

    const locker = new pg.Client({ connectionString: TEST_PG_URL });
    await locker.connect();
    try {
      // Reads go on; node A's insert of dan's message waits for the lock.
      await locker.query('BEGIN');
      await locker.query(`LOCK TABLE "${schema}".messages IN SHARE MODE`);
      const bus = nodes.a.server.cluster.bus;
      const before = bus.position('#hole') ?? 0;
      dan.send('PRIVMSG #hole :sent-before-the-join');
      await waitFor(() => (bus.position('#hole') ?? 0) > before, 5000, 'dan\'s message in the log');

      eve.send('JOIN #hole');
      eve.send('CHATHISTORY LATEST #hole * 10');
      // Long enough for node B to answer both if it did not wait for the commit.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await locker.query('ROLLBACK');

      const start = await eve.expect((m) => m.command === 'BATCH' && m.params[1] === 'chathistory', 10_000);
      const ref = start.params[0]!.slice(1);
      const inBatch: string[] = [];
      for (;;) {
        const m = await eve.expect(() => true);
        if (m.command === 'BATCH' && m.params[0] === `-${ref}`) break;
        if (m.command === 'PRIVMSG' && m.tags?.batch === ref) inBatch.push(m.params[1]!);
      }
      assert.deepEqual(inBatch, ['sent-before-the-join']);

      // Live from here on, and the earlier message never a second time.
      dan.send('PRIVMSG #hole :after-the-join');
      await eve.expect((m) => m.command === 'PRIVMSG' && m.params[1] === 'after-the-join');
      await eve.sync();
      const copies = eve.lines.map(parseMessage).filter((m) => m?.command === 'PRIVMSG' && m.params[1] === 'sent-before-the-join');
      assert.equal(copies.length, 1);
    } finally {
      await locker.query('ROLLBACK').catch(() => {});
      await locker.end();
    }
  });
});
