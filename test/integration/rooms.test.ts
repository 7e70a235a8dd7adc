import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IrcMessage } from '../../src/protocol/index.js';
import { is, join, sharedServer } from '../helpers/fixture.js';

const from = (nick: string) => (m: IrcMessage) => m.source?.startsWith(`${nick}!`) === true;

/** The names in the RPL_NAMREPLY lines among `messages`. */
function namesIn(messages: IrcMessage[]): string[] {
  return messages.filter(is('353')).flatMap((m) => m.params.at(-1)!.split(' '));
}

describe('rooms', () => {
  const { register } = sharedServer();

  it('JOIN several rooms with keys; the first member is op; JOIN 0 parts them all', async () => {
    const owner = await register('owner');
    await join(owner, '#keyed');
    owner.send('MODE #keyed +k sesame');
    await owner.expect(is('MODE'));
    const guest = await register('guest');
    const seen = await join(guest, '#keyed,#plain sesame');
    const joins = seen.filter((m) => m.command === 'JOIN' && from('guest')(m));
    assert.deepEqual(joins.map((m) => m.params[0]), ['#keyed', '#plain']);
    const names = seen.filter(is('353'));
    assert.deepEqual(namesIn([names[0]!]).sort(), ['@owner', 'guest']);
    assert.deepEqual(namesIn([names[1]!]), ['@guest'], 'the creator of a room is its operator');
    assert.equal(names[0]!.params[1], '=');

    guest.send('JOIN 0');
    const parts = (await guest.sync()).filter(is('PART'));
    assert.deepEqual(parts.map((m) => m.params[0]).sort(), ['#keyed', '#plain']);
    const part = await owner.expect(is('PART'));
    assert.ok(from('guest')(part));
    // #plain was emptied and no longer exists.
    owner.send('LIST');
    const listed = (await owner.sync()).filter(is('322')).map((m) => m.params[1]);
    assert.ok(listed.includes('#keyed'));
    assert.ok(!listed.includes('#plain'));
  });

  it('PART with a reason; ERR_NOSUCHCHANNEL and ERR_NOTONCHANNEL', async () => {
    const [stay, go] = await Promise.all([register('stay'), register('go')]);
    await join(stay, '#parting');
    await join(go, '#parting');
    go.send('PART #parting :see you later');
    const own = await go.expect(is('PART'));
    assert.deepEqual(own.params, ['#parting', 'see you later']);
    const seen = await stay.expect(is('PART'));
    assert.equal(seen.source, 'go!~go@127.0.0.1');
    assert.deepEqual(seen.params, ['#parting', 'see you later']);

    go.send('PART #parting');
    assert.deepEqual((await go.expect(is('442'))).params.slice(1, 2), ['#parting']);
    go.send('PART #nowhere');
    assert.deepEqual((await go.expect(is('403'))).params.slice(1, 2), ['#nowhere']);
    go.send('JOIN nohash');
    await go.expect((m) => m.command === '403' && m.params[1] === 'nohash');
    go.send('TOPIC #nowhere');
    await go.expect(is('403'));
  });

  it('TOPIC: 331 when unset, set by op, 332/333 on query and on join, 482 under +t', async () => {
    const [op, member] = await Promise.all([register('topicop'), register('topicmember')]);
    await join(op, '#topics');
    op.send('TOPIC #topics');
    await op.expect((m) => m.command === '331' && m.params[1] === '#topics');
    await join(member, '#topics');

    member.send('TOPIC #topics :from a member');
    await member.expect((m) => m.command === '482' && m.params[1] === '#topics');
    op.send('TOPIC #topics :Welcome to topics');
    const change = await member.expect(is('TOPIC'));
    assert.equal(change.source, 'topicop!~topicop@127.0.0.1');
    assert.deepEqual(change.params, ['#topics', 'Welcome to topics']);
    await op.expect(is('TOPIC'));

    member.send('TOPIC #topics');
    const topic = await member.expect(is('332'));
    assert.deepEqual(topic.params.slice(1), ['#topics', 'Welcome to topics']);
    const whoTime = await member.expect(is('333'));
    assert.equal(whoTime.params[2], 'topicop!~topicop@127.0.0.1');
    assert.ok(Math.abs(Number(whoTime.params[3]) - Date.now() / 1000) < 10);

    const late = await register('topiclate');
    const burst = await join(late, '#topics');
    assert.deepEqual(burst.map((m) => m.command), ['JOIN', '332', '333', '353', '366']);

    // Once -t, anyone in the room may set it.
    op.send('MODE #topics -t');
    await member.expect(is('MODE'));
    member.send('TOPIC #topics :members may');
    await late.expect((m) => m.command === 'TOPIC' && m.params[1] === 'members may');
  });

  it('NAMES with multi-prefix and userhost-in-names', async () => {
    const op = await register('namesop');
    await join(op, '#names');
    const [plain, multi, full] = await Promise.all([
      register('namesplain'),
      register('namesmulti', ['multi-prefix']),
      register('namesfull', ['userhost-in-names']),
    ]);
    for (const client of [plain, multi, full]) await join(client, '#names');
    op.send('MODE #names +v namesop');
    await op.expect(is('MODE'));
    for (const client of [plain, multi, full]) client.send('NAMES #names');
    const plainNames = namesIn(await plain.sync());
    assert.ok(plainNames.includes('@namesop'), `got ${plainNames.join(' ')}`);
    const multiNames = namesIn(await multi.sync());
    assert.ok(multiNames.includes('@+namesop'), `got ${multiNames.join(' ')}`);
    const fullNames = namesIn(await full.sync());
    assert.ok(fullNames.includes('@namesop!~namesop@127.0.0.1'), `got ${fullNames.join(' ')}`);
    assert.ok(fullNames.includes('namesfull!~namesfull@127.0.0.1'));
  });

  it('NAMES of several rooms: each in turn; a missing or secret room gets its 366 alone; at most TARGMAX', async () => {
    const owner = await register('multinamesop');
    const asker = await register('multinamesask');
    await join(owner, '#mn-one');
    await join(owner, '#mn-two');
    await join(owner, '#mn-secret');
    owner.send('MODE #mn-secret +s');
    await owner.expect(is('MODE'));
    asker.send('NAMES #mn-one,#MN-TWO,#mn-nowhere,#mn-secret,#mn-one');
    const got = await asker.sync();
    const ends = got.filter(is('366')).map((m) => m.params[1]);
    assert.deepEqual(ends, ['#mn-one', '#mn-two', '#mn-nowhere', '#mn-secret'], 'one end each (a room by its own name), duplicates once');
    assert.deepEqual(
      got.filter(is('353')).map((m) => [m.params[2], m.params[3]]),
      [
        ['#mn-one', '@multinamesop'],
        ['#mn-two', '@multinamesop'],
      ],
    );
    asker.send('NAMES #a,#b,#c,#d,#e');
    assert.deepEqual((await asker.sync()).map((m) => m.command), ['407']);
  });

  it('draft/no-implicit-names: JOIN sends no NAMES; NAMES asked for still answers', async () => {
    const quiet = await register('noimplicit', ['draft/no-implicit-names']);
    const usual = await register('implicit');
    const quietJoin = await join(quiet, '#noimplicit');
    assert.ok(quietJoin.some(is('JOIN')));
    assert.equal(quietJoin.filter((m) => m.command === '353' || m.command === '366').length, 0, quietJoin.map((m) => m.command).join(' '));
    const usualJoin = await join(usual, '#noimplicit');
    assert.deepEqual(namesIn(usualJoin).sort(), ['@noimplicit', 'implicit']);
    quiet.send('NAMES #noimplicit');
    assert.deepEqual(namesIn(await quiet.sync()).sort(), ['@noimplicit', 'implicit']);
  });

  it('LIST with a >n member filter', async () => {
    const [a, b] = await Promise.all([register('lista'), register('listb')]);
    await join(a, '#listbig');
    await join(b, '#listbig');
    await join(a, '#listsmall');
    a.send('TOPIC #listbig :big room');
    await a.expect(is('TOPIC'));
    a.send('LIST >1');
    const replies = await a.sync();
    assert.equal(replies[0]!.command, '321');
    assert.equal(replies.at(-1)!.command, '323');
    const rows = replies.filter(is('322'));
    assert.ok(rows.some((m) => m.params[1] === '#listbig' && m.params[2] === '2' && m.params[3] === 'big room'));
    assert.ok(!rows.some((m) => m.params[1] === '#listsmall'));
    a.send('LIST #listsmall');
    const one = (await a.sync()).filter(is('322'));
    assert.deepEqual(one.map((m) => m.params.slice(1, 3)), [['#listsmall', '1']]);
  });

  it('KICK by an op; 482 for a non-op; 441 for someone not in the room', async () => {
    const [op, victim, bystander, outsider] = await Promise.all([
      register('kickop'),
      register('victim'),
      register('bystander'),
      register('outsider'),
    ]);
    for (const client of [op, victim, bystander]) await join(client, '#kicks');
    bystander.send('KICK #kicks victim');
    await bystander.expect((m) => m.command === '482' && m.params[1] === '#kicks');
    op.send('KICK #kicks outsider');
    const notIn = await op.expect(is('441'));
    assert.deepEqual(notIn.params.slice(1, 3), ['outsider', '#kicks']);
    op.send('KICK #kicks victim :behave');
    for (const client of [op, victim, bystander]) {
      const kick = await client.expect(is('KICK'));
      assert.equal(kick.source, 'kickop!~kickop@127.0.0.1');
      assert.deepEqual(kick.params, ['#kicks', 'victim', 'behave']);
    }
    victim.send('PRIVMSG #kicks :still here?');
    await victim.expect(is('404'));
    outsider.close();
  });

  it('INVITE: 341 and INVITE to the target; +i needs it (473 before); invite-notify to ops', async () => {
    const [op, watcher, invitee] = await Promise.all([
      register('inviteop'),
      register('watcher', ['invite-notify']),
      register('invitee'),
    ]);
    await join(op, '#private');
    await join(watcher, '#private');
    op.send('MODE #private +i');
    await watcher.expect(is('MODE'));
    invitee.send('JOIN #private');
    await invitee.expect((m) => m.command === '473' && m.params[1] === '#private');
    watcher.send('INVITE invitee #private');
    await watcher.expect((m) => m.command === '482');

    op.send('MODE #private +o watcher');
    await watcher.expect(is('MODE'));
    op.send('INVITE invitee #private');
    const inviting = await op.expect(is('341'));
    assert.deepEqual(inviting.params.slice(1), ['invitee', '#private']);
    const invite = await invitee.expect(is('INVITE'));
    assert.equal(invite.source, 'inviteop!~inviteop@127.0.0.1');
    assert.deepEqual(invite.params, ['invitee', '#private']);
    const notify = await watcher.expect(is('INVITE'));
    assert.deepEqual(notify.params, ['invitee', '#private']);

    await join(invitee, '#private');
    await op.expect((m) => m.command === 'JOIN' && from('invitee')(m));
    op.send('INVITE invitee #private');
    await op.expect((m) => m.command === '443');
  });

  it('extended-join, nick changes, away-notify and AWAY numerics', async () => {
    const [ext, mover] = await Promise.all([
      register('extjoin', ['extended-join', 'away-notify']),
      register('mover'),
    ]);
    await join(ext, '#social');
    await join(mover, '#social');
    const joined = await ext.expect((m) => m.command === 'JOIN' && from('mover')(m));
    assert.deepEqual(joined.params, ['#social', '*', 'mover Test']);

    mover.send('NICK moved');
    const nick = await ext.expect(is('NICK'));
    assert.equal(nick.source, 'mover!~mover@127.0.0.1');
    assert.deepEqual(nick.params, ['moved']);
    await mover.expect(is('NICK'));

    mover.send('AWAY :out for lunch');
    await mover.expect(is('306'));
    const away = await ext.expect(is('AWAY'));
    assert.equal(away.source, 'moved!~mover@127.0.0.1');
    assert.deepEqual(away.params, ['out for lunch']);
    ext.send('PRIVMSG moved :are you there?');
    const rplAway = await ext.expect(is('301'));
    assert.deepEqual(rplAway.params.slice(1), ['moved', 'out for lunch']);
    mover.send('AWAY');
    await mover.expect(is('305'));
    const back = await ext.expect(is('AWAY'));
    assert.deepEqual(back.params, []);
  });

  it('WHO #room: 352 with H/G and prefixes, then 315', async () => {
    const [op, gone] = await Promise.all([register('whoop'), register('whogone')]);
    await join(op, '#who');
    await join(gone, '#who');
    gone.send('AWAY :brb');
    await gone.expect(is('306'));
    op.send('WHO #who');
    const replies = await op.sync();
    const rows = replies.filter(is('352'));
    const opRow = rows.find((m) => m.params[5] === 'whoop')!;
    assert.deepEqual(opRow.params.slice(1), ['#who', '~whoop', '127.0.0.1', 'parley.local', 'whoop', 'H@', '0 whoop Test']);
    const goneRow = rows.find((m) => m.params[5] === 'whogone')!;
    assert.equal(goneRow.params[6], 'G');
    const end = replies.at(-1)!;
    assert.equal(end.command, '315');
    assert.equal(end.params[1], '#who');
  });

  it('WHOIS: 311/319/312/317/318, and 401 for an unknown nick', async () => {
    const [asker, target] = await Promise.all([register('asker'), register('target')]);
    await join(target, '#whoisroom');
    asker.send('WHOIS target');
    const replies = await asker.sync();
    assert.deepEqual(replies.map((m) => m.command), ['311', '319', '312', '317', '318']);
    assert.deepEqual(replies[0]!.params.slice(1), ['target', '~target', '127.0.0.1', '*', 'target Test']);
    assert.deepEqual(replies[1]!.params.slice(1), ['target', '@#whoisroom']);
    assert.equal(replies[2]!.params[2], 'parley.local');
    assert.match(replies[3]!.params[2]!, /^\d+$/);
    assert.match(replies[3]!.params[3]!, /^\d{10}$/);
    asker.send('WHOIS nobody');
    const unknown = await asker.sync();
    assert.deepEqual(unknown.map((m) => m.command), ['401', '318']);
    assert.equal(unknown[0]!.params[1], 'nobody');
  });

  it('SETNAME: shown to setname peers and echoed to the sender', async () => {
    const [namer, peer, plain] = await Promise.all([
      register('namer', ['setname']),
      register('namepeer', ['setname']),
      register('nameplain'),
    ]);
    for (const client of [namer, peer, plain]) await join(client, '#setname');
    namer.send('SETNAME :A New Name');
    const echoed = await namer.expect(is('SETNAME'));
    assert.deepEqual(echoed.params, ['A New Name']);
    const seen = await peer.expect(is('SETNAME'));
    assert.equal(seen.source, 'namer!~namer@127.0.0.1');
    assert.ok(!(await plain.sync()).some(is('SETNAME')), 'no SETNAME without the cap');
    peer.send('WHOIS namer');
    const whois = await peer.expect(is('311'));
    assert.equal(whois.params.at(-1), 'A New Name');
  });
});
