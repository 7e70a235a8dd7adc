/**
 * limits.max_connections_per_address across two nodes on one Redis: the count is the
 * network's, each node checks its own at accept and the network's before a session's first
 * line runs; the refused get the ERROR a refusal at accept gets, before any registration
 * reply; exemptions apply network-wide as on one node.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IrcMessage } from '../../src/protocol/index.js';
import { RawClient } from '../helpers/raw-client.js';
import type { TestServer } from '../helpers/server.js';
import { redisSkipReason } from '../cluster/redis-helpers.js';
import { twoNodes } from './two-nodes.js';

const skip = await redisSkipReason();
const TOO_MANY = 'Too many connections from your address';

async function until(what: string, condition: () => Promise<boolean> | boolean): Promise<void> {
  for (let waited = 0; !(await condition()); waited += 10) {
    if (waited > 5000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('per-address connection limits network-wide', { skip }, () => {
  const nodes = twoNodes('addrlimits', { limits: { max_connections_per_address: 3, connections_per_address_per_minute: 100 } });
  const from = (server: TestServer, address: string, nick: string) =>
    RawClient.register(server.port, nick, [], { localAddress: address }).then((c) => (nodes.clients.push(c), c));

  /** Connects from `address` sending NICK and USER at once: the ERROR comes, and no 001 before it. */
  const refused = async (server: TestServer, address: string) => {
    const c = await RawClient.connect({ port: server.port, localAddress: address });
    nodes.clients.push(c);
    c.send('NICK refused');
    c.send('USER refused 0 * :refused');
    const error = await c.expect((m: IrcMessage) => m.command === 'ERROR' || m.command === '001');
    assert.equal(error.command, 'ERROR', 'refused before registration completed');
    assert.equal(error.params[0], `Closing Link: ${address} (${TOO_MANY})`);
    await c.closedByServer();
  };

  it('three from one address over two nodes; a fourth is refused on either node', async () => {
    const open = [await from(nodes.a, '127.0.0.5', 'five1'), await from(nodes.a, '127.0.0.5', 'five2'), await from(nodes.b, '127.0.0.5', 'five3')];
    assert.equal(await nodes.a.server.cluster.state.connections('127.0.0.5'), 3);
    // Each node's own count is under 3: only the network-wide one refuses.
    await refused(nodes.b, '127.0.0.5');
    await refused(nodes.a, '127.0.0.5');
    assert.equal(await nodes.a.server.cluster.state.connections('127.0.0.5'), 3, 'the refused hold no share');
    // Another address is not affected.
    await from(nodes.b, '127.0.0.6', 'six1');
    // A connection closed on node A frees a place on node B.
    open[0]!.close();
    await until('the share given back', async () => (await nodes.a.server.cluster.state.connections('127.0.0.5')) === 2);
    await from(nodes.b, '127.0.0.5', 'five4');
    await refused(nodes.b, '127.0.0.5');
  });

  it('limits.exempt_addresses are exempt on every node (127.0.0.1 here)', async () => {
    for (let i = 0; i < 3; i++) {
      await from(nodes.a, '127.0.0.1', `exa${i}`);
      await from(nodes.b, '127.0.0.1', `exb${i}`);
    }
    assert.equal(await nodes.a.server.cluster.state.connections('127.0.0.1'), 0, 'not counted at all');
  });
});

describe('limits.exempt_loopback across two nodes', { skip }, () => {
  const nodes = twoNodes('addrloop', { limits: { max_connections_per_address: 1, exempt_loopback: true } });

  it('loopback addresses skip the network-wide count too', async () => {
    for (const server of [nodes.a, nodes.b, nodes.a, nodes.b]) {
      const c = await RawClient.register(server.port, `loop${nodes.clients.length}`, [], { localAddress: '127.0.0.7' });
      nodes.clients.push(c);
    }
    assert.equal(await nodes.a.server.cluster.state.connections('127.0.0.7'), 0);
  });
});
