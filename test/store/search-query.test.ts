import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  isSearchQueryError,
  MAX_SEARCH_QUERY_LENGTH,
  MAX_SEARCH_WORDS,
  parseSearchQuery,
  searchTerms,
  searchWords,
} from '../../src/store/search-query.js';
import { HOSTILE_QUERIES } from '../contract/search.contract.js';

const parsed = (text: string) => {
  const q = parseSearchQuery(text);
  assert.ok(!isSearchQueryError(q), `${JSON.stringify(text)}: ${JSON.stringify(q)}`);
  return q;
};
const errorOf = (text: string) => {
  const q = parseSearchQuery(text);
  return isSearchQueryError(q) ? q.error : null;
};

describe('parseSearchQuery', () => {
  it('words are terms of one word; quotes make a phrase; from: takes a nick, folded', () => {
    assert.deepEqual(parsed('hello world'), { terms: [['hello'], ['world']], from: null });
    assert.deepEqual(parsed('  "good  morning"  all '), { terms: [['good', 'morning'], ['all']], from: null });
    assert.deepEqual(parsed('x from:Alice[m]'), { terms: [['x']], from: 'alice[m]' });
    assert.deepEqual(parsed('FROM:bob x'), { terms: [['x']], from: 'bob' });
    assert.deepEqual(parsed('"from:bob"'), { terms: [['from', 'bob']], from: null }, 'quoted: plain words');
    assert.deepEqual(parsed('"unclosed phrase'), { terms: [['unclosed', 'phrase']], from: null });
    assert.deepEqual(parsed('a"b c"d'), { terms: [['a'], ['b', 'c'], ['d']], from: null });
  });

  it('punctuation, symbols, emoji and control characters separate words; operators are not operators', () => {
    assert.deepEqual(parsed('foo-bar'), { terms: [['foo', 'bar']], from: null });
    assert.deepEqual(parsed('github.com/x'), { terms: [['github', 'com', 'x']], from: null });
    assert.deepEqual(parsed('a* -b +c NEAR(d, 2) col:e'), { terms: [['a'], ['b'], ['c'], ['NEAR', 'd'], ['2'], ['col', 'e']], from: null });
    assert.deepEqual(parsed('AND OR NOT'), { terms: [['AND'], ['OR'], ['NOT']], from: null });
    assert.deepEqual(parsed('🍕pizza\u0007time'), { terms: [['pizza', 'time']], from: null });
    assert.deepEqual(searchWords('e\u0301t\u00e9 東京 привет'), ['e\u0301t\u00e9', '東京', 'привет']);
  });

  it('errors are values with a code and a message', () => {
    assert.equal(errorOf(''), 'EMPTY_QUERY');
    assert.equal(errorOf('"" * - 🍕 \u0001'), 'EMPTY_QUERY');
    assert.equal(errorOf('from:alice'), 'EMPTY_QUERY');
    assert.equal(errorOf('x from:'), 'INVALID_FROM');
    assert.equal(errorOf('x from:a from:b'), 'INVALID_FROM');
    assert.equal(errorOf(`x from:${'n'.repeat(65)}`), 'INVALID_FROM');
    assert.equal(errorOf('w '.repeat(MAX_SEARCH_WORDS).trim()), null);
    assert.equal(errorOf('w '.repeat(MAX_SEARCH_WORDS + 1)), 'TOO_MANY_WORDS');
    assert.equal(errorOf(`"${'w '.repeat(MAX_SEARCH_WORDS + 1)}"`), 'TOO_MANY_WORDS');
    assert.equal(errorOf('a'.repeat(MAX_SEARCH_QUERY_LENGTH)), null);
    assert.equal(errorOf('a'.repeat(MAX_SEARCH_QUERY_LENGTH + 1)), 'QUERY_TOO_LONG');
  });

  it('never throws, whatever the input', () => {
    for (const text of HOSTILE_QUERIES) {
      const q = parseSearchQuery(text);
      if (!isSearchQueryError(q)) {
        assert.ok(q.terms.length > 0 && q.terms.flat().length <= MAX_SEARCH_WORDS, JSON.stringify(text));
        for (const word of q.terms.flat()) assert.match(word, /^[\p{L}\p{N}\p{M}\p{Co}]+$/u);
      }
    }
  });

  it('searchTerms re-splits hand-built words and bounds them', () => {
    assert.deepEqual(searchTerms({ terms: [['"a b"'], ['*'], ['NEAR(c']], from: null }), [['a', 'b'], ['NEAR', 'c']]);
    assert.equal(searchTerms({ terms: [['🍕'], []], from: null }), null);
    assert.throws(() => searchTerms({ terms: [Array.from({ length: MAX_SEARCH_WORDS + 1 }, () => 'x')], from: null }), RangeError);
  });
});
