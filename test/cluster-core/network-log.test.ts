/**
 * The network log (core/network-log.ts) between two nodes: MONITOR on A hears sign-ons, nick
 * changes and sign-offs on B, and `MONITOR +` answers from the shared state; extended-monitor
 * carries B's AWAY to A; WHOWAS on A finds nicks given up on B; WALLOPS from A reaches +w
 * users on B; a K-line set on A drops the matching user on B at once, refuses it there
 * afterwards, and UNKLINE lifts it there too (DLINE and UNDLINE likewise); a gap in the log
 * makes a node read the bans again and drop who they match; the reaper of a dead node tells
 * MONITOR its users left. Two servers in this process on one Redis prefix and one
 * SQLite file (the store the nodes share).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { hashPassword } from '../../src/auth/password.js';
import { NETWORK_LOG } from '../../src/core/network-log.js';
import type { IrcMessage } from '../../src/protocol/index.js';
import { redisSkipReason } from '../cluster/redis-helpers.js';
import { RawClient } from '../helpers/raw-client.js';
import type { TestServer } from '../helpers/server.js';
import { twoNodes } from './two-nodes.js';

const skip = await redisSkipReason();
const is = (command: string) => (m: IrcMessage) => m.command === command;
const operHash = await hashPassword('operpass', { N: 1024 });

async function ask(client: RawClient, line: string): Promise<string[][]> {
  client.send(line);
  return (await client.sync()).map((m) => [m.command, ...m.params.slice(1)]);
}

describe('the network log across two nodes', { skip }, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-network-log-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));
  const nodes = twoNodes('network-log', { data_dir: dataDir, opers: [{ name: 'admin', password_hash: operHash }] });
  const { register } = nodes;

  async function oper(server: TestServer, nick: string): Promise<RawClient> {
    const client = await register(server, nick);
    client.send('OPER admin operpass');
    await client.expect(is('381'));
    return client;
  }

  it('MONITOR on A: sign-on, nick change and sign-off on B, and + answered from the shared state', async () => {
    const watcher = await register(nodes.a, 'nwatch');
    assert.deepEqual(await ask(watcher, 'MONITOR + nfar,nrenamed'), [['731', 'nfar,nrenamed']]);
    const far = await register(nodes.b, 'nfar');
    assert.deepEqual((await watcher.expect(is('730'))).params, ['nwatch', 'nfar!~nfar@127.0.0.1']);

    far.send('NICK nrenamed');
    assert.deepEqual((await watcher.expect(is('731'))).params, ['nwatch', 'nfar']);
    assert.deepEqual((await watcher.expect(is('730'))).params, ['nwatch', 'nrenamed!~nfar@127.0.0.1']);

    // A second watcher on A asks after the fact: the answer comes from the shared state.
    const late = await register(nodes.a, 'nlate');
    assert.deepEqual(await ask(late, 'MONITOR + NRENAMED,nfar'), [['730', 'nrenamed!~nfar@127.0.0.1'], ['731', 'nfar']]);

    far.send('QUIT :gone');
    for (const c of [watcher, late]) assert.deepEqual((await c.expect(is('731'))).params, [c === watcher ? 'nwatch' : 'nlate', 'nrenamed']);
  });

  it('extended-monitor: AWAY on B reaches a watcher on A that shares no room', async () => {
    const watcher = await register(nodes.a, 'xwatch', ['extended-monitor', 'away-notify']);
    const plain = await register(nodes.a, 'xplain', ['away-notify']);
    await ask(plain, 'MONITOR + xaway');
    await ask(watcher, 'MONITOR + xaway');
    const target = await register(nodes.b, 'xaway');
    await watcher.expect(is('730'));
    target.send('AWAY :on a break');
    const away = await watcher.expect(is('AWAY'));
    assert.equal(away.source, 'xaway!~xaway@127.0.0.1');
    assert.deepEqual(away.params, ['on a break']);
    target.send('AWAY');
    assert.deepEqual((await watcher.expect(is('AWAY'))).params, []);
    assert.ok((await plain.sync()).every((m) => m.command !== 'AWAY'), 'without extended-monitor: nothing');
  });

  it('WHOWAS on A finds nicks given up on B (a nick change and a quit)', async () => {
    const asker = await register(nodes.a, 'wwasker');
    // A's MONITOR hears each event in the same step that records its WHOWAS entry.
    await ask(asker, 'MONITOR + wwold,wwnew');
    const gone = await register(nodes.b, 'wwold');
    await asker.expect(is('730'));
    gone.send('NICK wwnew');
    await asker.expect((m) => m.command === '730' && m.params[1]!.startsWith('wwnew!'));
    gone.send('QUIT');
    await asker.expect((m) => m.command === '731' && m.params[1] === 'wwnew');
    const wwnew = await ask(asker, 'WHOWAS wwnew');
    const wwold = await ask(asker, 'WHOWAS wwold');
    assert.deepEqual(wwnew[0], ['314', 'wwnew', '~wwold', '127.0.0.1', '*', 'wwold Test']);
    assert.deepEqual(wwold[0], ['314', 'wwold', '~wwold', '127.0.0.1', '*', 'wwold Test']);
    assert.deepEqual([wwnew.length, wwold.length], [3, 3], 'one entry each: 314, 312, 369');
  });

  it('WALLOPS from an oper on A reaches +w users on B, not the others', async () => {
    const admin = await oper(nodes.a, 'wadmin');
    const listener = await register(nodes.b, 'wlisten');
    const deaf = await register(nodes.b, 'wdeaf');
    listener.send('MODE wlisten +w');
    await listener.expect(is('MODE'));
    admin.send('WALLOPS :maintenance at noon');
    const got = await listener.expect(is('WALLOPS'));
    assert.equal(got.source, 'wadmin!~wadmin@127.0.0.1');
    assert.deepEqual(got.params, ['maintenance at noon']);
    assert.deepEqual((await admin.expect(is('WALLOPS'))).params, ['maintenance at noon']);
    assert.ok((await deaf.sync()).every((m) => m.command !== 'WALLOPS'));
    assert.ok((await listener.sync()).every((m) => m.command !== 'WALLOPS'), 'once');
  });

  it('KLINE on A drops the matching user on B with the same reason; B refuses it until UNKLINE on A', async () => {
    const admin = await oper(nodes.a, 'kadmin');
    const victim = await register(nodes.b, 'kvictim');
    const bystander = await register(nodes.b, 'kother');
    admin.send('KLINE ~kvictim@127.0.0.1 :spamming');
    assert.match((await admin.expect(is('NOTICE'))).params[1]!, /Added K-line for \[~kvictim@127\.0\.0\.1\]/);
    assert.equal((await victim.expect(is('465'))).params[1], 'You are banned from this server: K-Lined: spamming');
    assert.equal((await victim.expect(is('ERROR'))).params[0], 'Closing Link: 127.0.0.1 (K-Lined: spamming)');
    await victim.closedByServer();
    await bystander.sync(); // still connected

    // B's own memory has it now: a new connection of that user is refused there.
    const again = await RawClient.connect({ port: nodes.b.port });
    nodes.clients.push(again);
    again.send('NICK kvictim');
    again.send('USER kvictim 0 * :k');
    assert.equal((await again.expect(is('465'))).params[1]!.includes('spamming'), true);
    await again.closedByServer();

    admin.send('UNKLINE ~kvictim@127.0.0.1');
    await admin.expect((m) => m.command === 'NOTICE' && m.params[1]!.startsWith('Removed K-line'));
    // The log keeps one order: once a later WALLOPS reached B, so did the removal.
    bystander.send('MODE kother +w');
    await bystander.expect(is('MODE'));
    admin.send('WALLOPS :after the unkline');
    await bystander.expect(is('WALLOPS'));
    assert.equal(nodes.b.server.bans.klineFor('~kvictim', '127.0.0.1'), null);
    await register(nodes.b, 'kvictim');
  });

  it('DLINE on A drops a user of that address on B; UNDLINE on A lets it in there again', async () => {
    const admin = await oper(nodes.a, 'dadmin');
    const watch = await register(nodes.b, 'dwatch');
    watch.send('MODE dwatch +w');
    await watch.expect(is('MODE'));
    const victim = await RawClient.register(nodes.b.port, 'dvictim', [], { localAddress: '127.0.0.3' });
    nodes.clients.push(victim);
    admin.send('DLINE 127.0.0.3 :flooding');
    assert.equal((await victim.expect(is('ERROR'))).params[0], 'Closing Link: 127.0.0.3 (D-Lined: flooding)');
    await victim.closedByServer();
    assert.ok((await watch.sync()).every((m) => m.command !== 'ERROR'), 'another address stays');
    assert.notEqual(nodes.b.server.admit('127.0.0.3'), null, 'refused at accept on B');
    admin.send('UNDLINE 127.0.0.3');
    await admin.expect((m) => m.command === 'NOTICE' && m.params[1]!.startsWith('Removed D-line'));
    admin.send('WALLOPS :after the undline');
    await watch.expect(is('WALLOPS'));
    assert.equal(nodes.b.server.bans.dlineFor('127.0.0.3'), null);
  });

  it('a gap in the network log: B reads the bans again from the shared store and drops who they match', async () => {
    const target = await register(nodes.b, 'gapuser');
    // A ban B never heard of (written to the store the nodes share, as a node whose event was trimmed would have).
    const now = Date.now();
    await nodes.a.server.store.bans.save({ kind: 'kline', mask: '~gapuser@127.0.0.1', reason: 'missed', setBy: 'admin', setAt: now, expiresAt: null });
    assert.equal(nodes.b.server.bans.klineFor('~gapuser', '127.0.0.1'), null);
    nodes.b.server.networkLog.apply({ type: 'gap', log: { room: NETWORK_LOG }, from: 1, to: 2, reason: 'trimmed' });
    assert.equal((await target.expect(is('ERROR'))).params[0], 'Closing Link: 127.0.0.1 (K-Lined: missed)');
    await nodes.a.server.store.bans.delete('kline', '~gapuser@127.0.0.1');
  });

  it("a node that dies: the reaper's sign-offs reach MONITOR on the survivor (last: node b is gone)", async () => {
    const watcher = await register(nodes.a, 'rwatch');
    await register(nodes.b, 'rdoomed');
    assert.deepEqual(await ask(watcher, 'MONITOR + rdoomed'), [['730', 'rdoomed!~rdoomed@127.0.0.1']]);
    await nodes.b.server.cluster.abandon(); // as kill -9: its lease lapses, a peer reaps it
    assert.deepEqual((await watcher.expect(is('731'), 15_000)).params, ['rwatch', 'rdoomed']);
  });
});
