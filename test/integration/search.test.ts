import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { IrcMessage } from '../../src/protocol/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { loginClient, registerAccount } from '../helpers/accounts.js';
import { is, join } from '../helpers/fixture.js';
import { dropSchema, pgSkipReason, randomSchema, TEST_PG_URL } from '../helpers/postgres.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const CAPS = ['soju.im/search', 'batch', 'server-time', 'message-tags', 'echo-message'];
const PASSWORD = 'search-password';
const pgSkip = await pgSkipReason();

/** SEARCH <attributes>: the texts found, in order, and the batch's type; or the FAIL. */
async function search(client: RawClient, attributes: string): Promise<{ texts: string[]; lines: IrcMessage[]; type?: string; fail?: IrcMessage }> {
  client.send(`SEARCH ${attributes}`);
  const first = await client.expect((m) => m.command === 'BATCH' || m.command === 'FAIL' || m.command === '421');
  if (first.command !== 'BATCH') return { texts: [], lines: [], fail: first };
  const lines: IrcMessage[] = [];
  for (let m = await client.expect(() => true); m.command !== 'BATCH'; m = await client.expect(() => true)) lines.push(m);
  return { texts: lines.map((m) => m.params[1]!), lines, type: first.params[1] };
}

for (const kind of ['SQLite', 'PostgreSQL'] as const) {
  describe(`SEARCH (soju.im/search) on ${kind}`, { skip: kind === 'PostgreSQL' ? pgSkip : false }, () => {
    const schema = randomSchema('search');
    let server: TestServer;
    let alice: RawClient, bob: RawClient, carol: RawClient;
    before(async () => {
      server = await startTestServer({ accounts: { scrypt_log_n: 10 }, limits: { searches_per_minute: 120 }, ...(kind === 'PostgreSQL' ? { store: { url: TEST_PG_URL, schema } } : {}) });
      for (const name of ['alice', 'bob']) await registerAccount(server.port, name, PASSWORD);
      alice = await loginClient(server.port, 'alice', 'alice', PASSWORD, CAPS);
      bob = await loginClient(server.port, 'bob', 'bob', PASSWORD, CAPS);
      carol = await RawClient.register(server.port, 'carol', CAPS);
      for (const c of [alice, bob]) await join(c, '#search');
      await join(carol, '#elsewhere');
      const say = async (c: RawClient, target: string, text: string) => {
        c.send(`PRIVMSG ${target} :${text}`);
        await c.expect((m) => m.command === 'PRIVMSG' && m.params[1] === text);
        // Results across conversations come in time order: a millisecond apart at least.
        await new Promise((resolve) => setTimeout(resolve, 5));
      };
      await say(alice, '#search', 'good morning everyone');
      await say(bob, '#search', 'Morning! The coffee is ready');
      await say(alice, '#search', 'no match here');
      await say(bob, '#search', 'good night, morning people');
      await say(carol, '#elsewhere', 'a secret morning elsewhere');
      await say(alice, 'bob', 'a private morning note');
    });
    after(async () => {
      for (const c of [alice, bob, carol]) c?.close();
      await server?.stop();
      if (kind === 'PostgreSQL') await dropSchema(schema);
    });

    it('is offered as a capability, and unknown (421) to a client that did not negotiate it', async () => {
      const plain = await RawClient.connect({ port: server.port });
      assert.ok((await plain.capLs()).includes('soju.im/search'));
      plain.close();
      const other = await RawClient.register(server.port, 'nocap');
      other.send('SEARCH text=morning');
      await other.expect((m) => m.command === '421' && m.params[1] === 'SEARCH');
      other.close();
    });

    it('finds every word in the rooms one is in and one\'s direct conversations, oldest first, in a soju.im/search batch', async () => {
      const found = await search(alice, 'text=morning');
      assert.equal(found.type, 'soju.im/search');
      assert.deepEqual(found.texts, ['good morning everyone', 'Morning! The coffee is ready', 'good night, morning people', 'a private morning note']);
      for (const m of found.lines) assert.ok(m.tags?.msgid && m.tags.time && m.tags.batch, 'msgid, time and batch on each');
      assert.ok(!found.texts.includes('a secret morning elsewhere'), 'not a room alice is not in');
      // Carol, not logged in: her room only.
      assert.deepEqual((await search(carol, 'text=morning')).texts, ['a secret morning elsewhere']);
    });

    it('in=, from=, limit=, after= and before= narrow it; text holds phrases; values escape spaces', async () => {
      assert.deepEqual((await search(alice, 'text=morning;in=#search;from=bob')).texts, ['Morning! The coffee is ready', 'good night, morning people']);
      assert.deepEqual((await search(alice, 'text="good\\smorning"')).texts, ['good morning everyone']);
      assert.deepEqual((await search(alice, 'text=morning;in=bob')).texts, ['a private morning note']);
      const all = await search(alice, 'text=morning;in=#search');
      assert.deepEqual((await search(alice, 'text=morning;in=#search;limit=2')).texts, all.texts.slice(-2), 'the newest two');
      const second = all.lines[1]!.tags!.time!;
      assert.deepEqual((await search(alice, `text=morning;in=#search;after=${second}`)).texts, all.texts.slice(1), 'after includes its time');
      assert.deepEqual((await search(alice, `text=morning;in=#search;before=${second}`)).texts, all.texts.slice(0, 2), 'before includes its time');
      assert.deepEqual((await search(alice, 'text=nowhere;in=#search')).texts, [], 'an empty batch when nothing matches');
    });

    it('bad attributes are FAIL SEARCH INVALID_PARAMS naming the attribute; a room one is not in is refused', async () => {
      const cases: [string, string][] = [
        ['in=#search', 'text'],
        ['text=', 'text'],
        ['text=!!! ???', 'text'],
        [`text=${'x'.repeat(401)}`, 'text'],
        ['text=morning;limit=0', 'limit'],
        ['text=morning;limit=lots', 'limit'],
        ['text=morning;after=yesterday', 'after'],
        ['text=morning;in=#elsewhere', 'in'],
        ['text=morning;in=#nosuchroom', 'in'],
        ['text=morning from:alice;from=bob', 'from'],
      ];
      for (const [attributes, names] of cases) {
        const { fail } = await search(bob, attributes);
        assert.deepEqual(fail?.params.slice(0, 3), ['SEARCH', 'INVALID_PARAMS', names], attributes);
      }
      // Query syntax of either store is only words here.
      for (const hostile of ['text="NEAR(a b)" OR *', "text=x' OR 1=1 --", 'text=a:b & !c | (d)']) {
        const result = await search(alice, hostile);
        assert.equal(result.fail, undefined, hostile);
      }
    });

    it('is rate limited per connection', async () => {
      // 120 a minute: a burst of 30, then 2 a second.
      const outcomes: string[] = [];
      for (let i = 0; i < 40; i++) {
        const result = await search(bob, 'text=coffee');
        outcomes.push(result.fail ? result.fail.params[1]! : 'ok');
      }
      assert.ok(outcomes.includes('TEMPORARILY_UNAVAILABLE'), outcomes.join(' '));
      assert.ok(outcomes.slice(0, 5).every((o) => o === 'ok'), outcomes.join(' '));
    });
  });
}
