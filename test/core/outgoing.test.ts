import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Outgoing, VIEW_ACCOUNT_TAG, VIEW_MESSAGE_TAGS, VIEW_SERVER_TIME } from '../../src/core/outgoing.js';

describe('Outgoing', () => {
  const message = {
    tags: { time: '2026-01-01T00:00:00.000Z', msgid: 'm1', account: 'acc', '+typing': 'active' },
    source: 'a!b@c',
    command: 'PRIVMSG',
    params: ['#r', 'hi'],
  };

  it('shows each view only the tags its capabilities allow', () => {
    const out = new Outgoing(message);
    assert.equal(out.encode(0).toString(), ':a!b@c PRIVMSG #r hi\r\n');
    assert.equal(out.encode(VIEW_SERVER_TIME).toString(), '@time=2026-01-01T00:00:00.000Z :a!b@c PRIVMSG #r hi\r\n');
    assert.equal(out.encode(VIEW_MESSAGE_TAGS).toString(), '@msgid=m1;+typing=active :a!b@c PRIVMSG #r hi\r\n');
    assert.equal(out.encode(VIEW_ACCOUNT_TAG).toString(), '@account=acc :a!b@c PRIVMSG #r hi\r\n');
  });

  it('serializes once per view and hands every recipient of that view the same bytes', () => {
    const out = new Outgoing(message);
    const view = VIEW_SERVER_TIME | VIEW_MESSAGE_TAGS;
    assert.equal(out.encode(view), out.encode(view));
  });
});
