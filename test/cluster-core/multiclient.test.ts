/**
 * Multiclient across nodes (issues 11 and 14): two servers on one Redis prefix and one
 * PostgreSQL schema. A connection that logs in on node B with the nick its account's user holds
 * on node A joins that user there (core/relay.ts): the same nick, rooms and messages as a second
 * connection on A would get, one user to everyone else, and refused as on one node otherwise.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { hashPassword } from '../../src/auth/password.js';
import type { IrcMessage } from '../../src/protocol/index.js';
import { loginClient, loginReply, loginUpToEnd, registerAccount } from '../helpers/accounts.js';
import { RawClient } from '../helpers/raw-client.js';
import { dropSchema, pgSkipReason, randomSchema, TEST_PG_URL } from '../helpers/postgres.js';
import { redisSkipReason } from '../cluster/redis-helpers.js';
import { twoNodes } from './two-nodes.js';

const skip = (await redisSkipReason()) || (await pgSkipReason());
const schema = randomSchema();
const is = (command: string, param?: string) => (m: IrcMessage) => m.command === command && (param === undefined || m.params.includes(param));
const nickOf = (m: IrcMessage) => m.source!.split('!')[0];
const operHash = await hashPassword('op-password', { N: 1024 });

describe('multiclient across two nodes', { skip }, () => {
  const nodes = twoNodes('multiclient', {
    store: { url: TEST_PG_URL, schema },
    accounts: { scrypt_log_n: 10, multiclient_max_connections: 2 },
    opers: [{ name: 'op', password_hash: operHash }],
  });
  after(() => dropSchema(schema));
  const login = async (port: number, nick: string, account = nick, caps: string[] = []) => {
    const client = await loginClient(port, nick, account, `${account}-password`, caps);
    nodes.clients.push(client);
    return client;
  };

  it('a login on B with the nick of its account\'s user on A joins that user: rooms, messages both ways, one user to others', async () => {
    await registerAccount(nodes.a.port, 'xann', 'xann-password');
    const home = await login(nodes.a.port, 'xann', 'xann', ['echo-message']);
    home.send('JOIN #x-room');
    home.send('TOPIC #x-room :across nodes');
    await home.expect(is('TOPIC'));
    const peer = await nodes.register(nodes.b, 'xpeer');
    peer.send('JOIN #x-room');
    await peer.expect(is('366', '#x-room'));

    const away = await login(nodes.b.port, 'xann', 'xann', ['echo-message', 'labeled-response', 'batch']);
    const welcome = away.lines.find((l) => / 001 /.test(l))!;
    assert.match(welcome, / 001 xann :Welcome/);
    const burst = await away.sync();
    assert.ok(burst.some((m) => m.command === 'JOIN' && nickOf(m) === 'xann' && m.params[0] === '#x-room'), 'the room is shown to the new connection');
    assert.equal(burst.find(is('332'))?.params.at(-1), 'across nodes');
    const names = burst.find(is('353'))!.params.at(-1)!.split(' ').map((n) => n.replace(/^[@+]/, '')).sort();
    assert.deepEqual(names, ['xann', 'xpeer']);

    // To the peer it is still one user: no JOIN, and WHOIS shows one.
    const seen = await peer.sync();
    assert.equal(seen.filter((m) => m.command === 'JOIN').length, 0);

    peer.send('PRIVMSG #x-room :hello both');
    assert.equal((await home.expect(is('PRIVMSG'))).params[1], 'hello both');
    assert.equal((await away.expect(is('PRIVMSG'))).params[1], 'hello both');

    away.send('@label=l1 PRIVMSG #x-room :said on B');
    const echo = await away.expect(is('PRIVMSG'));
    assert.equal(echo.tags?.label, 'l1', 'the labeled echo comes back to the relayed connection');
    assert.equal(echo.params[1], 'said on B');
    const atHome = await home.expect(is('PRIVMSG'));
    assert.equal(nickOf(atHome), 'xann');
    assert.equal(atHome.params[1], 'said on B');
    const atPeer = await peer.expect(is('PRIVMSG'));
    assert.equal(nickOf(atPeer), 'xann');

    peer.send('PRIVMSG xann :direct to you');
    assert.equal((await home.expect(is('PRIVMSG'))).params[1], 'direct to you');
    assert.equal((await away.expect(is('PRIVMSG'))).params[1], 'direct to you');

    // A JOIN on the relayed connection is the user's: shown on A too.
    away.send('JOIN #x-second');
    await away.expect(is('366', '#x-second'));
    assert.equal((await home.expect(is('JOIN'))).params[0], '#x-second');

    // The relayed connection leaves alone: no QUIT for the peer, the user stays.
    away.send('QUIT :phone off');
    await away.closedByServer();
    peer.send('PRIVMSG #x-room :still there?');
    assert.equal((await home.expect(is('PRIVMSG'))).params[1], 'still there?');
    const after = await peer.sync();
    assert.equal(after.filter((m) => m.command === 'QUIT').length, 0);
    peer.send('WHOIS xann');
    assert.equal((await peer.expect(is('311'))).params[1], 'xann');
  });

  it('the user lives on its relayed connection once its own leaves, and leaves the network with it', async () => {
    await registerAccount(nodes.a.port, 'xbea', 'xbea-password');
    const home = await login(nodes.a.port, 'xbea');
    home.send('JOIN #x-bea');
    await home.expect(is('366', '#x-bea'));
    const peer = await nodes.register(nodes.a, 'xpeer2');
    peer.send('JOIN #x-bea');
    await peer.expect(is('366', '#x-bea'));
    const away = await login(nodes.b.port, 'xbea');
    await away.sync();

    home.send('QUIT :laptop closed');
    await home.closedByServer();
    peer.send('PRIVMSG #x-bea :for the phone');
    assert.equal((await away.expect(is('PRIVMSG'))).params[1], 'for the phone');
    assert.equal((await peer.sync()).filter((m) => m.command === 'QUIT').length, 0);

    away.send('QUIT :phone off too');
    await away.closedByServer();
    const quit = await peer.expect(is('QUIT'));
    assert.equal(nickOf(quit), 'xbea');
    assert.equal(quit.params[0], 'Quit: phone off too');
  });

  it('another account with the nick is refused with 433 on B and may register there under another nick', async () => {
    await registerAccount(nodes.a.port, 'xcal', 'xcal-password');
    await registerAccount(nodes.a.port, 'xdee', 'xdee-password');
    await login(nodes.a.port, 'xcal');
    const other = await RawClient.connect({ port: nodes.b.port });
    nodes.clients.push(other);
    const refused = await loginReply(other, 'xcal', 'xdee', 'xdee-password');
    assert.equal(refused.command, '433');
    assert.equal(refused.params[1], 'xcal');
    other.send('NICK xdee');
    assert.equal((await other.expect(is('001'))).params[0], 'xdee');
  });

  it('past multiclient_max_connections a relayed login is refused with 433 and registers on B under another nick', async () => {
    await registerAccount(nodes.a.port, 'xeve', 'xeve-password');
    await login(nodes.a.port, 'xeve');
    await login(nodes.b.port, 'xeve');
    const third = await RawClient.connect({ port: nodes.b.port });
    nodes.clients.push(third);
    await loginUpToEnd(third, 'xeve', 'xeve', 'xeve-password');
    // Sent before the refusal arrives: it went up the link and comes back to run on B.
    third.send('NICK xeve-3');
    const refused = await third.expect(is('433'));
    assert.match(refused.params.at(-1)!, /on 2 connections, the most allowed/);
    assert.equal((await third.expect(is('001'))).params[0], 'xeve-3');
  });

  it('KILL of the user ends its relayed connection on B too, with the reason', async () => {
    await registerAccount(nodes.a.port, 'xfay', 'xfay-password');
    await login(nodes.a.port, 'xfay');
    const away = await login(nodes.b.port, 'xfay');
    await away.sync();
    const oper = await nodes.register(nodes.a, 'xoper');
    oper.send('OPER op op-password');
    await oper.expect(is('381'));
    oper.send('KILL xfay :enough');
    const error = await away.expect(is('ERROR'));
    assert.match(error.params[0]!, /Killed/);
    await away.closedByServer();
  });

  it('a node that stops ends the relayed connections of its users elsewhere', async () => {
    // Covered for B's users in its own suite's stop (after); here the other way: the far side's
    // links end when the near node's socket closes, shown by the user leaving with its last one.
    await registerAccount(nodes.a.port, 'xgus', 'xgus-password');
    const home = await login(nodes.a.port, 'xgus');
    const away = await login(nodes.b.port, 'xgus');
    await away.sync();
    home.send('QUIT :bye');
    await home.closedByServer();
    const watcher = await nodes.register(nodes.a, 'xwatch');
    watcher.send('WHOIS xgus');
    assert.equal((await watcher.expect(is('311'))).params[1], 'xgus');
    away.close(); // the socket ends on B: A's user leaves with it
    for (let i = 0; i < 50; i++) {
      watcher.send('WHOIS xgus');
      const reply = await watcher.expect((m) => m.command === '311' || m.command === '401');
      if (reply.command === '401') return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.fail('xgus is still on the network after its last connection closed');
  });
});
