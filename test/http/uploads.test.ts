/**
 * soju.im/filehost over real sockets: a server on port 0 with its HTTP listener, accounts
 * registered over IRC, uploads with fetch (and raw sockets where a client misbehaves).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Config, DeepPartial } from '../../src/config/schema.js';
import { registerAccount } from '../helpers/accounts.js';
import { is } from '../helpers/fixture.js';
import { RawClient } from '../helpers/raw-client.js';
import { eventually, RawHttp } from '../helpers/raw-http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const PASSWORD = 'correct horse';
const basic = (account: string, password = PASSWORD) => `Basic ${Buffer.from(`${account}:${password}`).toString('base64')}`;

async function uploadServer(uploads: DeepPartial<Config['uploads']> = {}, extra: DeepPartial<Config> = {}): Promise<TestServer> {
  return startTestServer({ http: { listen: '127.0.0.1:0' }, accounts: { scrypt_log_n: 10 }, uploads: { enabled: true, ...uploads }, ...extra });
}

function post(server: TestServer, body: Uint8Array | string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`http://127.0.0.1:${server.http!.port}/upload`, { method: 'POST', body, headers: { 'content-type': 'image/png', ...headers } });
}

const filesIn = (server: TestServer) => readdirSync(join(server.server.config.data_dir, 'uploads'));

async function isupportTokens(server: TestServer): Promise<string[]> {
  const client = await RawClient.connect({ port: server.port });
  try {
    client.send('NICK isup');
    client.send('USER isup 0 * :isup');
    await client.expect((m) => m.command === '001');
    client.send('VERSION');
    return (await client.sync()).filter(is('005')).flatMap((m) => m.params.slice(1, -1));
  } finally {
    client.close();
  }
}

describe('uploads (soju.im/filehost)', () => {
  let server: TestServer;
  let base: string;
  before(async () => {
    server = await uploadServer({ max_bytes: 2 * 1024 * 1024, quota_bytes_per_account: 8 * 1024 * 1024, per_minute: 100 });
    base = `http://127.0.0.1:${server.http!.port}`;
    for (const name of ['alice', 'mallory', 'carol']) await registerAccount(server.port, name, PASSWORD);
  });
  after(() => server.stop());

  it('advertises soju.im/FILEHOST=<origin>/upload in ISUPPORT', async () => {
    assert.ok((await isupportTokens(server)).includes(`soju.im/FILEHOST=${base}/upload`));
  });

  it('stores a file and serves it back byte-identical, with the headers that keep it inert', async () => {
    const body = randomBytes(1024 * 1024 + 7);
    const res = await post(server, body, { authorization: basic('alice'), 'content-disposition': 'attachment; filename="cat.png"' });
    assert.equal(res.status, 201, await res.clone().text());
    const location = res.headers.get('location')!;
    assert.match(location, new RegExp(`^${base}/uploads/[A-Za-z0-9_-]{22}$`));
    const got = await fetch(location);
    assert.equal(got.status, 200);
    assert.deepEqual(Buffer.from(await got.arrayBuffer()), body);
    assert.equal(got.headers.get('content-type'), 'image/png');
    assert.equal(got.headers.get('x-content-type-options'), 'nosniff');
    assert.match(got.headers.get('content-security-policy')!, /sandbox/);
    assert.match(got.headers.get('content-security-policy')!, /default-src 'none'/);
    assert.equal(got.headers.get('content-disposition'), `inline; filename="cat.png"; filename*=UTF-8''cat.png`);
    assert.match(got.headers.get('cache-control')!, /max-age=/);
    const etag = got.headers.get('etag')!;
    assert.ok(etag);
    const head = await fetch(location, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(body.length));
    assert.equal((await fetch(location, { headers: { 'if-none-match': etag } })).status, 304);
    const id = location.split('/').at(-1)!;
    const record = await server.server.store.uploads.get(id);
    assert.equal(record?.account, 'alice');
    assert.equal(record?.size, body.length);
    assert.equal(record?.filename, 'cat.png');
    assert.ok(filesIn(server).includes(id));
    assert.ok(!filesIn(server).some((f) => f.endsWith('.part')));
  });

  it('serves HTML and SVG as downloads, never inline, and encodes hostile file names safely', async () => {
    for (const [type, name] of [['text/html', 'x.html'], ['image/svg+xml', 'x.svg']] as const) {
      const res = await post(server, '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/><script>alert(1)</script>', {
        authorization: basic('alice'),
        'content-type': type,
        'content-disposition': `attachment; filename="${name}"`,
      });
      assert.equal(res.status, 201);
      const got = await fetch(res.headers.get('location')!);
      assert.equal(got.headers.get('content-type'), 'application/octet-stream', type);
      assert.match(got.headers.get('content-disposition')!, /^attachment; /, type);
      assert.match(got.headers.get('content-security-policy')!, /sandbox/);
    }
    const hostile = `../../évil "name"\\x.txt`;
    const res = await post(server, 'hello', {
      authorization: basic('alice'),
      'content-type': 'text/plain; charset=utf-8',
      'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(hostile + '\r\nSet-Cookie: a=b')}`,
    });
    assert.equal(res.status, 201);
    const got = await fetch(res.headers.get('location')!);
    const disposition = got.headers.get('content-disposition')!;
    assert.match(disposition, /^inline; filename="x\.txtSet-Cookie: a=b"; filename\*=UTF-8''x\.txtSet-Cookie%3A%20a%3Db$/);
    assert.equal(got.headers.get('set-cookie'), null);
    assert.equal(await got.text(), 'hello');
  });

  it('401 with WWW-Authenticate without credentials, with a wrong password, for an unknown account', async () => {
    for (const authorization of [undefined, basic('alice', 'wrong password'), basic('nobody'), 'Bearer abc', 'Basic !!!']) {
      const res = await post(server, 'x', authorization === undefined ? {} : { authorization });
      assert.equal(res.status, 401, String(authorization));
      assert.match(res.headers.get('www-authenticate')!, /^Basic realm=/);
    }
    assert.equal(await server.server.store.uploads.usage('nobody'), 0);
  });

  it('failed passwords go through the login throttle: 429 once it refuses, even for the right password', async () => {
    const limit = server.server.config.accounts.max_failed_logins;
    for (let i = 0; i < limit; i++) assert.equal((await post(server, 'x', { authorization: basic('mallory', `guess ${i}`) })).status, 401);
    const refused = await post(server, 'x', { authorization: basic('mallory') });
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
  });

  it('403 for a browser page of another origin; the own origin gets CORS headers; OPTIONS lists the methods', async () => {
    const foreign = await post(server, 'x', { authorization: basic('alice'), origin: 'https://evil.example' });
    assert.equal(foreign.status, 403);
    const own = await post(server, 'x', { authorization: basic('alice'), origin: base });
    assert.equal(own.status, 201);
    assert.equal(own.headers.get('access-control-allow-origin'), base);
    assert.match(own.headers.get('access-control-expose-headers')!, /Location/);
    const preflight = await fetch(`${base}/upload`, { method: 'OPTIONS', headers: { origin: base, 'access-control-request-method': 'POST' } });
    assert.equal(preflight.status, 204);
    assert.match(preflight.headers.get('allow')!, /POST/);
    assert.match(preflight.headers.get('access-control-allow-methods')!, /POST/);
    assert.match(preflight.headers.get('access-control-allow-headers')!, /Authorization/);
    assert.equal((await fetch(`${base}/upload`, { method: 'OPTIONS', headers: { origin: 'https://evil.example' } })).status, 403);
    assert.equal((await fetch(`${base}/upload`)).status, 405);
  });

  it('415 for a type not allowed or malformed', async () => {
    const strict = await uploadServer({ allowed_types: ['image/*', 'text/plain'] });
    try {
      await registerAccount(strict.port, 'dave', PASSWORD);
      const ok = await post(strict, 'x', { authorization: basic('dave'), 'content-type': 'image/webp' });
      assert.equal(ok.status, 201);
      for (const type of ['application/zip', 'text/html', 'nonsense', 'image/ png']) {
        assert.equal((await post(strict, 'x', { authorization: basic('dave'), 'content-type': type })).status, 415, type);
      }
    } finally {
      await strict.stop();
    }
    assert.equal((await post(server, 'x', { authorization: basic('alice'), 'content-type': 'not a type' })).status, 415);
  });

  it('413 by Content-Length before the body is read, and for a chunked body past the limit; nothing stays', async () => {
    const before = await server.server.store.uploads.usage('carol');
    const conn = await RawHttp.connect(server.http!.port);
    conn.send(`POST /upload HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic('carol')}\r\nContent-Type: image/png\r\nContent-Length: 99999999999\r\n\r\n`);
    const head = await conn.head();
    assert.equal(head.status, 413);
    assert.equal(head.headers.connection, 'close');
    conn.close();

    // Chunked: no Content-Length, counted as it streams.
    const chunked = await RawHttp.connect(server.http!.port);
    chunked.send(`POST /upload HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic('carol')}\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\n`);
    const chunk = randomBytes(256 * 1024).toString('hex').slice(0, 256 * 1024);
    for (let i = 0; i < 10 && !chunked.isClosed && !chunked.text.includes('HTTP/1.1'); i++) {
      chunked.send(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal((await chunked.head()).status, 413);
    chunked.close();
    assert.ok(await eventually(() => !filesIn(server).some((f) => f.endsWith('.part'))));
    assert.equal(await server.server.store.uploads.usage('carol'), before);
  });

  it('an aborted upload leaves no file and no row', async () => {
    const before = filesIn(server).length;
    const conn = await RawHttp.connect(server.http!.port);
    conn.send(`POST /upload HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic('carol')}\r\nContent-Type: image/png\r\nContent-Length: 100000\r\n\r\n`);
    conn.send('x'.repeat(40_000));
    assert.ok(await eventually(() => filesIn(server).some((f) => f.endsWith('.part'))), 'the body is being written');
    assert.ok((await server.server.store.uploads.usage('carol')) >= 100_000, 'its reservation counts meanwhile');
    conn.close();
    assert.ok(await eventually(() => filesIn(server).length === before), 'partial file removed');
    for (let i = 0; i < 100 && (await server.server.store.uploads.usage('carol')) !== 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(await server.server.store.uploads.usage('carol'), 0, 'reservation given back');
  });

  it('unknown ids, malformed ids and traversal are 404', async () => {
    for (const path of ['/uploads/AAAAAAAAAAAAAAAAAAAAAA', '/uploads/', '/uploads/..%2f..%2fparley.sqlite3', '/uploads/AAAAAAAAAAAAAAAAAAAAAA.part']) {
      const res = await fetch(`${base}${path}`);
      assert.equal(res.status, 404, path);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    }
    // Raw, so no client normalises the dots away first.
    for (const path of ['/uploads/%2e%2e/parley.sqlite3', '/uploads/../parley.sqlite3', '/uploads/../../../../etc/passwd', '/uploads/..\\parley.sqlite3']) {
      const conn = await RawHttp.connect(server.http!.port);
      conn.send(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
      assert.equal((await conn.head()).status, 404, path);
      conn.close();
    }
  });
});

describe('uploads: hostile and unlucky clients', () => {
  it('Expect: 100-continue: 100 only once the checks pass; a refused upload never asks for its body', async () => {
    const server = await uploadServer();
    try {
      await registerAccount(server.port, 'hank', PASSWORD);
      const refused = await RawHttp.connect(server.http!.port);
      refused.send(`POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n`);
      assert.equal((await refused.head()).status, 401);
      refused.close();
      const accepted = await RawHttp.connect(server.http!.port);
      accepted.send(`POST /upload HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic('hank')}\r\nContent-Type: image/png\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n`);
      assert.equal((await accepted.head()).status, 100);
      accepted.send('hello');
      assert.equal((await accepted.head()).status, 201);
      accepted.close();
    } finally {
      await server.stop();
    }
  });

  it('at start, removes pending rows and partial files a crash left (older than an hour)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'parley-uploads-'));
    const first = await uploadServer({}, { data_dir: dataDir });
    const old = Date.now() - 2 * 3600_000;
    await first.server.store.uploads.reserve({ id: 'CCCCCCCCCCCCCCCCCCCCCC', account: 'ivy', filename: null, contentType: 'image/png', size: 100, createdAt: old }, 1000);
    await first.stop();
    const uploadsDir = join(dataDir, 'uploads');
    writeFileSync(join(uploadsDir, 'CCCCCCCCCCCCCCCCCCCCCC.part'), 'partial');
    utimesSync(join(uploadsDir, 'CCCCCCCCCCCCCCCCCCCCCC.part'), old / 1000, old / 1000);
    writeFileSync(join(uploadsDir, 'DDDDDDDDDDDDDDDDDDDDDD.part'), 'a live upload of another process');
    const second = await uploadServer({}, { data_dir: dataDir });
    try {
      assert.equal(await second.server.store.uploads.usage('ivy'), 0);
      assert.deepEqual(filesIn(second), ['DDDDDDDDDDDDDDDDDDDDDD.part']);
    } finally {
      await second.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('a body dribbled slowly is cut off by the request timeout (30 s) and leaves nothing', { timeout: 60_000 }, async () => {
    const server = await uploadServer();
    try {
      await registerAccount(server.port, 'jack', PASSWORD);
      const conn = await RawHttp.connect(server.http!.port);
      conn.send(`POST /upload HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic('jack')}\r\nContent-Type: image/png\r\nContent-Length: 1000\r\n\r\n`);
      const dribble = setInterval(() => conn.send('x'), 1000);
      try {
        assert.ok(await eventually(() => filesIn(server).length === 1, 5000), 'receiving');
        assert.ok(await eventually(() => conn.isClosed, 40_000), 'closed by the request timeout');
      } finally {
        clearInterval(dribble);
      }
      assert.match(conn.text, /^HTTP\/1\.1 408/);
      assert.ok(await eventually(() => filesIn(server).length === 0), 'partial file removed');
      for (let i = 0; i < 100 && (await server.server.store.uploads.usage('jack')) !== 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(await server.server.store.uploads.usage('jack'), 0);
    } finally {
      await server.stop();
    }
  });
});

describe('upload limits per account', () => {
  it('429 past uploads.per_minute, with Retry-After', async () => {
    const server = await uploadServer({ per_minute: 2 });
    try {
      await registerAccount(server.port, 'erin', PASSWORD);
      assert.equal((await post(server, 'a', { authorization: basic('erin') })).status, 201);
      assert.equal((await post(server, 'b', { authorization: basic('erin') })).status, 201);
      const third = await post(server, 'c', { authorization: basic('erin') });
      assert.equal(third.status, 429);
      assert.ok(Number(third.headers.get('retry-after')) >= 1);
    } finally {
      await server.stop();
    }
  });

  it('507 past the quota; concurrent uploads cannot pass it together', async () => {
    const server = await uploadServer({ quota_bytes_per_account: 3000, per_minute: 100 });
    try {
      await registerAccount(server.port, 'frank', PASSWORD);
      // Ten at once with a cold credential cache: one password check for all, then the quota decides.
      const results = await Promise.all(Array.from({ length: 10 }, () => post(server, randomBytes(1000), { authorization: basic('frank') })));
      const statuses = results.map((r) => r.status).sort();
      assert.deepEqual(statuses, [201, 201, 201, 507, 507, 507, 507, 507, 507, 507]);
      assert.equal(await server.server.store.uploads.usage('frank'), 3000);
      assert.equal((await post(server, 'x', { authorization: basic('frank') })).status, 507);
      assert.equal(filesIn(server).length, 3);
    } finally {
      await server.stop();
    }
  });

  it('http.public_origin is the advertised origin, the Location, and the origin browsers may upload from', async () => {
    const server = await uploadServer({}, { http: { listen: '127.0.0.1:0', public_origin: 'https://chat.example.org' } });
    try {
      await registerAccount(server.port, 'gina', PASSWORD);
      assert.ok((await isupportTokens(server)).includes('soju.im/FILEHOST=https://chat.example.org/upload'));
      const res = await post(server, 'x', { authorization: basic('gina'), origin: 'https://chat.example.org' });
      assert.equal(res.status, 201);
      assert.match(res.headers.get('location')!, /^https:\/\/chat\.example\.org\/uploads\/[A-Za-z0-9_-]{22}$/);
    } finally {
      await server.stop();
    }
  });

  it('not advertised, and no routes, when uploads are off', async () => {
    const server = await startTestServer({ http: { listen: '127.0.0.1:0' } });
    try {
      assert.ok(!(await isupportTokens(server)).some((t) => t.startsWith('soju.im/FILEHOST')));
      assert.notEqual((await post(server, 'x')).status, 201);
    } finally {
      await server.stop();
    }
  });
});
