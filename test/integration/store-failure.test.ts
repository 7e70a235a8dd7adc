import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { parseMessage, type IrcMessage } from '../../src/protocol/index.js';
import type { SqliteStore } from '../../src/store/sqlite/store.js';
import { loginClient, registerAccount } from '../helpers/accounts.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const NOT_SENT = 'Message not sent: the server cannot store messages right now';
const isFail = (command: string, target: string) => (m: IrcMessage) =>
  m.command === 'FAIL' && m.params[0] === command && m.params[1] === 'TEMPORARILY_UNAVAILABLE' && m.params[2] === target;

/** A WebSocket member of the room: its output is gathered apart from the TCP transport's. */
class WsWatcher {
  readonly received: IrcMessage[] = [];
  private wake: (() => void) | null = null;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const message = parseMessage(data.toString('utf8'));
      if (message) this.received.push(message);
      this.wake?.();
    });
  }
  static open(url: string): Promise<WsWatcher> {
    const ws = new WebSocket(url, ['text.ircv3.net']);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new WsWatcher(ws)));
      ws.once('error', reject);
    });
  }
  /** PING round trip; returns (and consumes) what came before the PONG. */
  async sync(token: string): Promise<IrcMessage[]> {
    this.ws.send(`PING ${token}`);
    const deadline = Date.now() + 5000;
    for (;;) {
      const index = this.received.findIndex((m) => m.command === 'PONG' && m.params.at(-1) === token);
      if (index !== -1) return this.received.splice(0, index + 1).slice(0, index);
      if (Date.now() > deadline) throw new Error('no PONG over WebSocket');
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 100);
      });
    }
  }
}

async function healthz(server: TestServer): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${server.http!.port}/healthz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const texts = (lines: IrcMessage[], command = 'PRIVMSG') => lines.filter((m) => m.command === command).map((m) => m.params[1]);

// The history store's commit is made to fail at the SQLite level (a TEMP trigger on the server's
// own connection aborts every insert into messages): an injected fault, in process. The real
// full disk is test/integration/full-disk.test.ts.
describe('when the history store cannot commit (injected SQLite fault)', () => {
  let server: TestServer;
  let store: SqliteStore;
  const open: RawClient[] = [];
  const breakStore = () =>
    store.db.exec(`CREATE TEMP TRIGGER fail_history BEFORE INSERT ON messages BEGIN SELECT RAISE(ABORT, 'injected: disk full'); END`);
  const repairStore = () => store.db.exec('DROP TRIGGER temp.fail_history');
  const client = async (nick: string, caps: string[]) => {
    const c = await RawClient.register(server.port, nick, caps);
    open.push(c);
    c.send('JOIN #watched');
    await c.sync();
    return c;
  };

  before(async () => {
    server = await startTestServer({ http: { listen: '127.0.0.1:0' }, accounts: { scrypt_log_n: 10 } });
    store = server.server.store as SqliteStore;
  });
  after(async () => {
    for (const c of open) c.close();
    await server.stop();
  });

  it('delivers nothing, answers FAIL, reports 503, and resumes by itself', async () => {
    const alice = await client('alice', ['echo-message', 'message-tags']);
    const bob = await client('bob', ['message-tags']);
    const carol = await client('carol', ['echo-message', 'labeled-response', 'batch', 'message-tags']);
    const web = await WsWatcher.open(`ws://127.0.0.1:${server.http!.port}/`);
    web.ws.send('NICK webby');
    web.ws.send('USER webby 0 * :webby');
    web.ws.send('JOIN #watched');
    await web.sync('joined');
    await bob.sync();
    assert.equal((await healthz(server)).status, 200);

    alice.send('PRIVMSG #watched :before');
    await alice.expect((m) => m.command === 'PRIVMSG' && m.params[1] === 'before');
    assert.deepEqual(texts(await bob.sync()), ['before']);
    assert.deepEqual(texts(await web.sync('s1')), ['before']);

    breakStore();
    // Two messages and a NOTICE in one packet: one batch, committed (and failing) before the
    // turn's output is written, so what was already queued for every recipient is taken back.
    alice.sendRaw('PRIVMSG #watched :lost one\r\nPRIVMSG #watched :lost two\r\nNOTICE #watched :lost notice\r\n');
    const failOne = await alice.expect(isFail('PRIVMSG', '#watched'));
    assert.equal(failOne.params[3], NOT_SENT);
    assert.equal(failOne.source, server.server.name);
    await alice.expect(isFail('PRIVMSG', '#watched'));
    await alice.expect(isFail('NOTICE', '#watched'));
    // Known failing: refused before delivery; labeled, the FAIL carries the label.
    alice.send('PRIVMSG #watched :lost three');
    await alice.expect(isFail('PRIVMSG', '#watched'));
    carol.send('@label=c1 PRIVMSG #watched :lost labeled');
    const labeled = await carol.expect(isFail('PRIVMSG', '#watched'));
    assert.equal(labeled.tags?.label, 'c1');
    // TAGMSG and direct messages between users without accounts are not stored: unaffected.
    alice.send('PRIVMSG bob :direct, not stored');
    const afterFailure = [...(await alice.sync()), ...(await carol.sync())];
    assert.deepEqual(texts(afterFailure), ['direct, not stored'], 'no echo of anything not stored');
    const atBob = await bob.sync();
    assert.deepEqual(texts(atBob), ['direct, not stored']);
    assert.deepEqual(texts(atBob, 'NOTICE'), []);
    assert.deepEqual(texts(await web.sync('s2')), []);

    const failing = await healthz(server);
    assert.equal(failing.status, 503);
    assert.equal(failing.body.status, 'failing');
    assert.equal(failing.body.store, 'failing');
    assert.equal(typeof failing.body.store_failing_since, 'string');

    repairStore();
    alice.send('PRIVMSG #watched :back');
    await alice.expect((m) => m.command === 'PRIVMSG' && m.params[1] === 'back');
    assert.deepEqual(texts(await bob.sync()), ['back']);
    assert.deepEqual(texts(await web.sync('s3')), ['back']);
    const healthy = await healthz(server);
    assert.equal(healthy.status, 200);
    assert.equal(healthy.body.store, 'ok');

    // History holds exactly what was delivered.
    const reader = await RawClient.register(server.port, 'reader', ['batch', 'message-tags', 'draft/chathistory']);
    open.push(reader);
    reader.send('JOIN #watched');
    await reader.sync();
    reader.send('CHATHISTORY LATEST #watched * 50');
    assert.deepEqual(texts(await reader.sync()), ['before', 'back']);
    web.ws.close();
  });

  it('refuses a direct message between accounts while failing, and delivers it after', async () => {
    await registerAccount(server.port, 'dora', 'dora-password');
    await registerAccount(server.port, 'emil', 'emil-password');
    const dora = await loginClient(server.port, 'dora', 'dora', 'dora-password', ['echo-message']);
    const emil = await loginClient(server.port, 'emil', 'emil', 'emil-password');
    open.push(dora, emil);
    breakStore();
    dora.send('PRIVMSG emil :secret');
    await dora.expect(isFail('PRIVMSG', 'emil'));
    assert.deepEqual(texts(await dora.sync()), []);
    assert.deepEqual(texts(await emil.sync()), []);
    repairStore();
    dora.send('PRIVMSG emil :secret, stored');
    await dora.expect((m) => m.command === 'PRIVMSG' && m.params[1] === 'secret, stored');
    assert.deepEqual(texts(await emil.sync()), ['secret, stored']);
  });
});
