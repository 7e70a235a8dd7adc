import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import type { IrcMessage } from '../../src/protocol/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { makeCertificate } from '../helpers/tls-cert.js';
import { MODERN_CIPHERS } from '../../src/config/schema.js';

const is = (command: string) => (m: IrcMessage) => m.command === command;

describe('TLS listener', () => {
  let dir: string;
  let server: TestServer;
  let tlsPort: number;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'parley-tls-'));
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'],
      { stdio: 'ignore' },
    );
    server = await startTestServer({ tls: { listen: ['127.0.0.1:0'], cert, key } });
    tlsPort = server.listeners.find((l) => l.kind === 'tls')!.port;
  });
  after(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a TLS client and a plain TCP client chat in a room and in private', async () => {
    const secure = await RawClient.register(tlsPort, 'secure', [], { tls: true });
    const plain = await RawClient.register(server.port, 'plain');
    assert.ok((secure.socket as tls.TLSSocket).encrypted);
    for (const client of [secure, plain]) {
      client.send('JOIN #mixed');
      await client.expect(is('366'));
    }
    secure.send('PRIVMSG #mixed :over TLS');
    const atPlain = await plain.expect(is('PRIVMSG'));
    assert.equal(atPlain.source, 'secure!~secure@127.0.0.1');
    assert.deepEqual(atPlain.params, ['#mixed', 'over TLS']);
    plain.send('PRIVMSG secure :in the clear, to you');
    const atSecure = await secure.expect(is('PRIVMSG'));
    assert.deepEqual(atSecure.params, ['secure', 'in the clear, to you']);
    secure.send('QUIT :bye');
    await secure.expect(is('ERROR'));
    await secure.closedByServer();
    const quit = await plain.expect(is('QUIT'));
    assert.deepEqual(quit.params, ['Quit: bye']);
    plain.close();
  });

  it('negotiates TLS 1.2 or newer', async () => {
    const client = await RawClient.connect({ port: tlsPort, tls: true });
    const protocol = (client.socket as tls.TLSSocket).getProtocol();
    assert.ok(protocol === 'TLSv1.2' || protocol === 'TLSv1.3', `got ${protocol}`);
    client.close();
  });

  it('refuses a client that only speaks TLS 1.1', async () => {
    const error = await new Promise<NodeJS.ErrnoException>((resolve, reject) => {
      const socket = tls.connect({
        host: '127.0.0.1',
        port: tlsPort,
        rejectUnauthorized: false,
        minVersion: 'TLSv1.1',
        maxVersion: 'TLSv1.1',
        // Let this client really offer TLS 1.1, so the refusal comes from the server.
        ciphers: 'DEFAULT@SECLEVEL=0',
      });
      socket.once('secureConnect', () => {
        socket.destroy();
        reject(new Error(`handshake succeeded with ${socket.getProtocol()}`));
      });
      socket.once('error', resolve);
    });
    // An alert from the server, not a local 'no protocols available'.
    assert.equal(error.code, 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', error.message);
    // The server is unharmed.
    const after = await RawClient.register(tlsPort, 'afterold', [], { tls: true });
    after.close();
  });
});

describe('TLS certificate reload', () => {
  let dir: string;
  let server: TestServer;
  let tlsPort: number;
  let paths: { cert: string; key: string };
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'parley-reload-'));
    paths = makeCertificate(dir, 'live', 'alpha.test');
    server = await startTestServer({ tls: { listen: ['127.0.0.1:0'], ...paths } });
    tlsPort = server.listeners.find((l) => l.kind === 'tls')!.port;
  });
  after(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const commonName = (client: RawClient) => (client.socket as tls.TLSSocket).getPeerCertificate().subject.CN;

  it('new connections get the new certificate; open ones keep working', async () => {
    const old = await RawClient.register(tlsPort, 'oldconn', [], { tls: true });
    assert.equal(commonName(old), 'alpha.test');
    const next = makeCertificate(dir, 'next', 'beta.test');
    writeFileSync(paths.cert, readFileSync(next.cert));
    writeFileSync(paths.key, readFileSync(next.key));
    server.reloadTls();

    const fresh = await RawClient.register(tlsPort, 'newconn', [], { tls: true });
    assert.equal(commonName(fresh), 'beta.test');
    await old.sync();
    old.send('PRIVMSG newconn :still here after the reload');
    assert.deepEqual((await fresh.expect(is('PRIVMSG'))).params, ['newconn', 'still here after the reload']);
    old.close();
    fresh.close();
  });
});

