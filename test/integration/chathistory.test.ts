import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { IrcMessage } from '../../src/protocol/index.js';
import { loginClient, registerAccount } from '../helpers/accounts.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const CAPS = ['batch', 'server-time', 'message-tags', 'echo-message', 'draft/chathistory'];

interface Sent {
  text: string;
  msgid: string;
  time: string;
}

/** Send a CHATHISTORY line; return the batch (open line, messages) or the FAIL. */
async function history(client: RawClient, line: string): Promise<{ open?: IrcMessage; lines: IrcMessage[]; fail?: IrcMessage }> {
  client.send(line);
  const got = await client.sync();
  const fail = got.find((m) => m.command === 'FAIL');
  if (fail) return { lines: [], fail };
  const open = got.find((m) => m.command === 'BATCH' && m.params[0]!.startsWith('+'));
  assert.ok(open, `no batch in reply to ${line}: ${JSON.stringify(got)}`);
  const id = open.params[0]!.slice(1);
  const closeAt = got.findIndex((m) => m.command === 'BATCH' && m.params[0] === `-${id}`);
  assert.ok(closeAt > 0, 'batch closed');
  return { open, lines: got.filter((m) => m.tags?.batch === id) };
}

const texts = (r: { lines: IrcMessage[] }) => r.lines.map((m) => m.params[1] ?? m.params.join(' '));

