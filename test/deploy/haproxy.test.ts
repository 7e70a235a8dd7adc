import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import WebSocket from 'ws';
import { parse } from 'yaml';
import { PrivateRedis, randomPrefix } from '../cluster/redis-helpers.js';
import { ROOT } from '../helpers/cli-server.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { makeCertificate } from '../helpers/tls-cert.js';
import { freePort, HAPROXY, HaproxyProcess, localConfig, type Frontends } from './haproxy-harness.js';

// deploy/haproxy/haproxy.cfg in front of ONE real Parley node (PROXY listeners, TLS, HTTP, a
// cluster on a private Redis so that readiness can really fail): clients come from 127.0.0.5-9,
// and WHOIS on the node must show those addresses, not HAProxy's 127.0.0.1. The failover across
// three nodes (drain one, kill one, catch up) is in haproxy-cluster.test.ts.

/** WHOIS of oneself: the host the node recorded (RPL_WHOISUSER's 4th parameter). */
async function whoisHost(client: RawClient): Promise<string> {
  client.send(`WHOIS ${client.nick}`);
  const reply = await client.expect((m) => m.command === '311');
  return reply.params[3]!;
}

/** A connection through HAProxy that is closed before registration completes (no server for it). */
async function refused(port: number, localAddress: string): Promise<void> {
  const client = await RawClient.connect({ port, localAddress });
  client.send('NICK refused');
  client.send('USER refused 0 * :refused');
  await client.closedByServer(10_000);
  assert.ok(!client.received.some((m) => m.command === '001'), 'registered although no server should take it');
}