describe('TLS policy: versions, ciphers, TLS-only, STS', () => {
  let dir: string;
  let server: TestServer;
  let tlsPort: number;
  const DURATION = 2_592_000;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'parley-tlsonly-'));
    // TLS only: no plain-text listener at all.
    server = await startTestServer({ listen: [], tls: { listen: ['127.0.0.1:0'], ...makeCertificate(dir), sts_duration_seconds: DURATION } });
    tlsPort = server.listeners.find((l) => l.kind === 'tls')!.port;
  });
  after(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('TLS-only: the only listener is TLS, and plain text on it gets nowhere', async () => {
    assert.deepEqual(server.listeners.map((l) => l.kind), ['tls']);
    const plain = await RawClient.connect({ port: tlsPort });
    plain.send('NICK cleartext');
    plain.send('USER c 0 * :c');
    await plain.closedByServer();
    assert.ok(!plain.lines.some((l) => l.includes(' 001 ')));
    const secure = await RawClient.register(tlsPort, 'secureonly', [], { tls: true });
    secure.close();
  });

  it('negotiates TLS 1.3 by default and a forward-secret AEAD suite on TLS 1.2', async () => {
    const modern = await RawClient.connect({ port: tlsPort, tls: true });
    assert.equal((modern.socket as tls.TLSSocket).getProtocol(), 'TLSv1.3');
    modern.close();
    const older = await RawClient.connect({ port: tlsPort, tls: true, tlsOptions: { maxVersion: 'TLSv1.2' } });
    const cipher = (older.socket as tls.TLSSocket).getCipher().name;
    assert.ok(MODERN_CIPHERS.split(':').includes(cipher), cipher);
    assert.match(cipher, /^ECDHE-.*(GCM|CHACHA20)/);
    older.close();
  });

  it('refuses a client that offers only CBC or non-forward-secret suites', async () => {
    for (const ciphers of ['AES128-SHA', 'ECDHE-ECDSA-AES128-SHA', 'AES256-GCM-SHA384']) {
      const error = await new Promise<Error>((resolve, reject) => {
        const socket = tls.connect({ host: '127.0.0.1', port: tlsPort, rejectUnauthorized: false, maxVersion: 'TLSv1.2', ciphers });
        socket.once('secureConnect', () => {
          socket.destroy();
          reject(new Error(`handshake succeeded with ${ciphers}`));
        });
        socket.once('error', resolve);
      });
      assert.match(error.message, /handshake failure|no shared cipher|ECONNRESET|socket disconnected/i, ciphers);
    }
  });

  it('advertises STS: the persistence policy (duration) to TLS clients', async () => {
    const secure = await RawClient.connect({ port: tlsPort, tls: true });
    const caps = await secure.capLs();
    assert.ok(caps.includes(`sts=duration=${DURATION}`), caps.join(' '));
    // Listed, not requested: CAP REQ sts is refused.
    secure.send('CAP REQ sts');
    assert.equal((await secure.expect((m) => m.command === 'CAP')).params[1], 'NAK');
    secure.close();
  });
});

describe('STS on a plain-text listener', () => {
  let dir: string;
  let server: TestServer;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'parley-sts-'));
    server = await startTestServer({ tls: { listen: ['127.0.0.1:0'], ...makeCertificate(dir), sts_duration_seconds: 86400, sts_preload: true } });
  });
  after(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('tells plain-text clients the TLS port to upgrade to, with CAP LS 302 only', async () => {
    const tlsPort = server.listeners.find((l) => l.kind === 'tls')!.port;
    const plain = await RawClient.connect({ port: server.port });
    const caps = await plain.capLs();
    assert.ok(caps.includes(`sts=port=${tlsPort},duration=86400,preload`), caps.join(' '));
    plain.close();
    const old = await RawClient.connect({ port: server.port });
    const oldCaps = await old.capLs('');
    assert.ok(!oldCaps.some((c) => c.startsWith('sts')), 'no value without 302, so no sts');
    old.close();
  });

  it('is not advertised unless configured', async () => {
    const plain = await startTestServer();
    const client = await RawClient.connect({ port: plain.port });
    const caps = await client.capLs();
    assert.ok(!caps.some((c) => c.startsWith('sts')));
    client.close();
    await plain.stop();
  });
});
