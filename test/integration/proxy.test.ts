import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import type { IrcMessage } from '../../src/protocol/index.js';
import { proxyV1, proxyV2 } from '../helpers/proxy-header.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { makeCertificate } from '../helpers/tls-cert.js';

const is = (command: string) => (m: IrcMessage) => m.command === command;

describe('PROXY protocol listeners', () => {
  let dir: string;
  let server: TestServer;
  let proxyPort: number;
  let proxyTlsPort: number;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'parley-proxy-'));
    const { cert, key } = makeCertificate(dir);
    server = await startTestServer({
      tls: { cert, key },
      proxy: { listen: ['127.0.0.1:0'], tls_listen: ['127.0.0.1:0'], trusted: ['127.0.0.1/32'] },
      limits: { max_connections_per_address: 2, handshake_timeout_seconds: 0.3 },
    });
    proxyPort = server.listeners.find((l) => l.kind === 'tcp' && l.proxy)!.port;
    proxyTlsPort = server.listeners.find((l) => l.kind === 'tls' && l.proxy)!.port;
  });
  after(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Connect to the proxy listener as the load balancer would, and register as `nick`. */
  async function viaProxy(header: Buffer, nick: string, split = false): Promise<RawClient> {
    const client = await RawClient.connect({ port: proxyPort });
    const hello = Buffer.from(`NICK ${nick}\r\nUSER ${nick} 0 * :${nick}\r\n`);
    if (split) {
      for (let i = 0; i < header.length; i += 5) {
        client.sendRaw(header.subarray(i, i + 5));
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      client.sendRaw(hello);
    } else client.sendRaw(Buffer.concat([header, hello]));
    await client.expect(is('001'));
    client.nick = nick;
    return client;
  }

  const sessionOf = (nick: string) => [...server.server.sessions].find((s) => s.nick === nick)!;

  it('v1 from a trusted proxy: the client is known by the address in the header', async () => {
    const client = await viaProxy(proxyV1('203.0.113.7'), 'viaone');
    client.send('WHOIS viaone');
    const whois = await client.expect(is('311'));
    assert.deepEqual(whois.params.slice(1, 4), ['viaone', '~viaone', '203.0.113.7']);
    assert.equal(sessionOf('viaone').conn.remoteAddress, '203.0.113.7');
    client.close();
  });

  it('v2, even split into small pieces; the SSL TLV marks the connection secure', async () => {
    const plain = await viaProxy(proxyV2([198, 51, 100, 23]), 'viatwo', true);
    assert.equal(sessionOf('viatwo').conn.remoteAddress, '198.51.100.23');
    assert.equal(sessionOf('viatwo').conn.secure, false);
    const secure = await viaProxy(proxyV2([198, 51, 100, 24], { tls: true }), 'viatls');
    assert.equal(sessionOf('viatls').conn.secure, true);
    plain.close();
    secure.close();
  });

  it('v2 LOCAL (a health check) keeps the proxy address', async () => {
    const client = await viaProxy(proxyV2(null), 'checker');
    assert.equal(sessionOf('checker').conn.remoteAddress, '127.0.0.1');
    client.close();
  });

  it('per-address limits count the real client address, not the proxy', async () => {
    const first = await viaProxy(proxyV1('203.0.113.50'), 'same1');
    const second = await viaProxy(proxyV1('203.0.113.50'), 'same2');
    const third = await RawClient.connect({ port: proxyPort });
    third.sendRaw(proxyV1('203.0.113.50'));
    const error = await third.expect(is('ERROR'));
    assert.equal(error.params[0], 'Closing Link: 203.0.113.50 (Too many connections from your address)');
    const elsewhere = await viaProxy(proxyV1('203.0.113.51'), 'other');
    for (const client of [first, second, third, elsewhere]) client.close();
  });

  it('a peer that is not a trusted proxy is refused, header or not', async () => {
    const client = await RawClient.connect({ port: proxyPort, localAddress: '127.0.0.2' });
    client.sendRaw(proxyV1('203.0.113.7'));
    const error = await client.expect(is('ERROR'));
    assert.equal(error.params[0], 'Closing Link: 127.0.0.2 (Not a trusted proxy)');
    await client.closedByServer();
  });

  it('a trusted peer without a valid header, or too slow with it, is refused', async () => {
    const noHeader = await RawClient.connect({ port: proxyPort });
    noHeader.send('NICK sneaky');
    assert.match((await noHeader.expect(is('ERROR'))).params[0]!, /Bad PROXY protocol header/);
    await noHeader.closedByServer();
    const silent = await RawClient.connect({ port: proxyPort });
    silent.sendRaw('PROXY TCP4 203.0.');
    assert.match((await silent.expect(is('ERROR'))).params[0]!, /Bad PROXY protocol header/);
    await silent.closedByServer();
  });

  it('a TLS proxy listener takes the header before the TLS handshake', async () => {
    const raw = net.connect({ host: '127.0.0.1', port: proxyTlsPort });
    await new Promise((resolve) => raw.once('connect', resolve));
    raw.write(proxyV1('192.0.2.99'));
    const secure = tls.connect({ socket: raw, rejectUnauthorized: false });
    await new Promise((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    secure.write('NICK tlsproxied\r\nUSER t 0 * :t\r\n');
    const welcome = await new Promise<string>((resolve) => {
      let text = '';
      secure.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        if (text.includes(' 001 ')) resolve(text);
      });
    });
    assert.match(welcome, /tlsproxied!~t@192\.0\.2\.99/);
    assert.equal(sessionOf('tlsproxied').conn.secure, true);
    secure.destroy();
  });

  it('a plain listener does not take PROXY headers: the line is just an unknown command', async () => {
    const client = await RawClient.connect({ port: server.port });
    client.sendRaw(proxyV1('203.0.113.7'));
    await client.expect(is('451'));
    client.close();
  });
});
