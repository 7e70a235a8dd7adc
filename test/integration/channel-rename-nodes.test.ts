/**
 * RENAME across two real `parley serve` nodes on one Redis and one PostgreSQL: members on both
 * nodes see it in the room's order (the cap's RENAME or the PART/JOIN fallback), both nodes'
 * copies move to the new name and follow its log (messages from either node reach everyone),
 * the history in PostgreSQL moves, and the old name redirects on every node.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IrcMessage } from '../../src/protocol/index.js';
import type { CliServer } from '../helpers/cli-server.js';
import { cliNetwork } from '../helpers/cli-network.js';
import { pgSkipReason } from '../helpers/postgres.js';
import { RawClient } from '../helpers/raw-client.js';
import { redisSkipReason } from '../cluster/redis-helpers.js';

const skip = (await redisSkipReason()) || (await pgSkipReason());
const CAPS = ['draft/channel-rename', 'message-tags', 'server-time', 'echo-message', 'batch', 'draft/chathistory'];
const said = (text: string) => (m: IrcMessage) => m.command === 'PRIVMSG' && m.params[0] === '#cr-new' && m.params[1] === text;

describe('RENAME over two parley serve nodes', { skip }, () => {
  const network = cliNetwork('rename', 2);
  const clients: RawClient[] = [];
  network.closeAfter(() => clients.forEach((c) => c.close()));
  const connect = async (node: CliServer, nick: string, caps: string[] = []) => {
    const client = await RawClient.register(node.port, nick, caps);
    client.answerPings = true;
    clients.push(client);
    return client;
  };

  it('members on both nodes follow the room to its new name, with its history', async () => {
    const [one, two] = network.first as [CliServer, CliServer];
    const op = await connect(one, 'crop', CAPS);
    const near = await connect(one, 'crnear');
    const far = await connect(two, 'crfar', CAPS);
    const farPlain = await connect(two, 'crplain');
    for (const c of [op, near, far, farPlain]) {
      c.send('JOIN #cr-old');
      await c.expect((m) => m.command === '366' && m.params[1] === '#cr-old');
    }
    op.send('PRIVMSG #cr-old :one');
    await farPlain.expect((m) => m.command === 'PRIVMSG' && m.params[1] === 'one');
    await Promise.all([near.sync(), far.sync(), farPlain.sync()]);

    op.send('RENAME #cr-old #cr-new :moving');
    assert.deepEqual((await far.expect((m) => m.command === 'RENAME')).params, ['#cr-old', '#cr-new', 'moving']);
    for (const plain of [near, farPlain]) {
      const join = await plain.expect((m) => m.command === 'JOIN');
      assert.deepEqual(join.params, ['#cr-new']);
      const names = await plain.expect((m) => m.command === '353' && m.params[2] === '#cr-new');
      assert.deepEqual(names.params[3]!.split(' ').sort(), ['@crop', 'crfar', 'crnear', 'crplain']);
    }

    // Both nodes follow the new name's log: a message from either reaches everyone.
    far.send('PRIVMSG #cr-new :two');
    for (const c of [op, near, farPlain]) await c.expect(said('two'));
    near.send('PRIVMSG #cr-new :three');
    for (const c of [op, far, farPlain]) await c.expect(said('three'));

    // The history in PostgreSQL is the room's, under the new name, read on the other node.
    const deadline = Date.now() + 10_000;
    let texts: string[] = [];
    while (Date.now() < deadline) {
      far.send('CHATHISTORY LATEST #cr-new * 10');
      texts = (await far.sync()).filter((m) => m.command === 'PRIVMSG' && m.tags?.batch !== undefined).map((m) => m.params[1]!);
      if (texts.length === 3) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.deepEqual(texts, ['one', 'two', 'three']);

    // The old name redirects on the other node too; the new room takes joiners there.
    const late = await connect(two, 'crlate', CAPS);
    late.send('JOIN #cr-old');
    const fail = await late.expect((m) => m.command === 'FAIL');
    assert.deepEqual(fail.params.slice(0, 4), ['JOIN', 'CHANNEL_RENAMED', '#cr-old', '#cr-new']);
    late.send('JOIN #cr-new');
    const names = await late.expect((m) => m.command === '353' && m.params[2] === '#cr-new');
    assert.equal(names.params[3]!.split(' ').length, 5);
    await op.expect((m) => m.command === 'JOIN' && m.params[0] === '#cr-new' && m.source?.startsWith('crlate!') === true);
  });
});
