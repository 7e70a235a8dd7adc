/**
 * Actions on a user of the other node, as on one server: KILL by an oper, NickServ GHOST and
 * REGAIN. Two servers in this process on one Redis prefix and one SQLite file (accounts are
 * shared).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { hashPassword } from '../../src/auth/password.js';
import type { KillEvent } from '../../src/cluster/events.js';
import type { IrcMessage } from '../../src/protocol/index.js';
import { redisSkipReason } from '../cluster/redis-helpers.js';
import type { RawClient } from '../helpers/raw-client.js';
import type { TestServer } from '../helpers/server.js';
import { twoNodes } from './two-nodes.js';

const skip = await redisSkipReason();
const is = (command: string, param?: string) => (m: IrcMessage) => m.command === command && (param === undefined || m.params.includes(param));
const nickOf = (m: IrcMessage) => m.source?.split('!')[0];
const operHash = await hashPassword('operpass', { N: 1024 });

describe('actions on users of the other node', { skip }, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-remote-actions-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));
  const nodes = twoNodes('remote-actions', {
    data_dir: dataDir,
    accounts: { scrypt_log_n: 10 },
    opers: [{ name: 'admin', password_hash: operHash }],
  });
  const { register } = nodes;

  async function oper(server: TestServer, nick: string): Promise<RawClient> {
    const client = await register(server, nick);
    client.send('OPER admin operpass');
    await client.expect(is('381'));
    return client;
  }

  async function inRoom(server: TestServer, nick: string, room: string, caps: string[] = []): Promise<RawClient> {
    const client = await register(server, nick, caps);
    client.send(`JOIN ${room}`);
    await client.expect(is('366'));
    return client;
  }

  it('KILL of a user on the other node: its ERROR, the QUIT on both nodes, the same notice, the nick free at once', async () => {
    const admin = await oper(nodes.a, 'killer');
    const victim = await inRoom(nodes.b, 'victim', '#scene');
    const near = await inRoom(nodes.b, 'nearby', '#scene');
    const far = await inRoom(nodes.a, 'faraway', '#scene');
    admin.send('KILL victim :being rude');
    const error = await victim.expect(is('ERROR'));
    assert.equal(error.params[0], 'Closing Link: 127.0.0.1 (Killed (admin (being rude)))');
    await victim.closedByServer();
    for (const witness of [near, far]) {
      const quit = await witness.expect(is('QUIT'));
      assert.deepEqual([nickOf(quit), quit.params[0]], ['victim', 'Killed (admin (being rude))']);
    }
    const notice = await admin.expect(is('NOTICE'));
    assert.equal(notice.params[1], 'Killed victim: being rude');
    // The notice comes once the removal is done: the nick is free network-wide already.
    const again = await register(nodes.a, 'victim');
    await again.sync();
  });

  it('KILL by a non-oper is 481 and reaches no one; KILL of a nick that left is 401', async () => {
    const plain = await register(nodes.a, 'plainuser');
    const target = await register(nodes.b, 'untouched');
    plain.send('KILL untouched :bye');
    assert.equal((await plain.expect((m) => /^\d{3}$/.test(m.command))).command, '481');
    assert.deepEqual((await target.sync()).filter(is('ERROR')), []);
    plain.send('WHOIS untouched');
    await plain.expect(is('311', 'untouched'));

    const admin = await oper(nodes.a, 'killer2');
    const leaver = await register(nodes.b, 'leaver');
    leaver.send('QUIT :gone');
    await leaver.closedByServer();
    admin.send('KILL leaver :too late');
    assert.equal((await admin.expect(is('401'))).params[1], 'leaver');
    assert.deepEqual((await admin.sync()).filter(is('NOTICE')), []);
  });

  it('an inbox kill is checked by the target node: an unknown uid is answered absent, a reason cannot add lines', async () => {
    const a = nodes.a.server;
    const b = nodes.b.server;
    const ghost = await register(nodes.b, 'shortlived');
    const record = await a.cluster.state.userByNick('shortlived');
    assert.ok(record);
    ghost.send('QUIT');
    await ghost.closedByServer();
    // The same record, after its user left: the node that had it answers at once.
    assert.equal(await a.remoteUsers.kill(record, 'test', 'x'), 'absent');
    // Malformed events are skipped without an answer or a crash; b still serves its users.
    const bystander = await register(nodes.b, 'bystander');
    const bad = { v: 1, origin: a.cluster.nodes.id, kind: 'kill', uid: 42, by: 'x', reason: null } as unknown as KillEvent;
    await a.cluster.bus.send(b.cluster.nodes.id, bad);
    await bystander.sync();
    // A reason with CR/LF (no client can send one; another node could) stays one ERROR line.
    const live = await a.cluster.state.userByNick('bystander');
    assert.equal(await a.remoteUsers.kill(live!, 'test', 'evil\r\nPRIVMSG #x :injected'), 'done');
    const error = await bystander.expect(is('ERROR'));
    assert.equal(error.params[0], 'Closing Link: 127.0.0.1 (evil  PRIVMSG #x :injected)');
    await bystander.closedByServer();
    assert.equal(bystander.received.filter(is('PRIVMSG')).length, 0);
  });

  it('NickServ REGAIN of a session on the other node: it is disconnected, its room sees the QUIT, the nick is taken', async () => {
    const holder = await register(nodes.b, 'gail');
    holder.send('PRIVMSG NickServ :REGISTER gail-password');
    await holder.expect(is('NOTICE'));
    holder.send('JOIN #gail');
    await holder.expect(is('366'));
    const witness = await inRoom(nodes.b, 'gailwatch', '#gail');
    const owner = await register(nodes.a, 'gail2');
    owner.send('PRIVMSG NickServ :IDENTIFY gail gail-password');
    await owner.expect((m) => m.command === 'NOTICE' && m.params[1] === 'You are now logged in as gail.');
    owner.send('PRIVMSG NickServ :REGAIN gail');
    const error = await holder.expect(is('ERROR'));
    assert.equal(error.params[0], 'Closing Link: 127.0.0.1 (GHOST command used by gail2)');
    await holder.closedByServer();
    assert.equal((await owner.expect(is('NOTICE'))).params[1], 'gail has been disconnected.');
    const nick = await owner.expect(is('NICK'));
    assert.equal(nick.params[0], 'gail');
    const quit = await witness.expect(is('QUIT'));
    assert.deepEqual([nickOf(quit), quit.params[0]], ['gail', 'GHOST command used by gail2']);

    // GHOST alone: nobody left to disconnect on either node.
    const second = await register(nodes.b, 'gail3');
    second.send('PRIVMSG NickServ :IDENTIFY gail gail-password');
    await second.expect((m) => m.command === 'NOTICE' && m.params[1] === 'You are now logged in as gail.');
    owner.send('NICK gail4');
    await owner.expect(is('NICK'));
    second.send('PRIVMSG NickServ :GHOST gail');
    assert.equal((await second.expect(is('NOTICE'))).params[1], 'Nobody else is using gail.');
  });
});
