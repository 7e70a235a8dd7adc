import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { IrcMessage } from '../../src/protocol/index.js';
import { dropSchema, pgAdmin, pgSkipReason, randomSchema, TEST_PG_URL } from '../helpers/postgres.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const skip = await pgSkipReason();
const NOT_SENT = 'Message not sent: the server cannot store messages right now';
const privmsgs = (lines: IrcMessage[]) => lines.filter((m) => m.command === 'PRIVMSG').map((m) => m.params[1]);

// PostgreSQL commits asynchronously: the rule "nobody sees a message before it is stored" holds
// because a turn's output waits for its commit (transport/flush.ts). Faults are injected with
// triggers in the test's own schema on the real database.
describe('PostgreSQL store: delivery waits for the commit', { skip }, () => {
  const schema = randomSchema('delivery');
  let server: TestServer;
  const open: RawClient[] = [];
  const trigger = (body: string) =>
    pgAdmin(`CREATE OR REPLACE FUNCTION ${schema}.fault() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ${body}; RETURN NULL; END $$;
             DROP TRIGGER IF EXISTS fault ON ${schema}.messages;
             CREATE TRIGGER fault BEFORE INSERT ON ${schema}.messages FOR EACH STATEMENT EXECUTE FUNCTION ${schema}.fault()`);
  const clear = () => pgAdmin(`DROP TRIGGER IF EXISTS fault ON ${schema}.messages`);
  const stored = async (text: string) => (await pgAdmin(`SELECT count(*)::int AS n FROM ${schema}.messages WHERE text = $1`, [text]))[0]!.n as number;
  const member = async (nick: string, caps: string[] = []) => {
    const c = await RawClient.register(server.port, nick, caps);
    open.push(c);
    c.send('JOIN #pg');
    await c.sync();
    return c;
  };

  before(async () => {
    server = await startTestServer({ store: { url: TEST_PG_URL, schema }, http: { listen: '127.0.0.1:0' } });
  });
  after(async () => {
    for (const c of open) c.close();
    await server?.stop();
    await dropSchema(schema);
  });

  it('a member receives a message only once it is committed', async () => {
    const sender = await member('slowsender');
    const watcher = await member('slowwatcher');
    // Each append takes 300 ms: a message delivered before its commit would not be in the table yet.
    await trigger('PERFORM pg_sleep(0.3)');
    try {
      sender.send('PRIVMSG #pg :durable first');
      await watcher.expect((m) => m.command === 'PRIVMSG' && m.params[1] === 'durable first');
      assert.equal(await stored('durable first'), 1, 'in the database when it arrived');
    } finally {
      await clear();
    }
  });

  it('a message the database refuses reaches nobody; the sender gets FAIL; chat resumes', async () => {
    const sender = await member('pgsender', ['echo-message']);
    const watcher = await member('pgwatcher');
    await trigger(`RAISE EXCEPTION 'injected: database refuses'`);
    sender.send('PRIVMSG #pg :never seen');
    const fail = await sender.expect((m) => m.command === 'FAIL');
    assert.deepEqual(fail.params, ['PRIVMSG', 'TEMPORARILY_UNAVAILABLE', '#pg', NOT_SENT]);
    assert.deepEqual(privmsgs(await watcher.sync()), []);
    assert.deepEqual(privmsgs(await sender.sync()), [], 'no echo of a refused message');
    const health = await fetch(`http://127.0.0.1:${server.http!.port}/healthz`);
    assert.equal(health.status, 503);

    await clear();
    sender.send('PRIVMSG #pg :seen again');
    await watcher.expect((m) => m.command === 'PRIVMSG' && m.params[1] === 'seen again');
    assert.equal((await fetch(`http://127.0.0.1:${server.http!.port}/healthz`)).status, 200);
    assert.equal(await stored('never seen'), 0);
    assert.equal(await stored('seen again'), 1);
  });

  it('a labeled message the database refuses gets the labeled FAIL and no echo', async () => {
    const sender = await member('labeler', ['echo-message', 'labeled-response', 'batch', 'message-tags']);
    const watcher = await member('labelwatch');
    await trigger(`RAISE EXCEPTION 'injected: database refuses'`);
    try {
      sender.send('@label=L1 PRIVMSG #pg :labeled refused');
      const reply = await sender.expect((m) => m.tags?.label === 'L1');
      assert.equal(reply.command, 'FAIL');
      assert.deepEqual(reply.params.slice(0, 3), ['PRIVMSG', 'TEMPORARILY_UNAVAILABLE', '#pg']);
      assert.deepEqual(privmsgs(await sender.sync()), []);
      assert.deepEqual(privmsgs(await watcher.sync()), []);
    } finally {
      await clear();
    }
    sender.send('@label=L2 PRIVMSG #pg :labeled stored');
    const echo = await sender.expect((m) => m.tags?.label === 'L2');
    assert.equal(echo.command, 'PRIVMSG');
    await watcher.expect((m) => m.command === 'PRIVMSG' && m.params[1] === 'labeled stored');
  });
});
