import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultConfig } from '../../src/config/schema.js';
import { History } from '../../src/core/history/history.js';
import type { IrcError } from '../../src/core/errors.js';
import { Outgoing } from '../../src/core/outgoing.js';
import type { Session } from '../../src/core/session.js';
import { createLogger, silentLogger } from '../../src/observability/logger.js';
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

/** A room message as messaging.ts builds it. */
const relayed = (msgid: string) =>
  new Outgoing({ tags: { time: new Date(1).toISOString(), msgid }, source: 'n!u@h', command: 'PRIVMSG', params: ['#r', msgid] });

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

  it('gives up a batch whose commit failed: its bytes are taken back, each sender is told, nothing is retried', async () => {
    const batches: string[][] = [];
    let fail = true;
    const appendSync = (m: StoredMessage[]) => {
      if (fail) throw new Error('disk full');
      batches.push(m.map((x) => x.msgid));
    };
    const history = new History(fakeStore({ appendSync }), defaultConfig().history, silentLogger);
    const discarded: Buffer[] = [];
    history.setOutput({ serverName: 'irc.test', discard: (buffers) => discarded.push(...buffers) });
    const written: string[] = [];
    const sender = { state: 'registered', view: 0, accountKey: null, conn: { write: (b: Buffer) => written.push(b.toString()) } } as unknown as Session;
    const out = relayed('a');
    const delivered = out.encode(0);
    history.recordRelay(out, '#r', sender);
    assert.equal(history.commit(), false, 'fails, does not throw');
    assert.deepEqual(discarded, [delivered], 'the very Buffer recipients were given');
    assert.equal(out.encode(0).length, 0, 'a broadcast still running delivers nothing');
    assert.deepEqual(written, [':irc.test FAIL PRIVMSG TEMPORARILY_UNAVAILABLE #r :Message not sent: the server cannot store messages right now\r\n']);
    assert.equal(history.healthy, false);
    assert.ok(history.storeFailingSince !== null);

    // While failing, each message is tried at once, before delivery, and refused by throwing.
    assert.throws(() => history.recordRelay(relayed('b'), '#r', sender), (err: IrcError) => err.params[1] === 'TEMPORARILY_UNAVAILABLE');
    assert.equal(written.length, 1, 'the caller answers for the message it records');
    fail = false;
    history.recordRelay(relayed('c'), '#r', sender);
    assert.deepEqual(batches, [['c']], 'committed at once; a and b are not retried');
    assert.equal(history.healthy, true);
    assert.equal(history.storeFailingSince, null);
    history.recordRelay(relayed('d'), '#r', sender);
    assert.deepEqual(batches, [['c']], 'healthy again: batched');
    history.recordRelay(relayed('e'), '#r', sender, true);
    assert.deepEqual(batches, [['c'], ['d', 'e']], 'now = true commits the batch at once');
    await history.stop();
  });

  it('logs an outage once at error level and its end at info', async () => {
    const lines: { level: string; msg: string }[] = [];
    const logger = createLogger('debug', (line) => lines.push(JSON.parse(line) as { level: string; msg: string }));
    let fail = true;
    const history = new History(fakeStore({ appendSync: () => { if (fail) throw new Error('disk full'); } }), defaultConfig().history, logger);
    for (const id of ['a', 'b', 'c']) {
      history.record(message(id));
      history.commit();
    }
    fail = false;
    history.record(message('d'));
    history.commit();
    assert.deepEqual(lines.map((l) => `${l.level} ${l.msg}`), [
      'error history store failing',
      'debug history commit failed',
      'debug history commit failed',
      'info history store recovered',
    ]);
    await history.stop();
  });
});
