import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fitLastParam, serializeMessage, truncateUtf8, utf8Length } from '../../src/protocol/index.js';

const bytes = (source: string, command: string, params: string[]) => Buffer.byteLength(serializeMessage({ source, command, params }));

describe('line fit', () => {
  it('counts UTF-8 bytes like Buffer, lone surrogates included', () => {
    for (const text of ['', 'abc', 'é', '€uro', '😀', 'a😀b', '\ud800', 'x\udc00y', 'ǅ\u0301']) {
      assert.equal(utf8Length(text), Buffer.byteLength(text), JSON.stringify(text));
    }
  });

  it('cuts at a character boundary, never inside one', () => {
    assert.equal(truncateUtf8('héllo', 2), 'h');
    assert.equal(truncateUtf8('héllo', 3), 'hé');
    assert.equal(truncateUtf8('a😀', 4), 'a');
    assert.equal(truncateUtf8('a😀', 5), 'a😀');
    assert.equal(truncateUtf8('€€', 5), '€');
  });

  it('leaves a line that fits alone, and the same array', () => {
    const params = ['#room', 'hello there'];
    assert.equal(fitLastParam('nick!~u@127.0.0.1', 'PRIVMSG', params), params);
  });

  it('cuts the last parameter so the line with the prefix is at most 512 bytes', () => {
    const source = 'a-rather-long-nick!~username@2001:db8:1234:5678:9abc:def0:1234:5678';
    for (const unit of ['x', 'é', '€', '😀']) {
      const text = unit.repeat(600);
      const fitted = fitLastParam(source, 'PRIVMSG', ['#room', text]);
      const size = bytes(source, 'PRIVMSG', fitted);
      assert.ok(size <= 512, `${unit}: ${size}`);
      assert.ok(size > 512 - 4 - 1, `${unit}: cut no more than one character too much (${size})`);
      assert.ok(text.startsWith(fitted[1]!));
    }
  });
});
