/**
 * Issue 15's failover through the balancer: deploy/haproxy/haproxy.cfg in front of three real
 * `parley serve` nodes (PROXY listeners, one Redis prefix, one PostgreSQL schema). Clients come
 * through HAProxy from several loopback addresses and WHOIS shows each one's own, on every
 * node. Then, under a steady flow of room messages, one node is drained the operator's way
 * (drain on the runtime API, SIGTERM) and another is killed (SIGKILL): every client lands on
 * the node that is left, through the same HAProxy port, and catches up with CHATHISTORY AFTER
 * so that every message whose sender saw its echo reached every client exactly once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { IrcClient } from '../../src/client/client.js';
import { dropPrefix, randomPrefix, redisSkipReason, TEST_REDIS_URL } from '../cluster/redis-helpers.js';
import { killStartedServers, startCliServer, type CliServer } from '../helpers/cli-server.js';
import { connected, engineClient, nextEvent } from '../helpers/engine.js';
import { dropSchema, pgSkipReason, randomSchema, TEST_PG_URL } from '../helpers/postgres.js';
import { RawClient } from '../helpers/raw-client.js';
import { makeCertificate } from '../helpers/tls-cert.js';
import { freePort, HAPROXY, HaproxyProcess, localConfig, type Frontends, type NodePorts } from './haproxy-harness.js';

const skip = HAPROXY ? (await redisSkipReason()) || (await pgSkipReason()) : 'haproxy is not installed: .ci/run installs it';

const ROOM = '#failover';
const CLIENTS = 18;
const SENDERS = 3;
const BACKENDS = ['irc_nodes', 'ircs_nodes', 'http_nodes'];

/** The PROXY listeners a node printed in its start-up message. */
function proxyPorts(node: CliServer): NodePorts {
  const { stdout } = node.output();
  const plain = /IRC behind a PROXY-protocol load balancer, at 127\.0\.0\.1:(\d+)/.exec(stdout);
  const tls = /IRC over TLS behind a PROXY-protocol load balancer, at 127\.0\.0\.1:(\d+)/.exec(stdout);
  assert.ok(plain && tls, `no PROXY listeners in the start-up message:\n${stdout}`);
  return { proxy: Number(plain[1]), proxyTls: Number(tls[1]), http: node.httpPort };
}

/** The host a node recorded for `nick` (RPL_WHOISUSER's 4th parameter), as `asker` is told. */
async function whoisHost(asker: RawClient, nick: string): Promise<string> {
  asker.send(`WHOIS ${nick}`);
  const reply = await asker.expect((m) => m.command === '311' && m.params[1] === nick);
  return reply.params[3]!;
}