describe('HAProxy in front of a Parley node', { skip: HAPROXY ? false : 'haproxy is not installed: .ci/run installs it', timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-haproxy-'));
  let redis: PrivateRedis;
  let node: TestServer;
  let haproxy: HaproxyProcess;
  let front: Frontends;
  let nodeCert = '';
  const clients: RawClient[] = [];

  before(async () => {
    redis = await PrivateRedis.start();
    const { cert, key } = makeCertificate(dir);
    nodeCert = cert;
    node = await startTestServer({
      server: { name: 'node1.parley.test' },
      cluster: { url: redis.url, prefix: randomPrefix('haproxy') },
      tls: { cert, key },
      proxy: { listen: ['127.0.0.1:0'], tls_listen: ['127.0.0.1:0'], trusted: ['127.0.0.1/32'] },
      http: { listen: '127.0.0.1:0' },
    });
    const proxy = node.listeners.find((l) => l.kind === 'tcp' && l.proxy)!;
    const proxyTls = node.listeners.find((l) => l.kind === 'tls' && l.proxy)!;
    front = { irc: await freePort(), ircs: await freePort(), http: await freePort(), stats: await freePort() };
    const socket = join(dir, 'admin.sock');
    const config = localConfig([{ proxy: proxy.port, proxyTls: proxyTls.port, http: node.http!.port }, null, null], front, await freePort(), socket);
    haproxy = await HaproxyProcess.start(join(dir, 'haproxy.cfg'), config, socket);
    // Servers start as UP until their checks say otherwise: wait for both verdicts.
    for (const backend of ['irc_nodes', 'ircs_nodes', 'http_nodes']) {
      await haproxy.waitFor(backend, 'parley1', /^UP/);
      for (const absent of ['parley2', 'parley3']) await haproxy.waitFor(backend, absent, /^DOWN/);
    }
  });

  after(async () => {
    for (const client of clients) client.socket.destroy();
    await haproxy?.stop();
    await node?.stop();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('haproxy -c accepts deploy/haproxy/haproxy.cfg as committed', () => {
    // The node names resolve only inside compose's network, so HAProxy warns and disables them.
    const check = spawnSync(HAPROXY!, ['-c', '-f', join(ROOT, 'deploy/haproxy/haproxy.cfg')], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stdout + check.stderr);
  });

  it('plain IRC: send-proxy-v2 gives the node the real client address', async () => {
    const client = await RawClient.register(front.irc, 'viaplain', [], { localAddress: '127.0.0.5' });
    clients.push(client);
    assert.equal(await whoisHost(client), '127.0.0.5');
  });

  it('IRC over TLS, passed through: the node does the handshake and sees the real address', async () => {
    const client = await RawClient.register(front.ircs, 'viatls', [], { tls: true, localAddress: '127.0.0.6' });
    clients.push(client);
    assert.equal(await whoisHost(client), '127.0.0.6');
    // The certificate the client got is the node's own: HAProxy, which has none, only relayed.
    const peer = (client.socket as TLSSocket).getPeerX509Certificate();
    assert.equal(peer?.fingerprint256, new X509Certificate(readFileSync(nodeCert)).fingerprint256);
  });

  it("WebSocket through the HTTP frontend: the node believes HAProxy's X-Forwarded-For, not the client's", async () => {
    // A forged header from the client is dropped by HAProxy before it adds its own.
    const ws = new WebSocket(`ws://127.0.0.1:${front.http}/`, ['text.ircv3.net'], { localAddress: '127.0.0.7', headers: { 'X-Forwarded-For': '192.0.2.1' } });
    try {
      const lines: string[] = [];
      let wake = () => {};
      ws.on('message', (data) => {
        lines.push(String(data));
        wake();
      });
      const expect = async (pattern: RegExp): Promise<string> => {
        const deadline = Date.now() + 5000;
        for (;;) {
          const found = lines.find((l) => pattern.test(l));
          if (found) return found;
          assert.ok(Date.now() < deadline, `no line matching ${pattern}: ${lines.join(' | ')}`);
          await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, 100);
          });
        }
      };
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      ws.send('NICK viaws');
      ws.send('USER viaws 0 * :viaws');
      await expect(/ 001 viaws /);
      ws.send('WHOIS viaws');
      const whois = await expect(/ 311 viaws viaws /);
      assert.equal(whois.split(' ')[5], '127.0.0.7', whois);
    } finally {
      ws.close();
    }
  });

  it('HTTP: /readyz is the node\'s, /metrics is refused at the proxy', async () => {
    const ready = await fetch(`http://127.0.0.1:${front.http}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal(((await ready.json()) as { status: string }).status, 'ready');
    assert.equal((await fetch(`http://127.0.0.1:${front.http}/metrics`)).status, 404);
  });

  it('health checks: the live node is UP, the absent ones DOWN; HAProxy exports what alerts.yml uses', async () => {
    for (const backend of ['irc_nodes', 'ircs_nodes', 'http_nodes']) {
      for (const absent of ['parley2', 'parley3']) await haproxy.waitFor(backend, absent, /^DOWN/);
      assert.match((await haproxy.states(backend)).parley1!, /^UP/);
    }
    const metrics = await (await fetch(`http://127.0.0.1:${front.stats}/metrics`)).text();
    assert.match(metrics, /^haproxy_server_status\{proxy="irc_nodes",server="parley2",state="DOWN"\} 1$/m);
    const alerts = readFileSync(join(ROOT, 'deploy/prometheus/alerts.yml'), 'utf8');
    const used = new Set(JSON.stringify(parse(alerts)).match(/\bhaproxy_[a-z0-9_]+/g) ?? []);
    assert.ok(used.size > 0);
    for (const name of used) assert.match(metrics, new RegExp(`^${name}\\{`, 'm'), `HAProxy does not export ${name}`);
  });

  it('drain on the runtime API: the node keeps its clients and gets no new ones', async () => {
    const existing = clients[0]!;
    await haproxy.command('set server irc_nodes/parley1 state drain');
    await haproxy.waitFor('irc_nodes', 'parley1', /DRAIN/);
    await existing.sync(); // still connected, still answered
    await refused(front.irc, '127.0.0.8');
    await haproxy.command('set server irc_nodes/parley1 state ready');
    await haproxy.waitFor('irc_nodes', 'parley1', /^UP/);
    const back = await RawClient.register(front.irc, 'afterdrain', [], { localAddress: '127.0.0.8' });
    clients.push(back);
    await existing.sync();
  });

  it('a node whose bus is gone fails /readyz: HAProxy takes it out without cutting its clients, and back in', async () => {
    const existing = clients[0]!;
    await redis.down();
    // The cluster check fails once the last good ping is over 3 s old; HAProxy needs 2 failed checks.
    await haproxy.waitFor('irc_nodes', 'parley1', /^DOWN/, 20_000);
    const readyz = await fetch(`http://127.0.0.1:${node.http!.port}/readyz`);
    assert.equal(readyz.status, 503);
    assert.equal(((await readyz.json()) as { checks: { cluster: string } }).checks.cluster, 'failing');
    assert.ok(!existing.closed, 'a failed check must not cut the sessions the node has');
    await refused(front.irc, '127.0.0.9');

    await redis.up();
    await haproxy.waitFor('irc_nodes', 'parley1', /^UP/, 30_000);
    const back = await RawClient.register(front.irc, 'afterbus', [], { localAddress: '127.0.0.9' });
    clients.push(back);
    assert.equal(await whoisHost(back), '127.0.0.9');
  });
});
