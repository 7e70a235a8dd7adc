import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultConfig } from '../../src/config/schema.js';
import { History } from '../../src/core/history/history.js';
import { silentLogger } from '../../src/observability/logger.js';
import type { HistoryStore, StoredMessage } from '../../src/store/store.js';

const message = (msgid: string): StoredMessage => ({
  msgid,
  time: 1,
  conversation: '#r',
  source: 'n!u@h',
  account: null,
  command: 'PRIVMSG',
  target: '#r',
  text: msgid,
  tags: {},
});

/** Only the methods the writer uses; the rest are never called here. */
function fakeStore(extra: Partial<HistoryStore> & { appendSync?: (m: StoredMessage[]) => void }): HistoryStore {
  return { latest: async () => [], ...extra } as unknown as HistoryStore;
}

describe('History writer', () => {
  it('commits a turn in one batch, synchronously, when the store can', async () => {
    const batches: string[][] = [];
    const history = new History(fakeStore({ appendSync: (m) => batches.push(m.map((x) => x.msgid)) }), defaultConfig().history, silentLogger);
    history.record(message('a'));
    history.record(message('b'));
    assert.deepEqual(batches, [], 'record does no I/O');
    history.commit();
    assert.deepEqual(batches, [['a', 'b']]);
    history.record(message('c'));
    await new Promise((r) => setImmediate(r)); // its own setImmediate, for a turn without output
    assert.deepEqual(batches, [['a', 'b'], ['c']]);
    await history.stop();
  });

  it('falls back to async append in order, and queries wait for it', async () => {
    const stored: string[] = [];
    const history = new History(
      fakeStore({
        append: async (m) => {
          await new Promise((r) => setTimeout(r, 5));
          stored.push(...m.map((x) => x.msgid));
        },
      }),
      defaultConfig().history,
      silentLogger,
    );
    history.record(message('a'));
    history.commit();
    history.record(message('b'));
    await history.read();
    assert.deepEqual(stored, ['a', 'b']);
    await history.stop();
  });

  it('keeps a batch whose commit failed and writes it with the next one', async () => {
    const batches: string[][] = [];
    let fail = true;
    const appendSync = (m: StoredMessage[]) => {
      if (fail) throw new Error('disk full');
      batches.push(m.map((x) => x.msgid));
    };
    const history = new History(fakeStore({ appendSync }), defaultConfig().history, silentLogger);
    history.record(message('a'));
    history.commit(); // fails, does not throw
    fail = false;
    history.record(message('b'));
    history.commit();
    assert.deepEqual(batches, [['a', 'b']]);
    await history.stop();
  });
});
