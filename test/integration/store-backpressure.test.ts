/**
 * Back-pressure of an asynchronous store (PostgreSQL), for room messages on the cluster path:
 * while commits cannot finish (a lock held on the messages table), messages wait in the batch;
 * past MAX_WAITING_MESSAGES new ones are refused with FAIL before anyone gets them. Once the
 * lock goes, every message that was not refused is delivered, each once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { dropSchema, pgSkipReason, randomSchema, TEST_PG_URL } from '../helpers/postgres.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const skip = await pgSkipReason();

describe('room messages when PostgreSQL falls behind', { skip }, () => {
  const schema = randomSchema('backpressure');
  let server: TestServer;
  before(async () => {
    // A SendQ that holds every delivery held back while the store cannot commit.
    server = await startTestServer({ store: { url: TEST_PG_URL, schema }, limits: { sendq_bytes: 64 * 1024 * 1024 } });
  });
  after(async () => {
    await server?.stop();
    await dropSchema(schema);
  });

  it('refuses with FAIL past the waiting limit, delivers the rest once the store is back', async () => {
    // Without echo-message: its own output stays empty, so nothing holds its lines back.
    const sender = await RawClient.register(server.port, 'flooder');
    const member = await RawClient.register(server.port, 'reader');
    for (const c of [sender, member]) {
      c.send('JOIN #bp');
      await c.expect((m) => m.command === '366');
    }
    const locker = new pg.Client({ connectionString: TEST_PG_URL });
    await locker.connect();
    const TOTAL = 21_000;
    try {
      await locker.query('BEGIN');
      await locker.query(`LOCK TABLE "${schema}".messages IN ACCESS EXCLUSIVE MODE`);
      // One write, so the next messages wait behind a commit that cannot finish.
      sender.send('PRIVMSG #bp :first');
      await new Promise((r) => setTimeout(r, 300));
      const lines: string[] = [];
      for (let i = 0; i < TOTAL; i++) lines.push(`PRIVMSG #bp :m${i}`);
      for (let i = 0; i < lines.length; i += 1000) sender.sendRaw(lines.slice(i, i + 1000).join('\r\n') + '\r\n');
      // Output of these turns waits for their commit, the FAILs too: the lock goes once the
      // batch holds the limit (read off the server, the one thing the wire cannot show yet).
      const history = server.server.history as unknown as { batch: unknown[] };
      for (let i = 0; i < 600 && history.batch.length < 20_000; i++) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await locker.query('ROLLBACK').catch(() => {});
      await locker.end();
    }
    const fail = await sender.expect((m) => m.command === 'FAIL', 30_000);
    assert.deepEqual(fail.params.slice(0, 3), ['PRIVMSG', 'TEMPORARILY_UNAVAILABLE', '#bp']);
    assert.match(fail.params[3]!, /storing messages slower than they arrive/);
    // Every line was taken (then stored and delivered) or refused.
    sender.send('PING :done');
    await sender.expect((m) => m.command === 'PONG' && m.params.at(-1) === 'done', 60_000);
    const refused = sender.lines.filter((l) => / FAIL PRIVMSG TEMPORARILY_UNAVAILABLE .*slower/.test(l)).length;
    const taken = TOTAL - refused;
    assert.ok(refused > 0 && taken >= 20_000, `${taken} taken, ${refused} refused`);
    // The other member gets exactly the messages taken, each once, after 'first'.
    member.send('PING :done');
    await member.expect((m) => m.command === 'PONG' && m.params.at(-1) === 'done', 60_000);
    const got = member.lines.filter((l) => / PRIVMSG #bp :?m\d+$/.test(l));
    assert.equal(got.length, taken);
    assert.equal(new Set(got.map((l) => l.split(' ').at(-1))).size, taken);
    sender.close();
    member.close();
  });
});
