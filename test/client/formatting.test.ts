import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFormatting, stripFormatting, toIrcFormatting } from '../../src/client/formatting.js';

const spans = (text: string) => parseFormatting(text).map((s) => [s.text, s.style]);

describe('parseFormatting', () => {
  it('toggles bold, italic, underline, strikethrough, monospace and reverse', () => {
    assert.deepEqual(spans('a\x02b\x02c'), [['a', {}], ['b', { bold: true }], ['c', { bold: false }]]);
    assert.deepEqual(spans('\x1di\x1fu\x1es\x11m\x16r'), [
      ['i', { italic: true }],
      ['u', { italic: true, underline: true }],
      ['s', { italic: true, underline: true, strikethrough: true }],
      ['m', { italic: true, underline: true, strikethrough: true, monospace: true }],
      ['r', { italic: true, underline: true, strikethrough: true, monospace: true, reverse: true }],
    ]);
  });

  it('reads colours: fg, fg+bg, 99 as default, a bare code as reset, a stray comma as text', () => {
    assert.deepEqual(spans('\x034red\x0304,12 on blue'), [['red', { fg: 4 }], [' on blue', { fg: 4, bg: 12 }]]);
    assert.deepEqual(spans('\x035,2x\x03y'), [['x', { fg: 5, bg: 2 }], ['y', {}]]);
    assert.deepEqual(spans('\x0399,99d'), [['d', {}]]);
    assert.deepEqual(spans('\x033,text'), [[',text', { fg: 3 }]]);
    assert.deepEqual(spans('\x03123'), [['3', { fg: 12 }]]);
    assert.deepEqual(spans('\x04ff8800,000000hex'), [['hex', { fg: '#ff8800', bg: '#000000' }]]);
  });

  it('resets everything on \\x0f', () => {
    assert.deepEqual(spans('\x02\x034a\x0fb'), [['a', { bold: true, fg: 4 }], ['b', {}]]);
  });

  it('drops control characters that could drive a terminal, and turns tabs into spaces', () => {
    assert.equal(stripFormatting('a\x1b[31mb\x07c\td\x00e\x9bf'), 'a[31mbc def');
    // A line feed separates the lines of a multiline message; a carriage return goes.
    assert.equal(stripFormatting('one\r\ntwo\x0b'), 'one\ntwo');
  });

  it('strips formatting for plain text', () => {
    assert.equal(stripFormatting('\x02hi\x02 \x0304,05there\x03 \x1dyou'), 'hi there you');
  });
});

describe('toIrcFormatting', () => {
  it('converts *bold*, **bold**, _italic_ and `code`', () => {
    assert.equal(toIrcFormatting('a *b* c'), 'a \x02b\x02 c');
    assert.equal(toIrcFormatting('**b**'), '\x02b\x02');
    assert.equal(toIrcFormatting('_it_, ok'), '\x1dit\x1d, ok');
    assert.equal(toIrcFormatting('run `npm *test*` now'), 'run \x11npm *test*\x11 now');
    assert.equal(toIrcFormatting('*bold _and italic_*'), '\x02bold \x1dand italic\x1d\x02');
  });

  it('leaves alone what only looks like markup', () => {
    for (const text of ['snake_case_name', '2*3*4', 'a * b * c', '* not bold*', '*not bold *', 'lone ` tick', 'http://x.org/_a_/b', '__init__.py', '_']) {
      assert.equal(toIrcFormatting(text), text, text);
    }
  });
});
