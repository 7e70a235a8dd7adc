import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { listenHttp, type HttpListener } from '../../src/http/server.js';
import { CONTENT_SECURITY_POLICY } from '../../src/http/static.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** A raw request, so paths reach the server exactly as written (fetch would normalise `..`). */
function rawRequest(port: number, method: string, path: string): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.write(`${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
    });
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const [head = '', ...rest] = data.split('\r\n\r\n');
      const [statusLine = '', ...headerLines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of headerLines) {
        const i = line.indexOf(':');
        headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') });
    });
  });
}

describe('the web client over HTTP', () => {
  let server: TestServer;
  let built: HttpListener;
  let missing: HttpListener;
  const outside = mkdtempSync(join(tmpdir(), 'parley-outside-'));

  before(async () => {
    server = await startTestServer();
    const root = mkdtempSync(join(tmpdir(), 'parley-web-'));
    mkdirSync(join(root, 'assets'));
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>Parley</title>');
    writeFileSync(join(root, 'assets', 'index-abc123.js'), 'console.log(1)');
    writeFileSync(join(root, 'assets', 'index-abc123.css'), 'body{}');
    writeFileSync(join(root, '.secret'), 'hidden');
    writeFileSync(join(outside, 'secret.txt'), 'top secret');
    symlinkSync(join(outside, 'secret.txt'), join(root, 'link.txt'));
    const options = { tls: null, allowedOrigins: [], clientAddress: () => '127.0.0.1' };
    built = await listenHttp(server.server, '127.0.0.1', 0, { ...options, webRoot: root });
    missing = await listenHttp(server.server, '127.0.0.1', 0, { ...options, webRoot: join(root, 'nope') });
  });

  after(async () => {
    await built.close();
    await missing.close();
    await server.stop();
  });

  test('/ is index.html, not cached, with the CSP and nosniff', async () => {
    const res = await rawRequest(built.port, 'GET', '/');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(res.headers['cache-control'], 'no-cache');
    assert.equal(res.headers['content-security-policy'], CONTENT_SECURITY_POLICY);
    assert.match(CONTENT_SECURITY_POLICY, /script-src 'self';/);
    assert.doesNotMatch(CONTENT_SECURITY_POLICY, /unsafe-inline/);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.match(res.body, /<title>Parley<\/title>/);
  });

  test('hashed assets are immutable with the right content types', async () => {
    const js = await rawRequest(built.port, 'GET', '/assets/index-abc123.js');
    assert.equal(js.status, 200);
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(js.body, 'console.log(1)');
    const css = await rawRequest(built.port, 'GET', '/assets/index-abc123.css?v=1');
    assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
  });

  test('HEAD has the headers and no body; other methods are refused', async () => {
    const head = await rawRequest(built.port, 'HEAD', '/assets/index-abc123.js');
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '14');
    assert.equal(head.body, '');
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const res = await rawRequest(built.port, method, '/');
      assert.equal(res.status, 405, method);
      assert.equal(res.headers['allow'], 'GET, HEAD');
    }
  });

  test('no directory traversal, hidden files or symlinks out of the root', async () => {
    for (const path of [
      '/../../../../etc/passwd',
      '/assets/../../etc/passwd',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/assets/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '/..%5c..%5cetc%5cpasswd',
      '/%00index.html',
      '/%E0%A4%A',
      '/.secret',
      '/link.txt',
      '/assets',
      '/assets/',
      '/nothing-here.js',
    ]) {
      const res = await rawRequest(built.port, 'GET', path);
      assert.ok(res.status === 404 || res.status === 400, `${path}: ${res.status}`);
      assert.doesNotMatch(res.body, /root:|top secret|hidden/, path);
    }
  });

  test('without a build, / says how to build it', async () => {
    const res = await rawRequest(missing.port, 'GET', '/');
    assert.equal(res.status, 503);
    assert.match(res.body, /web client not built: run npm run build/);
  });

  test('health checks still answer', async () => {
    const res = await rawRequest(built.port, 'GET', '/healthz');
    assert.equal(res.status, 200);
    assert.match(res.body, /"status":"ok"/);
  });
});
