import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { foldCase, isValidNick, isValidRoomName, normalizeMask } from '../../src/protocol/index.js';

describe('casemapping ascii', () => {
  it('folds A-Z only', () => {
    assert.equal(foldCase('NiCk[]\\~'), 'nick[]\\~');
    assert.equal(foldCase('ÉCOLE'), 'École'.slice(0, 1) + 'cole');
  });
});

describe('nick and room grammar', () => {
  it('accepts ordinary nicks and refuses prefixes, masks and separators', () => {
    for (const nick of ['alice', 'Bob_', '[away]', 'x-1', '^_^']) assert.ok(isValidNick(nick, 30), nick);
    for (const nick of ['', '1abc', '-x', '#room', 'a b', 'a,b', 'a!b', 'a@b', 'a*', ':a', 'é']) {
      assert.ok(!isValidNick(nick, 30), nick);
    }
    assert.ok(!isValidNick('a'.repeat(31), 30));
  });

  it('accepts # rooms without spaces, commas, colons or control characters', () => {
    assert.ok(isValidRoomName('#lobby', 64));
    assert.ok(isValidRoomName('#café-☕', 64));
    for (const name of ['lobby', '#', '#a b', '#a,b', '#a\x07', '#a:b']) assert.ok(!isValidRoomName(name, 64), name);
  });
});

describe('ban masks', () => {
  it('completes partial masks', () => {
    assert.equal(normalizeMask('bob'), 'bob!*@*');
    assert.equal(normalizeMask('*@10.0.0.1'), '*!*@10.0.0.1');
    assert.equal(normalizeMask('bob!~b'), 'bob!~b@*');
    assert.equal(normalizeMask('a!b@c'), 'a!b@c');
  });
});