describe('CHATHISTORY', () => {
  let server: TestServer;
  let alice: RawClient;
  const sent: Sent[] = [];
  before(async () => {
    server = await startTestServer({ history: { max_query: 8 }, accounts: { scrypt_log_n: 10 } });
    alice = await RawClient.register(server.port, 'alice', CAPS);
    alice.send('JOIN #ch');
    await alice.sync();
    for (let i = 0; i < 10; i++) {
      alice.send(`PRIVMSG #ch :m${i}`);
      const echo = await alice.expect((m) => m.command === 'PRIVMSG' && m.params[1] === `m${i}`);
      sent.push({ text: `m${i}`, msgid: echo.tags!.msgid!, time: echo.tags!.time! });
      await sleep(3); // distinct milliseconds, so timestamp refs name one message each
    }
  });
  after(async () => {
    alice.close();
    await server.stop();
  });
  const ts = (i: number) => `timestamp=${sent[i]!.time}`;
  const id = (i: number) => `msgid=${sent[i]!.msgid}`;
  const m = (...is: number[]) => is.map((i) => `m${i}`);

  it('advertises the cap and ISUPPORT tokens', async () => {
    const c = await RawClient.connect({ port: server.port });
    assert.ok((await c.capLs()).includes('draft/chathistory'));
    c.send('CAP END');
    c.send('NICK isupport');
    c.send('USER i 0 * :i');
    const tokens: string[] = [];
    for (;;) {
      const line = await c.expect((x) => x.command === '005' || x.command === '376' || x.command === '422');
      if (line.command !== '005') break;
      tokens.push(...line.params.slice(1, -1));
    }
    assert.ok(tokens.includes('CHATHISTORY=8'));
    assert.ok(tokens.includes('MSGREFTYPES=msgid,timestamp'));
    c.close();
  });

  it('LATEST with *, msgid and timestamp, in a batch named after the target', async () => {
    const all = await history(alice, 'CHATHISTORY LATEST #ch * 5');
    assert.deepEqual(all.open!.params.slice(1), ['chathistory', '#ch']);
    assert.deepEqual(texts(all), m(5, 6, 7, 8, 9));
    assert.deepEqual(all.lines.map((l) => [l.tags!.msgid, l.tags!.time]), sent.slice(5).map((s) => [s.msgid, s.time]));
    assert.deepEqual(texts(await history(alice, `CHATHISTORY LATEST #ch ${id(6)} 10`)), m(7, 8, 9));
    assert.deepEqual(texts(await history(alice, `CHATHISTORY LATEST #CH ${ts(7)} 10`)), m(8, 9));
    assert.deepEqual(texts(await history(alice, 'CHATHISTORY LATEST #ch * 100')), m(2, 3, 4, 5, 6, 7, 8, 9), 'limit capped at max_query');
  });

  it('BEFORE and AFTER, exclusive, with both kinds of reference', async () => {
    assert.deepEqual(texts(await history(alice, `CHATHISTORY BEFORE #ch ${id(5)} 3`)), m(2, 3, 4));
    assert.deepEqual(texts(await history(alice, `CHATHISTORY BEFORE #ch ${ts(5)} 3`)), m(2, 3, 4));
    assert.deepEqual(texts(await history(alice, `CHATHISTORY AFTER #ch ${id(2)} 3`)), m(3, 4, 5));
    assert.deepEqual(texts(await history(alice, `CHATHISTORY AFTER #ch ${ts(7)} 10`)), m(8, 9));
  });

  it('AROUND and BETWEEN (both directions)', async () => {
    assert.deepEqual(texts(await history(alice, `CHATHISTORY AROUND #ch ${id(5)} 4`)), m(3, 4, 5, 6));
    assert.deepEqual(texts(await history(alice, `CHATHISTORY AROUND #ch ${ts(5)} 3`)), m(4, 5, 6));
    assert.deepEqual(texts(await history(alice, `CHATHISTORY BETWEEN #ch ${id(2)} ${id(6)} 10`)), m(3, 4, 5));
    assert.deepEqual(texts(await history(alice, `CHATHISTORY BETWEEN #ch ${id(6)} ${id(2)} 2`)), m(4, 5));
    assert.deepEqual(texts(await history(alice, `CHATHISTORY BETWEEN #ch ${ts(1)} ${id(4)} 2`)), m(2, 3));
  });

  it('answers an unknown msgid with an empty batch', async () => {
    const r = await history(alice, 'CHATHISTORY BEFORE #ch msgid=nosuchmessage 5');
    assert.ok(r.open);
    assert.deepEqual(r.lines, []);
  });

  it('sends plain lines to a client without the batch cap', async () => {
    const plain = await RawClient.register(server.port, 'plain', ['server-time']);
    plain.send('JOIN #ch');
    await plain.sync();
    plain.send('CHATHISTORY LATEST #ch * 2');
    const got = await plain.sync();
    assert.deepEqual(got.map((l) => [l.command, l.params[1]]), [['PRIVMSG', 'm8'], ['PRIVMSG', 'm9']]);
    assert.equal(got[0]!.tags?.time, sent[8]!.time);
    plain.close();
  });

  it('nests the history batch inside a labeled-response batch', async () => {
    const labeled = await RawClient.register(server.port, 'labeled', ['batch', 'labeled-response', 'message-tags']);
    labeled.send('JOIN #ch');
    await labeled.sync();
    labeled.send('@label=h1 CHATHISTORY LATEST #ch * 1');
    const got = await labeled.sync();
    const outer = got[0]!;
    assert.deepEqual([outer.tags?.label, outer.command, outer.params[1]], ['h1', 'BATCH', 'labeled-response']);
    const outerId = outer.params[0]!.slice(1);
    const inner = got[1]!;
    assert.deepEqual([inner.tags?.batch, inner.command, inner.params.slice(1)], [outerId, 'BATCH', ['chathistory', '#ch']]);
    const innerId = inner.params[0]!.slice(1);
    assert.deepEqual([got[2]!.tags?.batch, got[2]!.params[1]], [innerId, 'm9']);
    assert.deepEqual(got.slice(3).map((l) => [l.command, l.params[0], l.tags?.batch]), [
      ['BATCH', `-${innerId}`, outerId],
      ['BATCH', `-${outerId}`, undefined],
    ]);
    labeled.close();
  });

  it('refuses bad requests with standard replies', async () => {
    const code = async (line: string) => {
      const r = await history(alice, line);
      assert.ok(r.fail, `expected FAIL for ${line}`);
      return r.fail.params.slice(0, 3);
    };
    assert.deepEqual(await code('CHATHISTORY'), ['CHATHISTORY', 'NEED_MORE_PARAMS', '*']);
    assert.deepEqual(await code('CHATHISTORY FETCH #ch * 5'), ['CHATHISTORY', 'UNKNOWN_COMMAND', 'FETCH']);
    assert.deepEqual(await code('CHATHISTORY LATEST #ch *'), ['CHATHISTORY', 'NEED_MORE_PARAMS', 'LATEST']);
    assert.deepEqual(await code(`CHATHISTORY BETWEEN #ch ${id(1)} 5`), ['CHATHISTORY', 'NEED_MORE_PARAMS', 'BETWEEN']);
    assert.deepEqual(await code('CHATHISTORY LATEST #ch * 0'), ['CHATHISTORY', 'INVALID_PARAMS', 'LATEST']);
    assert.deepEqual(await code('CHATHISTORY LATEST #ch * many'), ['CHATHISTORY', 'INVALID_PARAMS', 'LATEST']);
    assert.deepEqual(await code('CHATHISTORY BEFORE #ch * 5'), ['CHATHISTORY', 'INVALID_PARAMS', 'BEFORE']);
    assert.deepEqual(await code('CHATHISTORY BEFORE #ch yesterday 5'), ['CHATHISTORY', 'INVALID_PARAMS', 'BEFORE']);
    assert.deepEqual(await code('CHATHISTORY AFTER #ch timestamp=2024-99-99 5'), ['CHATHISTORY', 'INVALID_PARAMS', 'AFTER']);
    assert.deepEqual(await code('CHATHISTORY TARGETS * timestamp=2024-01-01T00:00:00.000Z 5'), ['CHATHISTORY', 'INVALID_PARAMS', 'TARGETS']);
    assert.deepEqual(await code('CHATHISTORY LATEST #nowhere * 5'), ['CHATHISTORY', 'INVALID_TARGET', 'LATEST']);
    assert.deepEqual(await code('CHATHISTORY LATEST someone * 5'), ['CHATHISTORY', 'INVALID_TARGET', 'LATEST'], 'not logged in');
    // A room that exists, but the asker is not in it.
    const outsider = await RawClient.register(server.port, 'outsider', ['batch']);
    outsider.send('CHATHISTORY LATEST #ch * 5');
    assert.deepEqual((await outsider.expectCommand('FAIL')).params.slice(0, 4), ['CHATHISTORY', 'INVALID_TARGET', 'LATEST', '#ch']);
    outsider.close();
  });

  describe('direct messages and TARGETS', () => {
    let amy: RawClient;
    let ben: RawClient;
    let cid: RawClient;
    let start: string;
    before(async () => {
      for (const name of ['amy', 'ben', 'cid']) await registerAccount(server.port, name, `${name}-password`);
      amy = await loginClient(server.port, 'amy', 'amy', 'amy-password', CAPS);
      ben = await loginClient(server.port, 'ben', 'ben', 'ben-password', CAPS);
      cid = await loginClient(server.port, 'cid', 'cid', 'cid-password', CAPS);
      start = new Date(Date.now() - 1000).toISOString();
      amy.send('JOIN #one');
      amy.send('JOIN #two');
      await amy.sync();
      amy.send('PRIVMSG #one :in one');
      await amy.expect((x) => x.params[1] === 'in one');
      await sleep(3);
      amy.send('PRIVMSG ben :hello ben');
      await ben.expect((x) => x.params[1] === 'hello ben');
      ben.send('PRIVMSG amy :hi amy');
      await amy.expect((x) => x.params[1] === 'hi amy');
      await sleep(3);
      amy.send('PRIVMSG #two :in two');
      await amy.expect((x) => x.params[1] === 'in two');
    });
    after(() => {
      for (const c of [amy, ben, cid]) c.close();
    });

    it('shows a direct conversation to both accounts, in order, with the targets as sent', async () => {
      const fromAmy = await history(amy, 'CHATHISTORY LATEST ben * 10');
      assert.deepEqual(fromAmy.open!.params.slice(1), ['chathistory', 'ben']);
      assert.deepEqual(fromAmy.lines.map((l) => [l.source!.split('!')[0], l.params[0], l.params[1]]), [
        ['amy', 'ben', 'hello ben'],
        ['ben', 'amy', 'hi amy'],
      ]);
      assert.deepEqual(texts(await history(ben, 'CHATHISTORY LATEST AMY * 10')), ['hello ben', 'hi amy']);
      // Another device of amy's account sees it too.
      const amy2 = await loginClient(server.port, 'amy2', 'amy', 'amy-password', CAPS);
      assert.deepEqual(texts(await history(amy2, 'CHATHISTORY LATEST ben * 10')), ['hello ben', 'hi amy']);
      amy2.close();
    });

    it('hides it from everyone else', async () => {
      assert.deepEqual(texts(await history(cid, 'CHATHISTORY LATEST ben * 10')), []);
      assert.deepEqual(texts(await history(cid, 'CHATHISTORY LATEST amy * 10')), []);
      const anon = await RawClient.register(server.port, 'anon', CAPS);
      assert.equal((await history(anon, 'CHATHISTORY LATEST amy * 10')).fail?.params[1], 'INVALID_TARGET');
      // Not logged in: a direct message from anon is not stored at all.
      anon.send('PRIVMSG amy :from anon');
      await amy.expect((x) => x.params[1] === 'from anon');
      assert.deepEqual(texts(await history(amy, 'CHATHISTORY LATEST anon * 10')), []);
      anon.close();
    });

    it('TARGETS lists rooms and direct conversations with activity in the window', async () => {
      const end = new Date(Date.now() + 1000).toISOString();
      const r = await history(amy, `CHATHISTORY TARGETS timestamp=${start} timestamp=${end} 10`);
      assert.deepEqual(r.open!.params.slice(1), ['draft/chathistory-targets']);
      assert.deepEqual(r.lines.map((l) => [l.command, l.params[0], l.params[1]]), [
        ['CHATHISTORY', 'TARGETS', '#one'],
        ['CHATHISTORY', 'TARGETS', 'ben'],
        ['CHATHISTORY', 'TARGETS', '#two'],
      ]);
      assert.ok(r.lines.every((l) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(l.params[2]!)));
      // Reversed window: the most recent first by selection, still ascending.
      const latest = await history(amy, `CHATHISTORY TARGETS timestamp=${end} timestamp=${start} 1`);
      assert.deepEqual(latest.lines.map((l) => l.params[1]), ['#two']);
      // ben is in no room: only his conversation with amy.
      const forBen = await history(ben, `CHATHISTORY TARGETS timestamp=${start} timestamp=${end} 10`);
      assert.deepEqual(forBen.lines.map((l) => l.params[1]), ['amy']);
    });
  });
});
