/**
 * draft/event-playback across two nodes (one Redis prefix, one SQLite store): each event is
 * stored once, by the node that published it, at its turn in the room's log, so both nodes'
 * CHATHISTORY show the same events in the same order with the messages.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { IrcMessage } from '../../src/protocol/index.js';
import type { RawClient } from '../helpers/raw-client.js';
import { redisSkipReason } from '../cluster/redis-helpers.js';
import { twoNodes } from './two-nodes.js';

const skip = await redisSkipReason();
const CAPS = ['echo-message', 'message-tags', 'server-time', 'batch', 'draft/chathistory', 'draft/event-playback'];

const nickOf = (m: IrcMessage) => m.source?.split('!')[0];
const shape = (m: IrcMessage) => [m.command, nickOf(m), ...m.params].join(' ');

async function latest(c: RawClient, room: string): Promise<IrcMessage[]> {
  c.send(`CHATHISTORY LATEST ${room} * 50`);
  const got = await c.sync();
  return got.filter((m) => m.tags?.batch !== undefined && m.command !== 'BATCH');
}

describe('draft/event-playback across two nodes', { skip }, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-events-'));
  const nodes = twoNodes('events', { data_dir: dataDir });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('events of both nodes are stored once each, in the log order, the same on both nodes', async () => {
    const alice = await nodes.register(nodes.a, 'alice', CAPS);
    const bob = await nodes.register(nodes.b, 'bob', CAPS);
    alice.send('JOIN #x');
    await alice.expect((m) => m.command === '366');
    bob.send('JOIN #x');
    await alice.expect((m) => m.command === 'JOIN' && nickOf(m) === 'bob');
    alice.send('PRIVMSG #x :a1');
    await bob.expect((m) => m.command === 'PRIVMSG' && m.params[1] === 'a1');
    bob.send('NICK bobby');
    await alice.expect((m) => m.command === 'NICK' && m.params[0] === 'bobby');
    alice.send('MODE #x +v bobby');
    await bob.expect((m) => m.command === 'MODE');
    bob.send('PRIVMSG #x :b1');
    await alice.expect((m) => m.command === 'PRIVMSG' && m.params[1] === 'b1');
    alice.send('TOPIC #x :from A');
    await bob.expect((m) => m.command === 'TOPIC');
    bob.send('PART #x :later');
    await alice.expect((m) => m.command === 'PART' && nickOf(m) === 'bobby');

    const expected = [
      'JOIN alice #x',
      'JOIN bob #x',
      'PRIVMSG alice #x a1',
      'NICK bob bobby',
      'MODE alice #x +v bobby',
      'PRIVMSG bobby #x b1',
      'TOPIC alice #x from A',
      'PART bobby #x later',
    ];
    const onA = await latest(alice, '#x');
    assert.deepEqual(onA.map(shape), expected);
    // bob, back in the room on node B, reads the same rows: same msgids, same order.
    bob.send('JOIN #x');
    await alice.expect((m) => m.command === 'JOIN' && nickOf(m) === 'bobby');
    await bob.sync();
    const onB = (await latest(bob, '#x')).slice(0, expected.length);
    assert.deepEqual(onB.map(shape), expected);
    assert.deepEqual(onB.map((m) => m.tags!.msgid), onA.map((m) => m.tags!.msgid));
  });
});
