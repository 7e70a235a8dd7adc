import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { IrcMessage } from '../../src/protocol/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { loginClient, registerAccount } from '../helpers/accounts.js';
import { is, join } from '../helpers/fixture.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const LIST_MAX = 3;
const privmsg = (text: string) => (m: IrcMessage) => m.command === 'PRIVMSG' && m.params[1] === text;
const numeric = (code: string, room: string) => (m: IrcMessage) => m.command === code && m.params[1] === room;

describe('ban exceptions (+e), invite exceptions (+I), extbans, +C and the invite list', () => {
  let server: TestServer;
  const open: RawClient[] = [];
  const register = async (...nicks: string[]) => {
    const clients = await Promise.all(nicks.map((nick) => RawClient.register(server.port, nick)));
    open.push(...clients);
    return clients;
  };
  const login = async (nick: string, account: string) => {
    await registerAccount(server.port, account, `${account}-password`);
    const client = await loginClient(server.port, nick, account, `${account}-password`);
    open.push(client);
    return client;
  };
  /** `op` sets `modes` on `room`; the MODE line it gets back (or the refusal, which fails). */
  const setMode = async (op: RawClient, room: string, modes: string) => {
    op.send(`MODE ${room} ${modes}`);
    const change = await op.expect((m) => m.command === 'MODE' || /^[45]\d\d$|^696$/.test(m.command));
    assert.equal(change.command, 'MODE', `MODE ${modes} was refused: ${change.params.join(' ')}`);
    return change;
  };
  /** What `MODE <room> <letter>` lists: the masks, and the numerics used. */
  const listOf = async (client: RawClient, room: string, letter: string) => {
    client.send(`MODE ${room} ${letter}`);
    const lines = (await client.sync()).filter((m) => /^3\d\d$/.test(m.command));
    return { masks: lines.slice(0, -1).map((m) => m.params[2]), numerics: [...new Set(lines.map((m) => m.command))] };
  };

  before(async () => {
    server = await startTestServer({ limits: { list_max_bans: LIST_MAX } });
  });
  after(async () => {
    for (const client of open) client.close();
    await server.stop();
  });

  it('ISUPPORT says what is enforced: CHANMODES=beI,k,l,Cimnst, EXCEPTS, INVEX, EXTBAN=$,am, a MAXLIST per list', async () => {
    const [client] = await register('isup');
    client!.send('VERSION');
    const tokens = (await client!.sync()).filter(is('005')).flatMap((m) => m.params.slice(1, -1));
    for (const token of ['CHANMODES=beI,k,l,Cimnst', 'EXCEPTS', 'INVEX', 'EXTBAN=$,am', `MAXLIST=b:${LIST_MAX},e:${LIST_MAX},I:${LIST_MAX}`]) {
      assert.ok(tokens.includes(token), `${token} in ${tokens.join(' ')}`);
    }
  });

  it('+e lets a banned user join and speak; the list is 348/349 and for operators only', async () => {
    const [op, friend, member] = await register('exop', 'exfriend', 'exmember');
    await join(op!, '#except');
    await join(member!, '#except');
    await setMode(op!, '#except', '+b *!*@127.0.0.1');
    friend!.send('JOIN #except');
    await friend!.expect(numeric('474', '#except'));
    const change = await setMode(op!, '#except', '+e exfriend');
    assert.deepEqual(change.params, ['#except', '+e', 'exfriend!*@*']);
    await join(friend!, '#except');
    friend!.send('PRIVMSG #except :thanks for the exception');
    await op!.expect(privmsg('thanks for the exception'));
    // The member matches the ban and no exception: present, but silenced.
    member!.send('PRIVMSG #except :and me?');
    await member!.expect(numeric('404', '#except'));

    assert.deepEqual(await listOf(op!, '#except', 'e'), { masks: ['exfriend!*@*'], numerics: ['348', '349'] });
    member!.send('MODE #except +e');
    await member!.expect(numeric('482', '#except'));
    // The ban list stays open to everyone, as before.
    assert.deepEqual((await listOf(member!, '#except', 'b')).masks, ['*!*@127.0.0.1']);
    await setMode(op!, '#except', '-e EXFRIEND!*@*');
    assert.deepEqual((await listOf(op!, '#except', '+e')).masks, []);
  });

  it('+I lets a matching user into a +i room without an invitation; 346/347', async () => {
    const [op, regular, outsider] = await register('invop', 'invregular', 'invoutsider');
    await join(op!, '#invex');
    await setMode(op!, '#invex', '+i');
    await setMode(op!, '#invex', '+I invregular!*@*');
    await join(regular!, '#invex');
    assert.ok(regular!.lines.some((l) => / JOIN #invex$/.test(l)));
    outsider!.send('JOIN #invex');
    await outsider!.expect(numeric('473', '#invex'));
    assert.deepEqual(await listOf(op!, '#invex', 'I'), { masks: ['invregular!*@*'], numerics: ['346', '347'] });
    // An invite exception lifts +i, not a ban.
    regular!.send('PART #invex');
    await regular!.expect(is('PART'));
    await setMode(op!, '#invex', '+b invregular');
    regular!.send('JOIN #invex');
    await regular!.expect(numeric('474', '#invex'));
  });

  it('$a and $a:<account> match logged-in users by account, in bans and in exceptions', async () => {
    const [op, guest] = await register('acctop', 'acctguest');
    const alice = await login('alicenick', 'acctalice');
    const bob = await login('bobnick', 'acctbob');
    await join(op!, '#accounts');
    await setMode(op!, '#accounts', '+b $a:ACCTALICE');
    alice.send('JOIN #accounts');
    await alice.expect(numeric('474', '#accounts'));
    await join(bob, '#accounts');
    // Only users logged in to an account, and of those, not Alice unless excepted by account.
    await setMode(op!, '#accounts', '+i');
    await setMode(op!, '#accounts', '+I $a');
    guest!.send('JOIN #accounts');
    await guest!.expect(numeric('473', '#accounts'));
    await setMode(op!, '#accounts', '+e $a:acct*');
    await join(alice, '#accounts');
    assert.ok(alice.lines.some((l) => / JOIN #accounts$/.test(l)));
  });

  it('$m:<mask> mutes: the user joins but speaks only when voiced or excepted', async () => {
    const [op, loud] = await register('muteop', 'muteloud');
    await join(op!, '#mutes');
    await setMode(op!, '#mutes', '+b $m:muteloud');
    assert.deepEqual((await listOf(op!, '#mutes', 'b')).masks, ['$m:muteloud!*@*']);
    await join(loud!, '#mutes');
    loud!.send('PRIVMSG #mutes :LOUD NOISES');
    await loud!.expect(numeric('404', '#mutes'));
    await setMode(op!, '#mutes', '+v muteloud');
    loud!.send('PRIVMSG #mutes :voiced now');
    await op!.expect(privmsg('voiced now'));
    await setMode(op!, '#mutes', '-v muteloud');
    await setMode(op!, '#mutes', '+e muteloud!*@*');
    loud!.send('PRIVMSG #mutes :excepted now');
    await op!.expect(privmsg('excepted now'));
  });

  it('bad entries get 696 with the reason, full lists 478, and nothing changes', async () => {
    const [op] = await register('badop');
    await join(op!, '#badmasks');
    const refused = async (modes: string, code = '696') => {
      op!.send(`MODE #badmasks ${modes}`);
      const reply = await op!.expect((m) => /^\d{3}$/.test(m.command) || m.command === 'MODE');
      assert.equal(reply.command, code, `${modes}: ${reply.params.join(' ')}`);
      return reply;
    };
    assert.match((await refused('+b $z:whatever')).params.at(-1)!, /Unknown extban/);
    assert.match((await refused('+e $m:someone')).params.at(-1)!, /ban list/);
    assert.match((await refused('+b $m:$m:x')).params.at(-1)!, /host mask or \$a/);
    await refused('+I $a:');
    await refused('+b $m:');
    await refused(`+e ${'x'.repeat(400)}`);
    for (let i = 0; i < LIST_MAX; i++) await setMode(op!, '#badmasks', `+I filler${i}`);
    assert.match((await refused('+I onetoomany', '478')).params.at(-1)!, /invite exception list is full/);
    // Each list has its own limit: the ban list still takes entries.
    await setMode(op!, '#badmasks', '+b stillroom');
    assert.deepEqual((await listOf(op!, '#badmasks', 'I')).masks.length, LIST_MAX);
  });

  it('+C refuses CTCP to the room (404) but lets /me through; a CTCP NOTICE is dropped silently', async () => {
    const [op, member] = await register('ctcpop', 'ctcpmember');
    await join(op!, '#noctcp');
    await join(member!, '#noctcp');
    await setMode(op!, '#noctcp', '+C');
    op!.send('MODE #noctcp');
    assert.equal((await op!.expect(is('324'))).params[2], '+Cnt');
    member!.send('PRIVMSG #noctcp :\x01VERSION\x01');
    const refusal = await member!.expect(numeric('404', '#noctcp'));
    assert.match(refusal.params.at(-1)!, /CTCP/);
    member!.send('NOTICE #noctcp :\x01PING 1\x01');
    member!.send('PRIVMSG #noctcp :\x01ACTION waves\x01');
    await op!.expect(privmsg('\x01ACTION waves\x01'));
    const after = await member!.sync();
    assert.ok(!after.some((m) => /^\d{3}$/.test(m.command)), 'no reply to the NOTICE');
    assert.ok(!op!.lines.some((l) => l.includes('VERSION') || l.includes('PING 1')));
  });

  it('INVITE alone lists the rooms one may still use an invitation for (336/337)', async () => {
    const [op, guest] = await register('listop', 'listguest');
    for (const room of ['#inv-one', '#inv-two', '#inv-three']) {
      await join(op!, room);
      await setMode(op!, room, '+i');
      op!.send(`INVITE listguest ${room}`);
      await op!.expect(is('341'));
      await guest!.expect((m) => m.command === 'INVITE' && m.params[1] === room);
    }
    const listed = async () => {
      guest!.send('INVITE');
      const lines = (await guest!.sync()).filter((m) => m.command === '336' || m.command === '337');
      assert.equal(lines.at(-1)!.command, '337');
      return lines.slice(0, -1).map((m) => m.params[1]);
    };
    assert.deepEqual(await listed(), ['#inv-one', '#inv-two', '#inv-three']);
    // Used up by joining; gone with the room when it empties.
    await join(guest!, '#inv-one');
    op!.send('PART #inv-three');
    await op!.expect(is('PART'));
    assert.deepEqual(await listed(), ['#inv-two']);
    guest!.send('INVITE someone');
    await guest!.expect((m) => m.command === '461' && m.params[1] === 'INVITE');
  });
});
