/**
 * Multiclient across real nodes (issues 11 and 14): three `parley serve` processes (dist/) on
 * one Redis prefix and one PostgreSQL schema. One account's connections on two nodes are one
 * user; `kill -9` of a node ends, on the others, the links it was part of: a relayed client of
 * a user who lived there is told and dropped, and the further connection of a user elsewhere
 * whose socket was there goes, so its user's limit frees up. Times are reported, not asserted
 * tighter than the 10 s the issue allows.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CliServer } from '../helpers/cli-server.js';
import { cliNetwork } from '../helpers/cli-network.js';
import { loginClient, loginReply, registerAccount } from '../helpers/accounts.js';
import { pgSkipReason } from '../helpers/postgres.js';
import { RawClient } from '../helpers/raw-client.js';
import type { IrcMessage } from '../../src/protocol/index.js';
import { redisSkipReason } from '../cluster/redis-helpers.js';

const skip = (await redisSkipReason()) || (await pgSkipReason());
const is = (command: string) => (m: IrcMessage) => m.command === command;

describe('multiclient over three parley serve nodes', { skip }, () => {
  const network = cliNetwork('mcnodes', 3, { PARLEY_ACCOUNTS__SCRYPT_LOG_N: '10', PARLEY_ACCOUNTS__MULTICLIENT_MAX_CONNECTIONS: '2' });
  const nodes = network.first;
  const clients: RawClient[] = [];
  network.closeAfter(() => clients.forEach((c) => c.close()));
  const login = async (node: CliServer, account: string) => {
    const client = await loginClient(node.port, account, account, `${account}-password`);
    client.answerPings = true;
    clients.push(client);
    return client;
  };

  it('kill -9 of a node ends the links through it on the other nodes, both ways', async (t) => {
    const [one, victim, three] = nodes as [CliServer, CliServer, CliServer];
    await registerAccount(one.port, 'kfar', 'kfar-password');
    await registerAccount(one.port, 'knear', 'knear-password');
    // kfar lives on node 1, with a second connection whose socket is on the victim.
    const farHome = await login(one, 'kfar');
    await login(victim, 'kfar');
    // knear lives on the victim, with a second connection whose socket is on node 3.
    await login(victim, 'knear');
    const nearRelayed = await login(three, 'knear');
    // Both are one user each: a third connection of kfar is over the limit of 2.
    const third = await RawClient.connect({ port: three.port });
    clients.push(third);
    const over = await loginRefused(third, 'kfar');
    assert.match(over, /on 2 connections, the most allowed/);

    const killedAt = Date.now();
    victim.child.kill('SIGKILL');
    await victim.exited;

    // The relayed client of knear (its user died with the node) is told and dropped by node 3.
    const error = await nearRelayed.expect(is('ERROR'), 15_000);
    const droppedMs = Date.now() - killedAt;
    assert.match(error.params[0]!, /went away/);
    assert.ok(droppedMs < 10_000, `relayed client dropped after ${droppedMs} ms`);
    t.diagnostic(`kill -9 to the relayed client's ERROR on another node: ${droppedMs} ms`);

    // Node 1 ended kfar's connection through the victim: a new one fits under the limit again.
    let joinedAgainMs = -1;
    for (let i = 0; i < 40 && joinedAgainMs < 0; i++) {
      const retry = await RawClient.connect({ port: three.port });
      clients.push(retry);
      const reply = await loginReply(retry, 'kfar', 'kfar', 'kfar-password');
      if (reply.command === '001') joinedAgainMs = Date.now() - killedAt;
      else await new Promise((resolve) => setTimeout(resolve, 250));
      if (reply.command !== '001') retry.close();
    }
    assert.ok(joinedAgainMs >= 0, 'kfar\'s link through the dead node was never ended');
    assert.ok(joinedAgainMs < 10_000, `limit freed after ${joinedAgainMs} ms`);
    t.diagnostic(`kill -9 to the user's dead link ended on its node: ${joinedAgainMs} ms`);
    farHome.send('PING still-here');
    await farHome.expect((m) => m.command === 'PONG');
  });
});

async function loginRefused(client: RawClient, account: string): Promise<string> {
  const reply = await loginReply(client, account, account, `${account}-password`);
  assert.equal(reply.command, '433');
  return reply.params.at(-1)!;
}
