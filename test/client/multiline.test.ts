/**
 * The engine and draft/multiline: text of several lines goes out as one batch within the
 * server's limits and arrives (live and from history) as one message; unit tests of the
 * cutting and the cap value.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { IrcClient } from '../../src/client/client.js';
import { multilineBatches, multilineLimits } from '../../src/client/multiline.js';
import { connected, engineClient, nextEvent, sync } from '../helpers/engine.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('engine: multiline messages against a real server', () => {
  let server: TestServer;
  const clients: IrcClient[] = [];
  before(async () => {
    server = await startTestServer({ limits: { multiline_max_lines: 20 } });
  });
  after(async () => {
    for (const client of clients) client.close();
    await server.stop();
  });

  it('sends a paste as one message; the other engine gets it whole, live and from history; a plain client gets its lines', async () => {
    const make = async (nick: string) => {
      const client = engineClient(server.port, nick, { rooms: ['#paste'] });
      clients.push(client);
      const joined = nextEvent(client, 'names', (n) => n.room === '#paste');
      await connected(client);
      await joined;
      return client;
    };
    const ann = await make('ann');
    const bob = await make('bob');
    assert.ok(ann.caps.has('draft/multiline'));
    const plain = await RawClient.register(server.port, 'plainpaste');
    try {
      plain.send('JOIN #paste');
      await plain.expect((m) => m.command === '366');
      const long = `${'lorem ipsum '.repeat(60)}dolor`; // ~725 bytes in one line
      const text = ['function hello() {', '  return 42;', '}', '', long].join('\n');
      const got = nextEvent(bob, 'message', (m) => m.target === '#paste');
      const echoed = nextEvent(ann, 'message', (m) => m.target === '#paste');
      ann.say('#paste', text);
      assert.equal((await got).text, text);
      assert.equal((await echoed).text, text);
      assert.ok((await got).msgid);

      const history = await bob.latest('#paste', 5);
      assert.deepEqual(history.map((m) => m.text), [text]);

      const lines = (await plain.sync()).filter((m) => m.command === 'PRIVMSG').map((m) => m.params[1]);
      assert.deepEqual(lines.slice(0, 3), ['function hello() {', '  return 42;', '}']);
      assert.equal(lines.slice(3).join(''), long, 'the long line cut, nothing lost');

      // More lines than one batch may hold: several messages, each within the limit, all the lines.
      const many = Array.from({ length: 45 }, (_, i) => `row ${i}`).join('\n');
      const seen: string[] = [];
      const off = bob.on('message', (m) => {
        if (m.target === '#paste') seen.push(m.text);
      });
      ann.say('#paste', many);
      await sync(ann);
      await sync(bob);
      for (let i = 0; i < 50 && seen.length < 3; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      off();
      assert.equal(seen.length, 3);
      assert.equal(seen.join('\n'), many);
    } finally {
      plain.close();
    }
  });
});

describe('engine: cutting text into multiline batches', () => {
  it('reads the cap value and refuses one without max-bytes', () => {
    assert.deepEqual(multilineLimits('max-bytes=4096,max-lines=100'), { maxBytes: 4096, maxLines: 100 });
    assert.deepEqual(multilineLimits('max-bytes=512'), { maxBytes: 512, maxLines: Number.POSITIVE_INFINITY });
    assert.equal(multilineLimits('max-lines=5'), null);
    assert.equal(multilineLimits('max-bytes=-1'), null);
    assert.equal(multilineLimits(undefined), null);
  });

  it('cuts long lines at a space into concat pieces that join back exactly, within the limits', () => {
    const line = `${'ab '.repeat(100)}end`;
    const [batch, ...rest] = multilineBatches(`first\n${line}`, 100, { maxBytes: 4096, maxLines: 100 });
    assert.equal(rest.length, 0);
    assert.equal(batch![0]!.text, 'first');
    assert.ok(batch!.slice(1).every((piece) => Buffer.byteLength(piece.text) <= 100));
    assert.ok(batch![1]!.text.endsWith(' ') && !batch![1]!.concat && batch![2]!.concat);
    assert.equal(batch!.slice(1).map((piece) => piece.text).join(''), line);
    // No space to cut at, multi-byte characters: cut between characters.
    const emoji = '😀'.repeat(40);
    const pieces = multilineBatches(emoji, 30, { maxBytes: 4096, maxLines: 100 })[0]!;
    assert.equal(pieces.map((p) => p.text).join(''), emoji);
    assert.ok(pieces.every((p) => Buffer.byteLength(p.text) <= 30));
  });

  it('starts a new batch at max-lines or max-bytes; drops blank lines at the ends, and sends nothing for blank text', () => {
    const batches = multilineBatches('\n\na\nb\nc\nd\ne\n\n', 400, { maxBytes: 4096, maxLines: 2 });
    assert.deepEqual(batches.map((b) => b.map((l) => l.text)), [['a', 'b'], ['c', 'd'], ['e']]);
    const bytes = multilineBatches('x'.repeat(300) + '\n' + 'y'.repeat(300), 400, { maxBytes: 500, maxLines: 100 });
    assert.equal(bytes.length, 2);
    assert.deepEqual(multilineBatches('\n \n', 400, { maxBytes: 4096, maxLines: 100 }), []);
  });
});
