/**
 * Issue 14 step 2, node events in the core: a fenced node drops its clients and admits no one;
 * after Redis restarted empty, local users are announced again (their nicks claimed anew).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer } from '../helpers/server.js';
import { dropPrefix, PrivateRedis, randomPrefix, redisSkipReason, TEST_REDIS_URL } from '../cluster/redis-helpers.js';

const skip = await redisSkipReason();

describe('node events', { skip }, () => {
  const prefixes: string[] = [];
  after(async () => {
    for (const prefix of prefixes) await dropPrefix(TEST_REDIS_URL, prefix);
  });

  it('fenced (its lease taken away): every client gets ERROR and is dropped, new connections are refused', async () => {
    const prefix = randomPrefix('fence');
    prefixes.push(prefix);
    const server = await startTestServer({ cluster: { url: TEST_REDIS_URL, prefix } });
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const alice = await RawClient.register(server.port, 'alice');
      const pending = await RawClient.connect({ port: server.port });
      // As if the lease had expired and a peer had reaped the node: the next renewal fails.
      await redis.del(`${prefix}lease:${server.server.cluster.nodes.id}`);
      const error = await alice.expect((m) => m.command === 'ERROR', 5000);
      assert.match(error.params[0]!, /Server fenced/);
      await alice.closedByServer();
      await pending.closedByServer();
      assert.equal(server.server.cluster.nodes.live, false);
      const late = await RawClient.connect({ port: server.port });
      const refused = await late.expect((m) => m.command === 'ERROR');
      assert.match(refused.params[0]!, /Server fenced/);
      await late.closedByServer();
    } finally {
      redis.disconnect();
      await server.stop();
    }
  });

  it('Redis restarted empty: local users are announced again and keep their nicks', async () => {
    const redis = await PrivateRedis.start();
    const server = await startTestServer({ cluster: { url: redis.url } });
    try {
      const alice = await RawClient.register(server.port, 'alice');
      alice.answerPings = true;
      await redis.down();
      await redis.up();
      const probe = new Redis(redis.url);
      try {
        let holder: string | null = null;
        for (let i = 0; i < 100 && holder === null; i++) {
          holder = await probe.get('parley:nick:alice').catch(() => null);
          if (holder === null) await new Promise((r) => setTimeout(r, 50));
        }
        assert.equal(holder, [...server.server.sessions][0]!.uid);
      } finally {
        probe.disconnect();
      }
      // Still connected and served.
      await alice.sync();
      assert.equal(alice.closed, false);
    } finally {
      await server.stop();
      await redis.stop();
    }
  });

  it('Redis restarted empty and the nick taken meanwhile on another node: its user yields to a guest nick, and WHOWAS and MONITOR elsewhere hear of it at once', async () => {
    const redis = await PrivateRedis.start();
    const a = await startTestServer({ cluster: { url: redis.url } });
    const b = await startTestServer({ cluster: { url: redis.url } });
    try {
      const kim = await RawClient.connect({ port: a.port });
      kim.answerPings = true;
      kim.send('NICK kim');
      kim.send('USER kim 0 * :Kim of node A');
      await kim.expect((m) => m.command === '376' || m.command === '422');
      const watcher = await RawClient.register(b.port, 'watcher');
      watcher.answerPings = true;
      // Node A announces its users again only when the test says: node B's new kim comes first.
      const state = a.server.cluster.state;
      const addUser = state.addUser.bind(state);
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      state.addUser = async (record) => {
        await gate;
        return addUser(record);
      };
      await redis.down();
      await redis.up();
      let other: RawClient | null = null;
      for (let i = 0; i < 100 && other === null; i++) {
        other = await RawClient.register(b.port, 'kim').catch(() => null);
        if (other === null) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(other, 'node B registers a new kim once Redis is back');
      other.answerPings = true;
      watcher.send('MONITOR + kim');
      await watcher.expect((m) => m.command === '730');
      open();
      const renamed = await kim.expect((m) => m.command === 'NICK');
      const guest = renamed.params[0]!;
      assert.match(guest, /^Guest\d+$/);
      // The rename is on the network log: node B's WHOWAS has the old kim at once, not only
      // after the 10 s the network log's restart grace takes to recheck.
      watcher.send('MONITOR + ' + guest);
      const online = await watcher.expect((m) => m.command === '730', 3000);
      assert.match(online.params[1]!, new RegExp(`^${guest}!`));
      watcher.send('WHOWAS kim');
      const was = await watcher.expect((m) => m.command === '314' || m.command === '406', 3000);
      assert.deepEqual([was.command, was.params.at(-1)], ['314', 'Kim of node A']);
      for (const c of [kim, watcher, other]) c.close();
    } finally {
      await a.stop();
      await b.stop();
      await redis.stop();
    }
  });
});
