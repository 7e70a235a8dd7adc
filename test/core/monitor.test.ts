// The MONITOR index (core/monitor.ts) on its own: what each watcher is told, in which cases
// nothing, and that its memory is bounded and cleaned.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MonitorIndex } from '../../src/core/monitor.js';
import type { Outgoing } from '../../src/core/outgoing.js';
import type { Session } from '../../src/core/session.js';

/** A watcher that records the numerics delivered to it: the index uses only `nick` and `deliver`. */
function watcher(nick: string): Session & { got: string[][] } {
  const got: string[][] = [];
  return { nick, got, deliver: (out: Outgoing) => got.push([out.message.command, ...out.message.params.slice(1)]) } as unknown as Session & { got: string[][] };
}

describe('MonitorIndex', () => {
  it('tells each watcher changes only, by folded nick', () => {
    const index = new MonitorIndex(10);
    const w = watcher('w');
    assert.equal(index.add(w, 'Bob'), 'added');
    assert.equal(index.add(w, 'BOB'), 'present');
    index.changed('srv', 'bob', true, 'bob!u@h', 'uid1');
    index.changed('srv', 'BOB', true, 'bob!u@h', 'uid1');
    index.changed('srv', 'bob', false, 'bob', 'uid1');
    assert.deepEqual(w.got, [['730', 'bob!u@h'], ['731', 'bob']]);
  });

  it('ignores the sign-off of a user that no longer held the nick (a new holder signed on first)', () => {
    const index = new MonitorIndex(10);
    const w = watcher('w');
    index.add(w, 'bob');
    index.changed('srv', 'bob', true, 'bob!old@h', 'old');
    // Another node's sign-on of the new holder reached the log before the old holder's sign-off.
    index.changed('srv', 'bob', true, 'bob!new@h', 'new');
    index.changed('srv', 'bob', false, 'bob', 'old');
    assert.deepEqual(w.got, [['730', 'bob!old@h']]);
    index.changed('srv', 'bob', false, 'bob', 'new');
    assert.deepEqual(w.got.at(-1), ['731', 'bob']);
  });

  it('a lookup answer older than an event is not used (changesOf moved)', () => {
    const index = new MonitorIndex(10);
    const w = watcher('w');
    index.add(w, 'carol');
    const before = index.changesOf('carol');
    index.changed('srv', 'carol', true, 'carol!u@h', 'c1');
    assert.notEqual(index.changesOf('carol'), before);
    assert.equal(index.tell(w, 'carol', 'c1'), false, 'told online already');
  });

  it('is bounded by the limit per watcher and cleaned when a watcher goes', () => {
    const index = new MonitorIndex(3);
    const [a, b] = [watcher('a'), watcher('b')];
    assert.deepEqual(['n1', 'n2', 'n3', 'n4'].map((n) => index.add(a, n)), ['added', 'added', 'added', 'full']);
    index.add(b, 'n1');
    assert.equal(index.size, 4);
    index.remove(a, 'N2');
    assert.deepEqual(index.list(a), ['n1', 'n3']);
    index.clear(a);
    assert.equal(index.size, 1);
    assert.deepEqual(index.nicks(), ['n1']);
    index.clear(b);
    assert.equal(index.size, 0);
    assert.deepEqual(index.nicks(), []);
    index.changed('srv', 'n1', true, 'n1!u@h', 'x');
    assert.deepEqual([a.got, b.got], [[], []]);
  });
});
