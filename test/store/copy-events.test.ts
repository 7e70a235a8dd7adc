/**
 * `parley store copy` (src/store/copy.ts) takes draft/event-playback events along with the
 * messages: every history row reaches PostgreSQL with its command and params.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { silentLogger } from '../../src/observability/logger.js';
import { copySqliteToPg } from '../../src/store/copy.js';
import { openPgStore } from '../../src/store/postgres/store.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import type { StoredMessage } from '../../src/store/store.js';
import { dropSchema, pgSkipReason, randomSchema, TEST_PG_URL } from '../helpers/postgres.js';

const skip = await pgSkipReason();
const BASE = 1_767_225_600_000;

describe('store copy with events', { skip }, () => {
  it('copies events with their params, in order with the messages', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-copy-events-'));
    const schema = randomSchema('copy_events');
    const from = openSqliteStore(dir);
    const to = await openPgStore({ url: TEST_PG_URL, schema, logger: silentLogger });
    try {
      const row = (msgid: string, i: number, command: StoredMessage['command'], params?: string[]): StoredMessage => ({
        msgid, time: BASE + i, conversation: '#copy', source: 'a!b@c', account: null, command, target: '#copy',
        text: params ? '' : `text ${i}`, tags: {}, ...(params ? { params } : {}),
      });
      const rows = [row('j', 0, 'JOIN', ['#copy']), row('m', 1, 'PRIVMSG'), row('k', 2, 'MODE', ['#copy', '+o', 'x']), row('q', 3, 'QUIT', ['bye'])];
      await from.history.append(rows);
      await copySqliteToPg(from, to, { batch: 2 });
      assert.deepEqual(await to.history.latest('#copy', 10, undefined, { events: true }), rows);
      assert.deepEqual(await to.history.latest('#copy', 10), [rows[1]]);
    } finally {
      await from.close();
      await to.close();
      await dropSchema(schema);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
