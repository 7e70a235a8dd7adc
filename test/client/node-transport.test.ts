import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { IrcClient } from '../../src/client/client.js';
import { nodeTransport } from '../../src/client/node-transport.js';
import { connected, nextEvent } from '../helpers/engine.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('client engine over TLS', () => {
  let dir: string;
  let server: TestServer;
  let tlsPort: number;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'parley-client-tls-'));
    const [cert, key] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    server = await startTestServer({ tls: { listen: ['127.0.0.1:0'], cert, key } });
    tlsPort = server.listeners.find((l) => l.kind === 'tls')!.port;
  });
  after(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const client = (insecure: boolean) =>
    new IrcClient({ transport: nodeTransport({ host: '127.0.0.1', port: tlsPort, tls: true, insecure }), nick: insecure ? 'secure' : 'careful', reconnect: false });

  it('connects with TLS', async () => {
    const secure = await connected(client(true));
    assert.equal(secure.status, 'ready');
    assert.match(secure.options.transport.describe(), /\(TLS\)$/);
    secure.close();
  });

  it('refuses a certificate it cannot verify, and says why', async () => {
    const careful = client(false);
    const refused = nextEvent(careful, 'disconnected');
    careful.connect();
    assert.match((await refused).reason, /certificate/);
  });
});
