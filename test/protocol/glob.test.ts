import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { matchGlob } from '../../src/protocol/index.js';

/** A reference matcher by dynamic programming, to check matchGlob against on random input. */
function reference(mask: string, subject: string): boolean {
  let row = Array<boolean>(subject.length + 1).fill(false);
  row[0] = true;
  for (const c of mask) {
    const next = Array<boolean>(subject.length + 1).fill(false);
    next[0] = c === '*' && row[0]!;
    for (let j = 1; j <= subject.length; j++) {
      if (c === '*') next[j] = next[j - 1]! || row[j]!;
      else next[j] = row[j - 1]! && (c === '?' || c === subject[j - 1]);
    }
    row = next;
  }
  return row[subject.length]!;
}

describe('matchGlob', () => {
  it('matches literally apart from * and ?', () => {
    assert.ok(matchGlob('b?b!*@1.2.*', 'bob!~x@1.2.3.4'));
    assert.ok(!matchGlob('b?b!*@1.2.*', 'bob!~x@1x2.3.4'), '. is literal');
    assert.ok(!matchGlob('b?b!*@1.2.*', 'boob!~x@1.2.3.4'));
    assert.ok(matchGlob('[x]+(y)$', '[x]+(y)$'), 'regex characters are literal');
    assert.ok(!matchGlob('a.c', 'abc'));
  });

  it('handles empty masks and subjects, and runs of stars', () => {
    assert.ok(matchGlob('', ''));
    assert.ok(!matchGlob('', 'a'));
    assert.ok(matchGlob('*', ''));
    assert.ok(matchGlob('***', 'abc'));
    assert.ok(!matchGlob('?', ''));
    assert.ok(matchGlob('a*', 'a'));
    assert.ok(matchGlob('*a', 'ba'));
    assert.ok(!matchGlob('*a', 'ab'));
    assert.ok(matchGlob('a*b*c', 'aXbYbZc'));
    assert.ok(!matchGlob('a*b*c', 'aXbYbZ'));
  });

  it('agrees with a reference matcher on random masks', () => {
    let seed = 12345;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const pick = (alphabet: string, length: number) => Array.from({ length }, () => alphabet[random(alphabet.length)]).join('');
    for (let i = 0; i < 5000; i++) {
      const mask = pick('ab*?', random(8));
      const subject = pick('ab', random(10));
      assert.equal(matchGlob(mask, subject), reference(mask, subject), `${mask} ~ ${subject}`);
    }
  });

  // The mask that froze the event loop as a regex (issue 10): backtracking is O(n^k) there.
  it('answers the pathological masks that broke the regex matcher', () => {
    assert.ok(!matchGlob('*a*a*a*a*a*a*a*a*a*a*b!*@*', `${'a'.repeat(30)}!~u@127.0.0.1`));
    const mask = `${'*a'.repeat(250)}*b`;
    assert.ok(!matchGlob(mask, 'a'.repeat(500)));
    assert.ok(matchGlob(mask, `${'a'.repeat(499)}b`));
  });
});
