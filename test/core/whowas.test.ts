import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryNickHistory, type WhowasEntry } from '../../src/core/whowas.js';

const entry = (nick: string, n: number): WhowasEntry => ({ nick, user: `~u${n}`, host: '127.0.0.1', realname: `r${n}`, account: null, server: 's', at: n });

describe('MemoryNickHistory', () => {
  it('answers newest first, casefolded, up to the limit', () => {
    const history = new MemoryNickHistory(10, 5);
    for (let n = 1; n <= 3; n++) history.record(entry(n === 2 ? 'ALICE' : 'alice', n));
    history.record(entry('bob', 4));
    assert.deepEqual(history.lookup('Alice', Infinity).map((e) => e.at), [3, 2, 1]);
    assert.deepEqual(history.lookup('alice', 2).map((e) => e.at), [3, 2]);
    assert.deepEqual(history.lookup('nobody', 5), []);
  });

  it('keeps at most perNick per nick and capacity in all, oldest forgotten first', () => {
    const history = new MemoryNickHistory(6, 2);
    for (let n = 1; n <= 5; n++) history.record(entry('busy', n));
    assert.deepEqual(history.lookup('busy', Infinity).map((e) => e.at), [5, 4]);
    for (let n = 6; n <= 20; n++) history.record(entry(`n${n}`, n));
    assert.ok(history.size <= 6, `size ${history.size}`);
    assert.deepEqual(history.lookup('busy', Infinity), []);
    assert.deepEqual(history.lookup('n20', Infinity).map((e) => e.at), [20]);
    assert.deepEqual(history.lookup('n14', Infinity), []);
    assert.deepEqual(history.lookup('n15', Infinity).map((e) => e.at), [15]);
  });

  it('stays within capacity under any mix of nicks', () => {
    const history = new MemoryNickHistory(50, 3);
    for (let n = 0; n < 5000; n++) history.record(entry(`nick${n % 37}`, n));
    assert.ok(history.size <= 50);
    // The newest entries are always there.
    assert.equal(history.lookup(`nick${4999 % 37}`, 1)[0]!.at, 4999);
  });
});
