import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import type { IrcMessage } from '../../src/protocol/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

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
