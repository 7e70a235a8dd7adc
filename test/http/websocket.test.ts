import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { listenerOrigins } from '../../src/http/websocket.js';
import { tryUpgrade } from '../helpers/raw-http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('WebSocket handshake', () => {
  let server: TestServer;
  let port: number;
  before(async () => {
    server = await startTestServer({ http: { listen: '127.0.0.1:0', allowed_origins: ['https://chat.example.org'] } });
    port = server.http!.port;
  });
  after(() => server.stop());

  it('refuses a DNS-rebinding page: Origin and Host both evil.example get 403', async () => {
    const res = await tryUpgrade(port, { origin: 'http://evil.example', host: 'evil.example' });
    assert.equal(res.status, 403);
    assert.equal((await tryUpgrade(port, { origin: `http://evil.example:${port}`, host: `evil.example:${port}` })).status, 403);
  });

  it("accepts the listener's own origins (no http.public_origin), configured ones, and no Origin", async () => {
    for (const origin of [`http://127.0.0.1:${port}`, `http://localhost:${port}`, 'https://chat.example.org']) {
      assert.equal((await tryUpgrade(port, { origin })).status, 101, origin);
    }
    assert.equal((await tryUpgrade(port, {})).status, 101);
    // Not the same origin: another scheme or port.
    assert.equal((await tryUpgrade(port, { origin: `https://127.0.0.1:${port}` })).status, 403);
    assert.equal((await tryUpgrade(port, { origin: `http://127.0.0.1:${port + 1}` })).status, 403);
  });

  it('answers Sec-WebSocket-Version other than 13 with 426 and Sec-WebSocket-Version: 13', async () => {
    for (const version of ['8', '12', '14']) {
      const res = await tryUpgrade(port, { 'sec-websocket-version': version });
      assert.equal(res.status, 426, `version ${version}`);
      assert.equal(res.headers['sec-websocket-version'], '13');
    }
    assert.equal((await tryUpgrade(port, { 'sec-websocket-version': '13' })).status, 101);
  });

  it('with http.public_origin, only that origin (and allowed_origins) is this server', async () => {
    const configured = await startTestServer({ http: { listen: '127.0.0.1:0', public_origin: 'https://chat.example.net' } });
    try {
      const p = configured.http!.port;
      assert.equal((await tryUpgrade(p, { origin: 'https://chat.example.net' })).status, 101);
      assert.equal((await tryUpgrade(p, { origin: `http://127.0.0.1:${p}` })).status, 403);
      assert.equal((await tryUpgrade(p, { origin: 'http://evil.example', host: 'evil.example' })).status, 403);
    } finally {
      await configured.stop();
    }
  });
});

describe('listenerOrigins', () => {
  it('is the address and localhost on loopback, the address elsewhere, nothing for a wildcard', () => {
    assert.deepEqual(listenerOrigins('127.0.0.1', '127.0.0.1', 8080, false), ['http://127.0.0.1:8080', 'http://localhost:8080']);
    assert.deepEqual(listenerOrigins('::1', '::1', 8443, true), ['https://[::1]:8443', 'https://localhost:8443']);
    assert.deepEqual(listenerOrigins('192.0.2.5', '192.0.2.5', 443, true), ['https://192.0.2.5']);
    assert.deepEqual(listenerOrigins('chat.example.org', '192.0.2.5', 80, false), ['http://192.0.2.5', 'http://chat.example.org']);
    assert.deepEqual(listenerOrigins('0.0.0.0', '0.0.0.0', 8080, false), []);
    assert.deepEqual(listenerOrigins('::', '::', 8080, false), []);
  });
});

describe('http.public_origin', () => {
  it('is one bare origin or a list of them', () => {
    assert.equal(loadConfig({ env: {} }).http.public_origin, null);
    assert.deepEqual(loadConfig({ env: {}, overrides: { http: { public_origin: ['https://a.example', 'http://b.example:8080'] } } }).http.public_origin, ['https://a.example', 'http://b.example:8080']);
    assert.equal(loadConfig({ env: { PARLEY_HTTP__PUBLIC_ORIGIN: 'https://a.example' } }).http.public_origin, 'https://a.example');
    for (const bad of ['https://a.example/', 'https://a.example/chat', 'a.example', 'https://a.example:443']) {
      assert.throws(() => loadConfig({ env: {}, overrides: { http: { public_origin: bad } } }), /http\.public_origin/, bad);
    }
  });
});
