import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { killStartedServers, startCliServer } from '../helpers/cli-server.js';
import { dropSchema, pgSkipReason, randomSchema, TEST_PG_URL } from '../helpers/postgres.js';
import { RawClient } from '../helpers/raw-client.js';

const BURST = 400;

const pgSkip = await pgSkipReason();
const pgSchema = randomSchema('kill');

// The durability promise: a message anyone received (or got echoed) is in history after the
// server is killed with SIGKILL and started again on the same store. SQLite commits before the
// turn's output is written; PostgreSQL's output waits for the commit's promise.
for (const store of ['SQLite', 'PostgreSQL'] as const) describe(`history survives SIGKILL (${store})`, { skip: store === 'PostgreSQL' && pgSkip }, () => {
  after(async () => {
    killStartedServers();
    if (store === 'PostgreSQL') await dropSchema(pgSchema);
  });

  it('has every message a client received, after kill -9 in the middle of a burst', async () => {
    const data = mkdtempSync(join(tmpdir(), 'parley-kill-'));
    const storeEnv: Record<string, string> = store === 'PostgreSQL' ? { PARLEY_STORE__URL: TEST_PG_URL, PARLEY_STORE__SCHEMA: pgSchema } : {};
    const env = { PARLEY_HISTORY__MAX_QUERY: '1000', ...storeEnv };
    const first = await startCliServer(data, env);
    const sender = await RawClient.register(first.port, 'sender', ['echo-message', 'message-tags']);
    const receiver = await RawClient.register(first.port, 'receiver', ['message-tags']);
    for (const c of [sender, receiver]) {
      c.send('JOIN #durable');
      await c.sync();
    }
    // One write with the whole burst, so the server is mid-flow when it dies.
    sender.sendRaw(Array.from({ length: BURST }, (_, i) => `PRIVMSG #durable :burst ${i}\r\n`).join(''));
    await receiver.expect((m) => m.command === 'PRIVMSG' && m.params[1] === `burst ${BURST / 4}`, 10_000);
    first.child.kill('SIGKILL');
    await first.exited;
    await Promise.all([receiver.closedByServer(), sender.closedByServer()]);

    // Everything either client saw before the connection died (including what was still in
    // the kernel's buffers when the process died).
    const seen = new Map<string, string>();
    for (const c of [sender, receiver]) {
      for (const m of c.received) if (m.command === 'PRIVMSG' && m.tags?.msgid) seen.set(m.tags.msgid, m.params[1]!);
    }
    assert.ok(seen.size > BURST / 4, `saw ${seen.size}`);

    const second = await startCliServer(data, env);
    try {
      const reader = await RawClient.register(second.port, 'reader', ['batch', 'message-tags', 'draft/chathistory']);
      reader.send('JOIN #durable');
      await reader.sync();
      reader.send('CHATHISTORY LATEST #durable * 1000');
      const stored = new Map<string, string>();
      for (const m of await reader.sync()) if (m.command === 'PRIVMSG') stored.set(m.tags!.msgid!, m.params[1]!);
      const missing = [...seen].filter(([msgid]) => !stored.has(msgid));
      assert.deepEqual(missing, [], `${missing.length} of ${seen.size} received messages missing from history; stored ${stored.size}: ${missing.slice(0,5).map((m) => m[1]).join(",")} .. ${missing.slice(-3).map((m) => m[1]).join(",")}`);
      reader.close();
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });
});
