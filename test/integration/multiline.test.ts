/**
 * draft/multiline over real sockets: a client's batch becomes one message with one msgid; members
 * with the cap get it as a batch (long lines cut with draft/multiline-concat), members without it
 * as separate lines (no blank ones, msgid on the first only), irc-framework as an independent
 * peer; history keeps one message and replays it both ways; direct messages too; every refusal
 * of the spec (FAIL BATCH MULTILINE_*), and the input gate charging a batch's lines a fraction.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import IRC from 'irc-framework';
import type { IrcMessage } from '../../src/protocol/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const ML = ['draft/multiline', 'batch', 'message-tags', 'server-time', 'echo-message', 'labeled-response', 'draft/chathistory'];
const TAGS_ONLY = ['message-tags', 'server-time', 'batch', 'draft/chathistory'];
const fail = (got: IrcMessage[]) => got.find((m) => m.command === 'FAIL')?.params;

/** Sends `lines` ([text, concat]) to `target` as one batch, `tags` on its opening line. */
function sendBatch(client: RawClient, ref: string, target: string, lines: [string, boolean?][], tags = ''): void {
  client.send(`${tags ? `@${tags} ` : ''}BATCH +${ref} draft/multiline ${target}`);
  for (const [text, concat] of lines) client.send(`@batch=${ref}${concat ? ';draft/multiline-concat' : ''} PRIVMSG ${target} :${text}`);
  client.send(`BATCH -${ref}`);
}

/** The lines of the multiline batch that ends at the next `BATCH -`, from the opening on. */
async function receiveBatch(client: RawClient): Promise<{ opening: IrcMessage; lines: IrcMessage[] }> {
  const opening = await client.expect((m) => m.command === 'BATCH' && m.params[1] === 'draft/multiline');
  const ref = opening.params[0]!.slice(1);
  const lines: IrcMessage[] = [];
  for (;;) {
    const m = await client.expect(() => true);
    if (m.command === 'BATCH' && m.params[0] === `-${ref}`) return { opening, lines };
    assert.equal(m.tags?.batch, ref, `inside the batch: ${JSON.stringify(m)}`);
    lines.push(m);
  }
}

/** The combined message value of a batch's lines (the spec's rule). */
const combined = (lines: IrcMessage[]) =>
  lines.reduce((text, m, i) => (i === 0 ? m.params[1]! : text + (m.tags?.['draft/multiline-concat'] !== undefined ? '' : '\n') + m.params[1]!), '');