describe('HAProxy in front of three parley serve nodes: drain one, kill one', { skip, timeout: 240_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-haproxy-cluster-'));
  const prefix = randomPrefix('haproxy-cluster');
  const schema = randomSchema('haproxy_cluster');
  const nodes: CliServer[] = [];
  const raws: RawClient[] = [];
  const clients: IrcClient[] = [];
  let haproxy: HaproxyProcess;
  let front: Frontends;

  before(async () => {
    const { cert, key } = makeCertificate(dir);
    const env = {
      PARLEY_CLUSTER__URL: TEST_REDIS_URL,
      PARLEY_CLUSTER__PREFIX: prefix,
      PARLEY_STORE__URL: TEST_PG_URL,
      PARLEY_STORE__SCHEMA: schema,
      PARLEY_TLS__CERT: cert,
      PARLEY_TLS__KEY: key,
      PARLEY_PROXY__LISTEN: '127.0.0.1:0',
      PARLEY_PROXY__TLS_LISTEN: '127.0.0.1:0',
      PARLEY_PROXY__TRUSTED: '127.0.0.1/32',
      PARLEY_SHUTDOWN_DRAIN_SECONDS: '1',
      PARLEY_LOG__LEVEL: 'warn',
    };
    // The first node migrates the schema; the others then start side by side.
    const dataDir = (i: number) => mkdtempSync(join(dir, `node${i}-`));
    nodes.push(await startCliServer(dataDir(1), env));
    nodes.push(...(await Promise.all([startCliServer(dataDir(2), env), startCliServer(dataDir(3), env)])));
    front = { irc: await freePort(), ircs: await freePort(), http: await freePort(), stats: await freePort() };
    const socket = join(dir, 'admin.sock');
    haproxy = await HaproxyProcess.start(join(dir, 'haproxy.cfg'), localConfig(nodes.map(proxyPorts), front, await freePort(), socket), socket);
    for (const backend of BACKENDS) for (const server of ['parley1', 'parley2', 'parley3']) await haproxy.waitFor(backend, server, /^UP/);
  });

  after(async () => {
    for (const raw of raws) raw.socket.destroy();
    for (const client of clients) client.close();
    await haproxy?.stop();
    killStartedServers();
    await Promise.all(nodes.map((n) => n.exited));
    rmSync(dir, { recursive: true, force: true });
    await dropPrefix(TEST_REDIS_URL, prefix);
    await dropSchema(schema);
  });

  it('spreads clients over the nodes (leastconn), and every node sees each client\'s real address', async () => {
    for (let i = 1; i <= 6; i++) raws.push(await RawClient.register(front.irc, `addr${i}`, [], { localAddress: `127.0.0.${10 + i}` }));
    const sessions = await haproxy.sessions('irc_nodes');
    assert.deepEqual(Object.values(sessions), [2, 2, 2], `six clients, two per node: ${JSON.stringify(sessions)}`);
    // Each asks about each: its own node's sessions and the other nodes' users alike.
    for (const asker of raws) {
      for (let i = 1; i <= 6; i++) assert.equal(await whoisHost(asker, `addr${i}`), `127.0.0.${10 + i}`, `${asker.nick} asking about addr${i}`);
    }
    for (const raw of raws.splice(0)) raw.socket.destroy();
  });

  it('a drained node and a killed node: every client lands on the last one and misses nothing', { timeout: 180_000 }, async () => {
    const got: Map<string, number>[] = [];
    const echoed = new Set<string>();
    const sentTexts = new Set<string>();
    for (let i = 0; i < CLIENTS; i++) {
      const client = engineClient(front.irc, `over${i}`, { rooms: [ROOM], reconnect: { minDelayMs: 100, maxDelayMs: 1000, jitter: 0.5 } });
      const counts = new Map<string, number>();
      got.push(counts);
      const count = (msgid: string | undefined) => {
        assert.ok(msgid, 'every room message has a msgid');
        counts.set(msgid, (counts.get(msgid) ?? 0) + 1);
      };
      // A client of the killed node may come back as over<i>_ (its nick is held until the
      // node's lease runs out), so its echoes are known by their text, not the sender's nick.
      client.on('message', (m) => {
        if (m.conversation !== ROOM) return;
        count(m.msgid);
        if (sentTexts.has(`${i}:${m.text}`)) echoed.add(m.msgid!);
      });
      client.on('history', (h) => {
        for (const m of h.messages) if (m.conversation === ROOM) count(m.msgid);
      });
      clients.push(client);
      const joined = nextEvent(client, 'join', (e) => e.isSelf && e.room === ROOM, 15_000);
      await connected(client, 15_000);
      await joined;
    }
    const spread = await haproxy.sessions('irc_nodes');
    assert.ok(Object.values(spread).every((n) => n >= 3), `clients on every node: ${JSON.stringify(spread)}`);

    let sent = 0;
    const flow = setInterval(() => {
      for (const [i, sender] of clients.slice(0, SENDERS).entries()) {
        if (sender.status !== 'ready' || !sender.state.room(ROOM)) continue;
        const text = `line ${sent++}`;
        sentTexts.add(`${i}:${text}`);
        sender.say(ROOM, text);
      }
    }, 100);
    const reasons = new Set<string>();
    let drops = 0;
    clients.forEach((c) =>
      c.on('disconnected', () => {
        drops++;
        reasons.add(c.serverError ?? '(connection lost)');
      }),
    );
    // A node's exit reaches its clients through HAProxy a moment later: first wait (bounded)
    // until as many clients dropped as the node had, then until each of them is back in the room.
    const allBack = async (dropsBefore: number, victims: number) => {
      const deadline = Date.now() + 15_000;
      while (drops - dropsBefore < victims && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      await Promise.all(clients.map((c) => (c.status === 'ready' && c.state.room(ROOM) ? null : nextEvent(c, 'join', (e) => e.isSelf && e.room === ROOM, 30_000))));
    };
    try {
      await new Promise((r) => setTimeout(r, 1000));

      // Drain parley1 as docs/operations.md says: out of the balancer, then SIGTERM.
      for (const backend of BACKENDS) await haproxy.command(`set server ${backend}/parley1 state drain`);
      await haproxy.waitFor('irc_nodes', 'parley1', /DRAIN/);
      const drained = nodes[0]!;
      let dropsBefore = drops;
      let victims = (await haproxy.sessions('irc_nodes')).parley1!;
      drained.child.kill('SIGTERM');
      await drained.exited;
      assert.equal(drained.child.exitCode, 0, `the drained node exits cleanly: ${drained.output().stderr}`);
      await allBack(dropsBefore, victims);
      let now = await haproxy.sessions('irc_nodes');
      assert.equal(now.parley1, 0, `no client on the drained node: ${JSON.stringify(now)}`);
      await new Promise((r) => setTimeout(r, 1000));

      // Kill parley2 without a word: its clients see the connection drop.
      const killed = nodes[1]!;
      dropsBefore = drops;
      victims = (await haproxy.sessions('irc_nodes')).parley2!;
      killed.child.kill('SIGKILL');
      await killed.exited;
      await allBack(dropsBefore, victims);
      now = await haproxy.sessions('irc_nodes');
      assert.deepEqual([now.parley1, now.parley2, now.parley3], [0, 0, CLIENTS], `every client on parley3: ${JSON.stringify(now)}`);
      await new Promise((r) => setTimeout(r, 1000));
    } finally {
      clearInterval(flow);
    }
    assert.ok([...reasons].some((r) => /\(Server restarting, please reconnect\)$/.test(r)), `the drain said why: ${[...reasons]}`);
    assert.ok(reasons.has('(connection lost)'), `the kill cut connections: ${[...reasons]}`);

    // The last lines may still be on their way: wait (bounded) until each client has them.
    const deadline = Date.now() + 15_000;
    const missing = () => got.map((counts) => [...echoed].filter((id) => !counts.has(id)).length);
    while (missing().some((n) => n > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(echoed.size >= 50, `a steady flow: ${echoed.size} messages echoed`);
    assert.deepEqual(missing(), clients.map(() => 0), 'no client missed an echoed message');
    for (const [i, counts] of got.entries()) {
      const twice = [...counts].filter(([, n]) => n > 1);
      assert.deepEqual(twice, [], `client ${i} got none twice`);
    }

    // A newcomer still comes in through the same port, to the node that is left, with its address.
    const late = await RawClient.register(front.irc, 'latecomer', [], { localAddress: '127.0.0.20' });
    raws.push(late);
    assert.equal(await whoisHost(late, 'latecomer'), '127.0.0.20');
  });
});
