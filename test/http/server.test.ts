import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { eventually, RawHttp, tryUpgrade } from '../helpers/raw-http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// The test server exempts 127.0.0.1 from per-address limits; the limited client is 127.0.0.2.
const CLIENT = '127.0.0.2';

const healthz = (port: number) => `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`;

function openWs(port: number, localAddress: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, ['text.ircv3.net'], { localAddress, headers });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

describe('HTTP listener admission', () => {
  it('holds at most limits.max_connections_per_address (default 16) of 2,000 half-open connections from one address', async () => {
    const server = await startTestServer({ http: { listen: '127.0.0.1:0' } });
    const port = server.http!.port;
    const conns: RawHttp[] = [];
    try {
      for (let i = 0; i < 2000; i += 100) {
        conns.push(...(await Promise.all(Array.from({ length: 100 }, () => RawHttp.connect(port, CLIENT)))));
      }
      const refused = await eventually(() => conns.filter((c) => c.isClosed).length >= 2000 - 16);
      const held = conns.filter((c) => !c.isClosed);
      assert.ok(refused, `${held.length} of 2,000 connections still held`);
      assert.equal(held.length, 16);
      assert.equal(server.server.addressLimits.openCount(CLIENT), 16);
      const answered = conns.find((c) => c.isClosed)!;
      assert.match(answered.text, /^HTTP\/1\.1 429 Too Many Requests\r\n/);
      assert.match(answered.text, /\r\nConnection: close\r\n/i);
      assert.match(answered.text, /Too many connections from your address/);

      // Released as they close: the address may connect again.
      for (const c of held) c.close();
      assert.ok(await eventually(() => server.server.addressLimits.openCount(CLIENT) === 0), 'released');
      const again = await RawHttp.connect(port, CLIENT);
      again.send(healthz(port));
      assert.equal((await again.head()).status, 200);
      again.close();
    } finally {
      for (const c of conns) c.close();
      await server.stop();
    }
  });

  describe('with a limit of 2', () => {
    let server: TestServer;
    let port: number;
    before(async () => {
      server = await startTestServer({ http: { listen: '127.0.0.1:0' }, limits: { max_connections_per_address: 2 } });
      port = server.http!.port;
    });
    after(() => server.stop());
    const open = () => server.server.addressLimits.openCount(CLIENT);

    it('counts keep-alive connections, refuses the next with 429 and admits again once one closes', async () => {
      const a = await RawHttp.connect(port, CLIENT);
      const b = await RawHttp.connect(port, CLIENT);
      for (const c of [a, b]) {
        c.send(healthz(port));
        assert.equal((await c.head()).status, 200);
      }
      const c = await RawHttp.connect(port, CLIENT);
      c.send(healthz(port));
      const refused = await c.head();
      assert.equal(refused.status, 429);
      assert.equal(refused.headers.connection, 'close');
      await c.closed;
      // The keep-alive connections are still served.
      a.send(healthz(port));
      assert.equal((await a.head()).status, 200);
      b.close();
      assert.ok(await eventually(() => open() === 1));
      const d = await RawHttp.connect(port, CLIENT);
      d.send(healthz(port));
      assert.equal((await d.head()).status, 200);
      a.close();
      d.close();
      assert.ok(await eventually(() => open() === 0));
    });

    it('counts a WebSocket once (at the connection, not again at the upgrade) and releases it once', async () => {
      const ws = await openWs(port, CLIENT);
      assert.equal(open(), 1);
      const http = await RawHttp.connect(port, CLIENT);
      await assert.rejects(openWs(port, CLIENT), /HTTP 429|socket hang up|ECONNRESET/);
      ws.close();
      assert.ok(await eventually(() => open() === 1), `open: ${open()}`);
      const ws2 = await openWs(port, CLIENT);
      assert.equal(open(), 2);
      ws2.close();
      http.close();
      assert.ok(await eventually(() => open() === 0), `open: ${open()}`);
    });
  });

  it('counts clients behind a trusted proxy at the WebSocket upgrade, by X-Forwarded-For', async () => {
    const proxy = '127.0.0.3';
    const server = await startTestServer({ http: { listen: '127.0.0.1:0' }, proxy: { trusted: [proxy] }, limits: { max_connections_per_address: 2 } });
    const port = server.http!.port;
    const sockets: WebSocket[] = [];
    try {
      const forwarded = (client: string) => ({ 'x-forwarded-for': client });
      sockets.push(await openWs(port, proxy, forwarded('198.51.100.7')), await openWs(port, proxy, forwarded('198.51.100.7')));
      const refused = await tryUpgrade(port, forwarded('198.51.100.7'), proxy);
      assert.equal(refused.status, 429);
      sockets.push(await openWs(port, proxy, forwarded('198.51.100.8')));
      assert.equal(server.server.addressLimits.openCount('198.51.100.7'), 2);
      assert.equal(server.server.addressLimits.openCount(proxy), 0);
      for (const ws of sockets) ws.close();
      assert.ok(await eventually(() => server.server.addressLimits.openCount('198.51.100.7') === 0));
    } finally {
      for (const ws of sockets) ws.terminate();
      await server.stop();
    }
  });
});

describe('HTTP listener timeouts', () => {
  let server: TestServer;
  let port: number;
  before(async () => {
    server = await startTestServer({ http: { listen: '127.0.0.1:0' }, limits: { handshake_timeout_seconds: 1 } });
    port = server.http!.port;
  });
  after(() => server.stop());

  it('closes a connection that sends nothing within the headers timeout', async () => {
    const silent = await RawHttp.connect(port);
    assert.ok(await eventually(() => silent.isClosed, 5000), 'still open after 5 s');
  });

  it('closes a dribbling header (a byte at a time) within the headers timeout, with 408', async () => {
    const slow = await RawHttp.connect(port);
    const text = `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Slow: ${'a'.repeat(100)}`;
    let sent = 0;
    const timer = setInterval(() => slow.send(text[sent++ % text.length]!), 250);
    try {
      assert.ok(await eventually(() => slow.isClosed, 5000), `still open after 5 s (${sent} bytes sent)`);
      assert.match(slow.text, /^HTTP\/1\.1 408 /);
    } finally {
      clearInterval(timer);
      slow.close();
    }
  });

  it('leaves an upgraded WebSocket alone after the headers timeout', async () => {
    const ws = await openWs(port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 2000));
    const reply = new Promise<string>((resolve) => ws.once('message', (data: Buffer) => resolve(data.toString())));
    ws.send('PING :alive');
    assert.match(await reply, /PONG .*alive/);
    ws.close();
  });
});