describe('draft/multiline', () => {
  let server: TestServer;
  const open: RawClient[] = [];
  const connect = async (nick: string, caps: string[] = []) => {
    const c = await RawClient.register(server.port, nick, caps);
    open.push(c);
    return c;
  };
  let sender: RawClient, capped: RawClient, tagged: RawClient, plain: RawClient;
  let framework: InstanceType<typeof IRC.Client>;
  const frameworkSaw: string[] = [];

  before(async () => {
    server = await startTestServer({ limits: { multiline_max_lines: 8, multiline_max_bytes: 2000 } });
    sender = await connect('mlsender', ML);
    capped = await connect('mlcapped', ML);
    tagged = await connect('mltagged', TAGS_ONLY);
    plain = await connect('mlplain');
    for (const c of [sender, capped, tagged, plain]) {
      c.send('JOIN #ml');
      await c.expect((m) => m.command === '366');
    }
    framework = new IRC.Client();
    framework.on('message', (event: { target: string; message: string }) => {
      if (event.target === '#ml') frameworkSaw.push(event.message);
    });
    await new Promise<void>((resolve) => {
      framework.on('registered', () => {
        framework.join('#ml');
        resolve();
      });
      framework.connect({ host: '127.0.0.1', port: server.port, nick: 'mlframework', auto_reconnect: false });
    });
    await sender.expect((m) => m.command === 'JOIN' && m.source?.startsWith('mlframework!') === true);
  });

  after(async () => {
    framework.quit();
    for (const c of open) c.close();
    await server.stop();
  });

  it('advertises its limits in the cap value', async () => {
    const probe = await RawClient.connect({ port: server.port });
    open.push(probe);
    assert.ok((await probe.capLs()).includes('draft/multiline=max-bytes=2000,max-lines=8'));
  });

  it('a batch reaches the room as one message: a batch for the cap, lines for the others, one echo with the label', async () => {
    const long = `${'word '.repeat(110)}end`; // 553 bytes: more than one line can carry, sent in two
    sendBatch(sender, 'a1', '#ml', [['first line'], ['how is '], ['everyone?', true], [''], [long.slice(0, 300)], [long.slice(300), true]], 'label=L1;+draft/reply=xyz');

    const echo = await receiveBatch(sender);
    assert.equal(echo.opening.tags?.label, 'L1');
    assert.equal(echo.opening.tags?.['+draft/reply'], 'xyz');
    const msgid = echo.opening.tags?.msgid;
    assert.ok(msgid);
    assert.equal(combined(echo.lines), `first line\nhow is everyone?\n\n${long}`);

    const got = await receiveBatch(capped);
    assert.match(got.opening.source!, /^mlsender!/);
    assert.deepEqual(got.opening.params, [got.opening.params[0], 'draft/multiline', '#ml']);
    assert.equal(got.opening.tags?.msgid, msgid);
    assert.equal(combined(got.lines), `first line\nhow is everyone?\n\n${long}`);
    assert.ok(got.lines.every((m) => m.command === 'PRIVMSG' && m.params[0] === '#ml'));
    // Parley joins a concatenated line and cuts long lines at a space, the space kept at the end.
    const cut = got.lines.findIndex((m) => m.params[1]!.startsWith('word'));
    assert.equal(got.lines[cut + 1]!.tags?.['draft/multiline-concat'], '');
    assert.ok(got.lines[cut]!.params[1]!.endsWith(' '));
    assert.ok(got.lines.every((m) => Buffer.byteLength(`:${m.source} PRIVMSG #ml :${m.params[1]}\r\n`) <= 512));

    // Without the cap: separate PRIVMSGs, no blank line, the msgid (and client tags) on the first only.
    const fallback = (await tagged.sync()).filter((m) => m.command === 'PRIVMSG');
    assert.deepEqual(fallback.map((m) => m.params[1]).slice(0, 2), ['first line', 'how is everyone?']);
    assert.equal(fallback.length, got.lines.length - 1);
    assert.equal(fallback[0]!.tags?.msgid, msgid);
    assert.equal(fallback[0]!.tags?.['+draft/reply'], 'xyz');
    assert.ok(fallback.slice(1).every((m) => m.tags?.msgid === undefined && m.tags?.time !== undefined && m.tags?.batch === undefined));
    const bare = (await plain.sync()).filter((m) => m.command === 'PRIVMSG');
    assert.equal(bare.length, fallback.length);
    assert.ok(bare.every((m) => m.tags === undefined));
    await waitFor(() => frameworkSaw.length >= fallback.length);
    assert.deepEqual(frameworkSaw.slice(0, 2), ['first line', 'how is everyone?']);
  });

  it('history keeps one message and replays it as a batch inside chathistory, or as its lines', async () => {
    capped.send('CHATHISTORY LATEST #ml * 1');
    const outer = await capped.expect((m) => m.command === 'BATCH' && m.params[1] === 'chathistory');
    const inner = await capped.expect((m) => m.command === 'BATCH' && m.params[1] === 'draft/multiline');
    assert.equal(inner.tags?.batch, outer.params[0]!.slice(1), 'nested in the chathistory batch');
    const lines: IrcMessage[] = [];
    for (let m = await capped.expect(() => true); m.command !== 'BATCH'; m = await capped.expect(() => true)) lines.push(m);
    assert.match(combined(lines), /^first line\nhow is everyone\?\n\nword /);
    await capped.sync();

    tagged.send('CHATHISTORY LATEST #ml * 1');
    const replay = (await tagged.sync()).filter((m) => m.command === 'PRIVMSG');
    assert.equal(replay[0]!.params[1], 'first line');
    assert.ok(replay.length > 2 && replay.every((m) => m.tags?.batch !== undefined));
  });

  it('a direct message batch reaches its one recipient the same way', async () => {
    sendBatch(sender, 'd1', 'mlcapped', [['one'], ['two']]);
    const got = await receiveBatch(capped);
    assert.equal(got.opening.params[2], 'mlcapped');
    assert.equal(combined(got.lines), 'one\ntwo');
    sendBatch(sender, 'd2', 'mlplain', [['three'], ['four']]);
    const lines = (await plain.sync()).filter((m) => m.command === 'PRIVMSG' && m.params[0] === 'mlplain');
    assert.deepEqual(lines.map((m) => m.params[1]), ['three', 'four']);
  });

  it('refuses what the spec refuses, drops the rest of a refused batch, and lets the next command run', async () => {
    for (const c of [sender, capped, plain]) await c.sync();
    const tries: [string, (c: RawClient) => void, string[]][] = [
      ['wrong target', (c) => c.send('BATCH +t1 draft/multiline #ml\r\n@batch=t1 PRIVMSG #other :x\r\n@batch=t1 PRIVMSG #ml :dropped\r\nBATCH -t1'), ['BATCH', 'MULTILINE_INVALID_TARGET', '#ml', '#other']],
      ['too many lines', (c) => sendBatch(c, 't2', '#ml', Array.from({ length: 9 }, (_, i) => [`line ${i}`])), ['BATCH', 'MULTILINE_MAX_LINES', '8']],
      ['too many bytes', (c) => sendBatch(c, 't3', '#ml', Array.from({ length: 5 }, () => ['y'.repeat(420)])), ['BATCH', 'MULTILINE_MAX_BYTES', '2000']],
      ['blank concatenated line', (c) => sendBatch(c, 't4', '#ml', [['a'], ['', true]]), ['BATCH', 'MULTILINE_INVALID']],
      ['blank lines only', (c) => sendBatch(c, 't5', '#ml', [[''], ['']]), ['BATCH', 'MULTILINE_INVALID']],
      ['NOTICE inside', (c) => c.send('BATCH +t6 draft/multiline #ml\r\n@batch=t6 NOTICE #ml :x\r\nBATCH -t6'), ['BATCH', 'MULTILINE_INVALID']],
      ['two open', (c) => c.send('BATCH +t7 draft/multiline #ml\r\nBATCH +t8 draft/multiline #ml\r\nBATCH -t8\r\nBATCH -t7'), ['BATCH', 'MULTILINE_INVALID']],
      ['to a service', (c) => sendBatch(c, 't9', 'NickServ', [['help'], ['me']]), ['BATCH', 'MULTILINE_INVALID_TARGET', 'NickServ']],
      ['no such batch', (c) => c.send('BATCH -nothere'), ['BATCH', 'MULTILINE_INVALID']],
      ['CTCP on a later line', (c) => sendBatch(c, 't11', '#ml', [['hi'], ['\u0001VERSION\u0001']]), ['BATCH', 'MULTILINE_INVALID']],
      ['control characters', (c) => sendBatch(c, 't10', '#ml', [['bell \u0007'], ['x']]), ['PRIVMSG', 'INVALID_TEXT']],
    ];
    for (const [what, send, want] of tries) {
      send(sender);
      const got = await sender.sync();
      assert.deepEqual(fail(got)?.slice(0, want.length), want, `${what}: ${JSON.stringify(got)}`);
      assert.equal(got.filter((m) => m.command === 'FAIL').length, 1, `${what}: one FAIL`);
      assert.equal(got.filter((m) => m.command === 'PRIVMSG' || m.command === 'BATCH').length, 0, `${what}: nothing sent`);
    }
    // Without the cap: refused too.
    plain.send('BATCH +n1 draft/multiline #ml');
    plain.send('@batch=n1 PRIVMSG #ml :x');
    plain.send('BATCH -n1');
    assert.deepEqual(fail(await plain.sync())?.slice(0, 2), ['BATCH', 'MULTILINE_INVALID']);
    // Another command before the close: the batch is refused and the command runs.
    sender.send('BATCH +o1 draft/multiline #ml');
    sender.send('@batch=o1 PRIVMSG #ml :half');
    sender.send('TOPIC #ml');
    const got = await sender.sync();
    assert.deepEqual(fail(got)?.slice(0, 2), ['BATCH', 'MULTILINE_INVALID']);
    assert.ok(got.some((m) => m.command === '331' || m.command === '332'));
    sender.send('BATCH -o1');
    assert.equal(fail(await sender.sync()), undefined, 'the refused batch closes quietly');
    // Nothing of all that reached the room.
    const seen = (await capped.sync()).filter((m) => m.command === 'PRIVMSG' || m.command === 'BATCH');
    assert.deepEqual(seen, []);
  });

  it('a room that refuses the sender refuses the whole message once', async () => {
    sender.send('MODE #ml +m');
    await sender.sync();
    const mod = await connect('mlmoderated', ML);
    mod.send('JOIN #ml');
    await mod.expect((m) => m.command === '366');
    sendBatch(mod, 'm2', '#ml', [['a'], ['b'], ['c']]);
    const got = await mod.sync();
    assert.equal(got.filter((m) => m.command === '404').length, 1);
    sender.send('MODE #ml -m');
    await sender.sync();
  });
});

describe('draft/multiline and flood control', () => {
  it('a batch of many lines costs a short burst, not a line each', async () => {
    // One line per 10 s after a burst of 16: 42 full-cost lines would take more than four minutes.
    const server = await startTestServer({ limits: { command_burst: 16, commands_per_second: 0.1, multiline_max_lines: 40 } });
    const from = { localAddress: '127.0.0.2' };
    const a = await RawClient.register(server.port, 'floodml', ML, from);
    const b = await RawClient.register(server.port, 'floodwatch', ML);
    try {
      for (const c of [a, b]) {
        c.send('JOIN #flood');
        await c.expect((m) => m.command === '366', 15_000);
      }
      sendBatch(a, 'f1', '#flood', Array.from({ length: 40 }, (_, i) => [`pasted line ${i}`]));
      const got = await receiveBatch(b);
      assert.equal(got.lines.length, 40);
    } finally {
      a.close();
      b.close();
      await server.stop();
    }
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(condition());
}
