import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ParseError,
  escapeTagValue,
  parseMessage,
  serializeMessage,
  unescapeTagValue,
} from '../../src/protocol/index.js';

describe('parseMessage', () => {
  it('reads tags, source, command, middle and trailing params', () => {
    assert.deepEqual(parseMessage('@id=123;+draft/x=a\\sb :nick!u@h PRIVMSG #room :hello there'), {
      tags: { id: '123', '+draft/x': 'a b' },
      source: 'nick!u@h',
      command: 'PRIVMSG',
      params: ['#room', 'hello there'],
    });
  });

  it('upper-cases the command and keeps an empty trailing param', () => {
    assert.deepEqual(parseMessage('topic #a :'), { command: 'TOPIC', params: ['#a', ''] });
  });

  it('collapses repeated spaces between params', () => {
    assert.deepEqual(parseMessage('USER  a  0 * :Real  Name'), { command: 'USER', params: ['a', '0', '*', 'Real  Name'] });
  });

  it('keeps a colon inside a middle param', () => {
    assert.deepEqual(parseMessage('MODE #a +k a:b'), { command: 'MODE', params: ['#a', '+k', 'a:b'] });
  });

  it('ignores empty lines', () => {
    assert.equal(parseMessage(''), null);
    assert.equal(parseMessage('   '), null);
  });

  it('refuses lines without a command', () => {
    assert.throws(() => parseMessage('@a=b'), ParseError);
    assert.throws(() => parseMessage(':source'), ParseError);
    assert.throws(() => parseMessage('@a=b :src '), ParseError);
  });

  it('lets a later duplicate tag win and reads valueless tags as empty', () => {
    assert.deepEqual(parseMessage('@a=1;b;a=2 PING x')?.tags, { a: '2', b: '' });
  });
});

describe('tag escaping', () => {
  it('round-trips every escaped character', () => {
    const value = 'a;b c\\d\re\nf';
    assert.equal(escapeTagValue(value), 'a\\:b\\sc\\\\d\\re\\nf');
    assert.equal(unescapeTagValue(escapeTagValue(value)), value);
  });

  it('drops the backslash of an unknown escape and a trailing backslash', () => {
    assert.equal(unescapeTagValue('a\\bc\\'), 'abc');
  });
});

describe('serializeMessage', () => {
  it('adds a colon to a trailing param only when needed', () => {
    assert.equal(serializeMessage({ command: 'JOIN', params: ['#a'] }), 'JOIN #a\r\n');
    assert.equal(serializeMessage({ command: 'PRIVMSG', params: ['#a', 'hi there'] }), 'PRIVMSG #a :hi there\r\n');
    assert.equal(serializeMessage({ command: 'PRIVMSG', params: ['#a', ':)'] }), 'PRIVMSG #a ::)\r\n');
    assert.equal(serializeMessage({ command: 'TOPIC', params: ['#a', ''] }), 'TOPIC #a :\r\n');
  });

  it('writes tags with escaping and a source', () => {
    const line = serializeMessage({ tags: { time: 't', '+x': 'a b' }, source: 's', command: 'TAGMSG', params: ['#a'] });
    assert.equal(line, '@time=t;+x=a\\sb :s TAGMSG #a\r\n');
    assert.deepEqual(parseMessage(line.trimEnd()), { tags: { time: 't', '+x': 'a b' }, source: 's', command: 'TAGMSG', params: ['#a'] });
  });
});
