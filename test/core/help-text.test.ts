import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { COMMANDS } from '../../src/core/commands/index.js';
import { HELP_TEXT, HELP_TOPICS } from '../../src/core/commands/help-text.js';

describe('HELP text', () => {
  it('has an entry for every command in the dispatch table', () => {
    const missing = [...COMMANDS.keys()].filter((command) => !Object.hasOwn(HELP_TEXT, command));
    assert.deepEqual(missing, []);
  });

  it('has no entry for a command that does not exist, apart from the topics', () => {
    const extra = Object.keys(HELP_TEXT).filter((name) => !COMMANDS.has(name) && !HELP_TOPICS.includes(name));
    assert.deepEqual(extra, []);
  });

  it('gives every entry a title and text, in lines that fit a numeric', () => {
    for (const [name, lines] of Object.entries(HELP_TEXT)) {
      assert.ok(lines.length >= 2, `${name}: a title and at least one line`);
      for (const line of lines) assert.ok(Buffer.byteLength(line) <= 100 && !line.includes('\n'), `${name}: ${line}`);
    }
  });
});
