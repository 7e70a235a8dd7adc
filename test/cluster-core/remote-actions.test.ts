/**
 * Actions on a user of the other node, as on one server: KILL by an oper, NickServ GHOST and
 * REGAIN, INVITE (recorded in the room's shared state, so a JOIN on the invited user's node
 * passes +i once), and SETNAME reaching the user's rooms and WHOIS on the other node. Two
 * servers in this process on one Redis prefix and one SQLite file (accounts are shared).
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

/** The SETNAME lines `client` gets before the PRIVMSG `text` (consumed up to it). */
async function setnamesUntil(client: RawClient, text: string): Promise<IrcMessage[]> {
  const seen = new Set<IrcMessage>();
  await client.expect((m) => {
    if (m.command === 'SETNAME') seen.add(m);
    return m.command === 'PRIVMSG' && m.params[1] === text;
  });
  return [...seen];
}

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

  it('INVITE of a user on the other node: the INVITE line there, 341 and 301 here, invite-notify ops on both nodes; +i lets in once', async () => {
    const op = await inRoom(nodes.a, 'inviter', '#closed', ['invite-notify']);
    const farOp = await inRoom(nodes.b, 'farop', '#closed', ['invite-notify']);
    const farMember = await inRoom(nodes.b, 'farmember', '#closed', ['invite-notify']);
    op.send('MODE #closed +o farop');
    await farOp.expect(is('MODE'));
    op.send('MODE #closed +i');
    await farMember.expect((m) => m.command === 'MODE' && m.params.join(' ') === '#closed +i');
    const guest = await register(nodes.b, 'guest');
    const stranger = await register(nodes.b, 'stranger');
    guest.send('AWAY :out');
    await guest.expect(is('306'));

    op.send('INVITE guest #closed');
    assert.deepEqual((await op.expect(is('341'))).params, ['inviter', 'guest', '#closed']);
    assert.deepEqual((await op.expect(is('301'))).params, ['inviter', 'guest', 'out']);
    const line = await guest.expect(is('INVITE'));
    assert.deepEqual([nickOf(line), ...line.params], ['inviter', 'guest', '#closed']);
    const notified = await farOp.expect(is('INVITE'));
    assert.deepEqual([nickOf(notified), ...notified.params], ['inviter', 'guest', '#closed']);
    assert.deepEqual((await farMember.sync()).filter(is('INVITE')), [], 'in a +i room only ops are told');
    assert.deepEqual((await op.sync()).filter(is('INVITE')), [], 'the inviter has its 341');

    stranger.send('JOIN #closed');
    await stranger.expect(is('473'));
    guest.send('JOIN #closed');
    await guest.expect(is('366'));
    await op.expect((m) => m.command === 'JOIN' && nickOf(m) === 'guest');
    // Used up by the JOIN: after a PART the room is closed to the guest again.
    guest.send('PART #closed');
    await guest.expect(is('PART'));
    guest.send('JOIN #closed');
    await guest.expect(is('473'));

    // The checks of one server: a non-op in +i (482), a member (443), nobody (401).
    farMember.send('INVITE stranger #closed');
    await farMember.expect(is('482'));
    op.send('INVITE farmember #closed');
    await op.expect(is('443'));
    op.send('INVITE nobody #closed');
    await op.expect(is('401'));
  });

  it('INVITE spam is bounded: a room keeps at most 100 invitations, the oldest go first', async () => {
    const op = await inRoom(nodes.a, 'spammer', '#spam');
    op.send('MODE #spam +i');
    await op.expect(is('MODE'));
    const invited: RawClient[] = [];
    for (let i = 0; i < 103; i += 20) {
      invited.push(...(await Promise.all(Array.from({ length: Math.min(20, 103 - i) }, (_, j) => register(nodes.b, `inv${i + j}`)))));
    }
    for (let i = 0; i < invited.length; i++) {
      op.send(`INVITE inv${i} #spam`);
      await op.expect(is('341'));
    }
    const snapshot = await nodes.b.server.cluster.state.room('#spam', { details: false });
    const invites = Object.keys(snapshot!.fields).filter((field) => field.startsWith('i:'));
    assert.equal(invites.length, 100);
    // Both nodes' copies agree with the shared state.
    assert.equal(nodes.a.server.findRoom('#spam')!.invites.size, 100);
    invited[0]!.send('JOIN #spam');
    await invited[0]!.expect(is('473'));
    invited[102]!.send('JOIN #spam');
    await invited[102]!.expect(is('366'));
    for (const client of invited) client.close();
  });

  it('SETNAME reaches setname members on the other node once and WHOIS there; over the limit is FAIL and goes nowhere', async () => {
    const renamer = await register(nodes.a, 'renamer', ['setname']);
    for (const room of ['#sn1', '#sn2']) {
      renamer.send(`JOIN ${room}`);
      await renamer.expect(is('366'));
    }
    const member = await inRoom(nodes.b, 'snmember', '#sn1', ['setname']);
    member.send('JOIN #sn2');
    await member.expect(is('366'));
    const plain = await inRoom(nodes.b, 'snplain', '#sn1');
    renamer.send('SETNAME :A New Name');
    const own = await renamer.expect(is('SETNAME'));
    assert.equal(own.params[0], 'A New Name');
    const seen = await member.expect(is('SETNAME'));
    assert.deepEqual([nickOf(seen), seen.params[0]], ['renamer', 'A New Name']);
    // The other room's log brings it again, before a message sent after it: told once.
    renamer.send('PRIVMSG #sn2 :after the first');
    assert.equal((await setnamesUntil(member, 'after the first')).length, 0);
    // A change back to an earlier value is a new change: told again, still once each.
    renamer.send('SETNAME :Interim');
    renamer.send('SETNAME :A New Name');
    assert.equal((await member.expect(is('SETNAME'))).params[0], 'Interim');
    assert.equal((await member.expect(is('SETNAME'))).params[0], 'A New Name');
    renamer.send('PRIVMSG #sn2 :after the others');
    assert.equal((await setnamesUntil(member, 'after the others')).length, 0);
    assert.deepEqual((await plain.sync()).filter(is('SETNAME')), [], 'only clients that asked for setname');
    plain.send('WHOIS renamer');
    assert.equal((await plain.expect(is('311'))).params.at(-1), 'A New Name');
    // WHO reads the room's copy here (its remote member) and the shared record for a nick.
    for (const mask of ['#sn1', 'renamer']) {
      plain.send(`WHO ${mask}`);
      const entry = await plain.expect((m) => m.command === '352' && m.params[5] === 'renamer');
      assert.match(entry.params.at(-1)!, / A New Name$/, mask);
      await plain.expect(is('315'));
    }

    renamer.send(`SETNAME :${'x'.repeat(400)}`);
    const fail = await renamer.expect(is('FAIL'));
    assert.deepEqual(fail.params.slice(0, 2), ['SETNAME', 'INVALID_REALNAME']);
    renamer.send('PRIVMSG #sn1 :marker');
    await member.expect(is('PRIVMSG'));
    assert.deepEqual(member.received.filter(is('SETNAME')), []);
    plain.send('WHOIS renamer');
    assert.equal((await plain.expect(is('311'))).params.at(-1), 'A New Name');
  });

  it('CHGHOST of a user on the other node: its node applies it; members there and here, WHO and extended-monitor watchers see it', async () => {
    const admin = await oper(nodes.a, 'hostadmin');
    const target = await inRoom(nodes.b, 'farhost', '#hosts', ['chghost']);
    const modern = await inRoom(nodes.a, 'modernhere', '#hosts', ['chghost']);
    const legacy = await inRoom(nodes.a, 'legacyhere', '#hosts');
    const sameNode = await inRoom(nodes.b, 'legacythere', '#hosts');
    const watcher = await register(nodes.a, 'hostwatcher', ['extended-monitor', 'chghost']);
    watcher.send('MONITOR + farhost');
    await watcher.expect(is('730'));
    admin.send('CHGHOST farhost cloak/farhost');
    await admin.expect((m) => m.command === 'NOTICE' && m.params[1] === 'Changed the host of farhost to cloak/farhost');
    assert.equal((await target.expect(is('396'))).params[1], 'cloak/farhost');
    for (const c of [target, modern, watcher]) {
      const seen = await c.expect(is('CHGHOST'));
      assert.deepEqual([seen.source, seen.params], ['farhost!~farhost@127.0.0.1', ['~farhost', 'cloak/farhost']]);
    }
    for (const c of [legacy, sameNode]) {
      assert.deepEqual((await c.expect(is('QUIT'))).params, ['Changing host']);
      assert.equal((await c.expect(is('JOIN'))).source, 'farhost!~farhost@cloak/farhost');
    }
    legacy.send('WHO #hosts');
    const who = await legacy.expect((m) => m.command === '352' && m.params[5] === 'farhost');
    assert.equal(who.params[3], 'cloak/farhost');
  });

  it("KILL of a user whose node died: FAIL once the wait is over, and the reaper's QUIT reaches the room (last: node b is gone)", async () => {
    const admin = await oper(nodes.a, 'killer3');
    await inRoom(nodes.b, 'doomed', '#doom');
    const watcher = await inRoom(nodes.a, 'doomwatch', '#doom');
    await nodes.b.server.cluster.abandon(); // as kill -9: its lease lapses, a peer reaps it
    admin.send('KILL doomed :too late');
    const fail = await admin.expect(is('FAIL'), 10_000);
    assert.deepEqual(fail.params.slice(0, 3), ['KILL', 'TEMPORARILY_UNAVAILABLE', 'doomed']);
    const quit = await watcher.expect(is('QUIT'), 15_000);
    assert.deepEqual([nickOf(quit), quit.params[0]], ['doomed', 'Server went away']);
  });

});
