import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { parseMessage, type IrcMessage } from '../../src/protocol/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** An IRC client over WebSocket: one line per message, frames as the subprotocol says. */
class WsClient {
  readonly received: IrcMessage[] = [];
  readonly frames: { binary: boolean; text: string }[] = [];
  private wake: (() => void) | null = null;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, binary: boolean) => {
      const text = data.toString('utf8');
      this.frames.push({ binary, text });
      const message = parseMessage(text);
      if (message) this.received.push(message);
      this.wake?.();
    });
  }

  static open(url: string, protocols: string[] = [], origin?: string): Promise<WsClient> {
    const ws = new WebSocket(url, protocols, origin ? { headers: { origin } } : {});
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new WsClient(ws)));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  send(line: string): void {
    this.ws.send(line);
  }

  async expect(predicate: (m: IrcMessage) => boolean): Promise<IrcMessage> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const index = this.received.findIndex(predicate);
      if (index !== -1) return this.received.splice(0, index + 1)[index]!;
      if (Date.now() > deadline) throw new Error(`timed out; got ${this.frames.slice(-5).map((f) => f.text).join(' | ')}`);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 100);
      });
    }
  }

  async register(nick: string): Promise<void> {
    this.send(`NICK ${nick}`);
    this.send(`USER ${nick} 0 * :${nick}`);
    await this.expect((m) => m.command === '001');
  }
}

describe('IRC over WebSocket', () => {
  let server: TestServer;
  let url: string;
  before(async () => {
    server = await startTestServer({ http: { listen: '127.0.0.1:0', allowed_origins: ['https://chat.example.org'] } });
    url = `ws://127.0.0.1:${server.http!.port}/`;
  });
  after(() => server.stop());

  it('chats with a TCP client using text.ircv3.net: one line per text frame, no CRLF', async () => {
    const web = await WsClient.open(url, ['text.ircv3.net']);
    assert.equal(web.ws.protocol, 'text.ircv3.net');
    await web.register('webby');
    const tcp = await RawClient.register(server.port, 'tcpy');
    for (const join of [() => web.send('JOIN #mixed'), () => tcp.send('JOIN #mixed')]) join();
    await web.expect((m) => m.command === '366');
    await tcp.expectCommand('366');
    web.send('PRIVMSG #mixed :hello from the browser');
    const atTcp = await tcp.expectCommand('PRIVMSG');
    assert.equal(atTcp.params[1], 'hello from the browser');
    tcp.send('PRIVMSG #mixed :hello from the terminal');
    const atWeb = await web.expect((m) => m.command === 'PRIVMSG');
    assert.equal(atWeb.params[1], 'hello from the terminal');
    assert.ok(web.frames.every((f) => !f.binary && !f.text.includes('\r') && !f.text.includes('\n')));
    web.ws.close();
    await tcp.expect((m) => m.command === 'QUIT' && m.source?.startsWith('webby!') === true);
    tcp.close();
  });

  it('sends binary frames with binary.ircv3.net and text frames without a subprotocol', async () => {
    const binary = await WsClient.open(url, ['binary.ircv3.net']);
    await binary.register('binny');
    assert.ok(binary.frames.length > 0 && binary.frames.every((f) => f.binary));
    const plain = await WsClient.open(url);
    await plain.register('plainy');
    assert.ok(plain.frames.every((f) => !f.binary));
    binary.ws.close();
    plain.ws.close();
  });

  it('refuses pages from other origins and accepts configured ones', async () => {
    await assert.rejects(WsClient.open(url, ['text.ircv3.net'], 'https://evil.example.com'), /HTTP 403/);
    const allowed = await WsClient.open(url, ['text.ircv3.net'], 'https://chat.example.org');
    await allowed.register('allowed');
    allowed.ws.close();
  });

  it('applies the per-address connection limit to WebSocket clients too', async () => {
    const limited = await startTestServer({ http: { listen: '127.0.0.1:0' }, limits: { max_connections_per_address: 1, exempt_addresses: [] } });
    try {
      const wsUrl = `ws://127.0.0.1:${limited.http!.port}/`;
      const first = await WsClient.open(wsUrl, ['text.ircv3.net']);
      await assert.rejects(WsClient.open(wsUrl, ['text.ircv3.net']), /HTTP 429/);
      first.ws.close();
    } finally {
      await limited.stop();
    }
  });

  it('answers invalid input with standard replies and keeps the session', async () => {
    const web = await WsClient.open(url, ['binary.ircv3.net']);
    await web.register('fuzzy');
    web.ws.send(Buffer.from([0x50, 0x52, 0x49, 0x56, 0x4d, 0x53, 0x47, 0x20, 0x78, 0x20, 0xff, 0xfe]));
    const fail = await web.expect((m) => m.command === 'FAIL');
    assert.equal(fail.params[1], 'INVALID_UTF8');
    web.send('PING still-here');
    await web.expect((m) => m.command === 'PONG' && m.params[1] === 'still-here');
    web.ws.close();
  });

  it('closes a connection that sends a message larger than one IRC line', async () => {
    const web = await WsClient.open(url, ['text.ircv3.net']);
    const closed = new Promise<number>((resolve) => web.ws.once('close', (code) => resolve(code)));
    web.send(`PRIVMSG #x :${'a'.repeat(20_000)}`);
    assert.equal(await closed, 1009);
  });
});
