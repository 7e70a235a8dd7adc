import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IrcMessage } from '../../src/protocol/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { is, join, sharedServer } from '../helpers/fixture.js';

const privmsg = (text: string) => (m: IrcMessage) => m.command === 'PRIVMSG' && m.params[1] === text;

describe('room and user modes', () => {
  const shared = sharedServer();
  const register = (...nicks: string[]) => Promise.all(nicks.map((nick) => shared.register(nick)));
  /** `op` sets `modes` on `room` and everyone in `watchers` has seen the change. */
  const setMode = async (op: RawClient, room: string, modes: string, watchers: RawClient[] = []) => {
    op.send(`MODE ${room} ${modes}`);
    const change = await op.expect((m) => m.command === 'MODE' || /^[45]\d\d$/.test(m.command));
    assert.equal(change.command, 'MODE', `MODE ${modes} was refused: ${change.params.join(' ')}`);
    for (const watcher of watchers) await watcher.expect(is('MODE'));
    return change;
  };

  it('a new room is +nt; MODE query gives 324 and 329', async () => {
    const [op] = await register('queryop');
    await join(op!, '#query');
    op!.send('MODE #query');
    const modes = await op!.expect(is('324'));
    assert.deepEqual(modes.params.slice(1), ['#query', '+nt']);
    const created = await op!.expect(is('329'));
    assert.equal(created.params[1], '#query');
    assert.ok(Math.abs(Number(created.params[2]) - Date.now() / 1000) < 10);
  });

  it('+o and +v: announced to the room and shown as prefixes in NAMES', async () => {
    const [op, helper, talker] = await register('prefop', 'prefhelper', 'preftalker');
    for (const client of [op!, helper!, talker!]) await join(client, '#prefixes');
    const change = await setMode(op!, '#prefixes', '+ov prefhelper preftalker', [helper!, talker!]);
    assert.equal(change.source, 'prefop!~prefop@127.0.0.1');
    assert.deepEqual(change.params, ['#prefixes', '+ov', 'prefhelper', 'preftalker']);
    talker!.send('NAMES #prefixes');
    const names = (await talker!.sync()).find(is('353'))!.params.at(-1)!.split(' ').sort();
    assert.deepEqual(names, ['+preftalker', '@prefhelper', '@prefop']);
    // The new op may now change modes; -o takes it back.
    await setMode(helper!, '#prefixes', '-o prefhelper', [op!]);
    helper!.send('MODE #prefixes +m');
    await helper!.expect((m) => m.command === '482');
  });

  it('+m: only voiced members and ops speak (404 for the rest)', async () => {
    const [op, voiced, quiet] = await register('modop', 'modvoiced', 'modquiet');
    for (const client of [op!, voiced!, quiet!]) await join(client, '#moderated');
    await setMode(op!, '#moderated', '+mv modvoiced', [voiced!, quiet!]);
    quiet!.send('PRIVMSG #moderated :can I talk?');
    const refused = await quiet!.expect(is('404'));
    assert.equal(refused.params[1], '#moderated');
    voiced!.send('PRIVMSG #moderated :I can');
    await op!.expect(privmsg('I can'));
    op!.send('PRIVMSG #moderated :so can I');
    await quiet!.expect(privmsg('so can I'));
    assert.ok(!(await op!.sync()).some(privmsg('can I talk?')));
  });

  it('+n keeps outsiders out; -n lets them send', async () => {
    const [op, outsider] = await register('extop', 'extoutsider');
    await join(op!, '#external');
    outsider!.send('PRIVMSG #external :knock knock');
    await outsider!.expect((m) => m.command === '404' && m.params[1] === '#external');
    await setMode(op!, '#external', '-n');
    outsider!.send('PRIVMSG #external :from outside');
    const message = await op!.expect(privmsg('from outside'));
    assert.equal(message.source, 'extoutsider!~extoutsider@127.0.0.1');
  });

  it('+t limits TOPIC to ops; -t opens it', async () => {
    const [op, member] = await register('topop', 'topmember');
    for (const client of [op!, member!]) await join(client, '#topiclock');
    member!.send('TOPIC #topiclock :mine');
    await member!.expect(is('482'));
    await setMode(op!, '#topiclock', '-t', [member!]);
    member!.send('TOPIC #topiclock :mine');
    await op!.expect((m) => m.command === 'TOPIC' && m.params[1] === 'mine');
    await setMode(op!, '#topiclock', '+t', [member!]);
    member!.send('TOPIC #topiclock :again');
    await member!.expect(is('482'));
  });

  it('+i: 473 until invited', async () => {
    const [op, guest] = await register('invop', 'invguest');
    await join(op!, '#inviteonly');
    await setMode(op!, '#inviteonly', '+i');
    guest!.send('JOIN #inviteonly');
    await guest!.expect((m) => m.command === '473' && m.params[1] === '#inviteonly');
    op!.send('INVITE invguest #inviteonly');
    await guest!.expect(is('INVITE'));
    const joined = await join(guest!, '#inviteonly');
    assert.ok(joined.some(is('JOIN')));
  });

  it('+k: 475 without or with a wrong key; the right key joins; 324 shows it to members', async () => {
    const [op, guest, outsider] = await register('keyop', 'keyguest', 'keyoutsider');
    await join(op!, '#locked');
    const change = await setMode(op!, '#locked', '+k hunter2');
    assert.deepEqual(change.params, ['#locked', '+k', 'hunter2']);
    guest!.send('JOIN #locked');
    await guest!.expect((m) => m.command === '475' && m.params[1] === '#locked');
    guest!.send('JOIN #locked wrong');
    await guest!.expect(is('475'));
    const joined = await join(guest!, '#locked hunter2');
    assert.ok(joined.some(is('JOIN')));
    guest!.send('MODE #locked');
    const modes = await guest!.expect(is('324'));
    assert.deepEqual(modes.params.slice(1), ['#locked', '+ntk', 'hunter2']);
    outsider!.send('MODE #locked');
    const hidden = await outsider!.expect(is('324'));
    assert.ok(!hidden.params.includes('hunter2'), 'the key is not shown to non-members');
    await setMode(op!, '#locked', '-k', [guest!]);
    assert.ok((await join(outsider!, '#locked')).some(is('JOIN')));
  });

  it('+l: 471 once the room is full', async () => {
    const [op, second, third] = await register('limop', 'limsecond', 'limthird');
    await join(op!, '#limited');
    const change = await setMode(op!, '#limited', '+l 2');
    assert.deepEqual(change.params, ['#limited', '+l', '2']);
    assert.ok((await join(second!, '#limited')).some(is('JOIN')));
    third!.send('JOIN #limited');
    await third!.expect((m) => m.command === '471' && m.params[1] === '#limited');
    op!.send('MODE #limited +l zero');
    await op!.expect(is('696'));
  });

  it('+b: masks are completed, listed with 367/368, and banned users can neither join nor speak', async () => {
    const [op, member, banned] = await register('banop', 'banmember', 'banned');
    for (const client of [op!, member!]) await join(client, '#bans');
    const change = await setMode(op!, '#bans', '+b banned', [member!]);
    assert.deepEqual(change.params, ['#bans', '+b', 'banned!*@*']);
    await setMode(op!, '#bans', '+b *@evil.example', [member!]);
    op!.send('MODE #bans +b');
    const list = await op!.sync();
    assert.deepEqual(list.map((m) => m.command), ['367', '367', '368']);
    assert.deepEqual(list[0]!.params.slice(1, 3), ['#bans', 'banned!*@*']);
    assert.equal(list[0]!.params[3], 'banop!~banop@127.0.0.1');
    assert.deepEqual(list[1]!.params.slice(1, 3), ['#bans', '*!*@evil.example']);
    banned!.send('JOIN #bans');
    await banned!.expect((m) => m.command === '474' && m.params[1] === '#bans');

    // A member who gets banned stays but cannot speak.
    await setMode(op!, '#bans', '+b banmember!*@*', [member!]);
    member!.send('PRIVMSG #bans :hello?');
    await member!.expect((m) => m.command === '404' && m.params[1] === '#bans');
    await setMode(op!, '#bans', '-b banmember', [member!]);
    member!.send('PRIVMSG #bans :thanks');
    await op!.expect(privmsg('thanks'));
  });

  it('unknown mode 472, a non-op change 482', async () => {
    const [op, member] = await register('errop', 'errmember');
    for (const client of [op!, member!]) await join(client, '#errors');
    op!.send('MODE #errors +z');
    const unknown = await op!.expect(is('472'));
    assert.equal(unknown.params[1], 'z');
    member!.send('MODE #errors +m');
    await member!.expect((m) => m.command === '482' && m.params[1] === '#errors');
    member!.send('MODE #errors +o errmember');
    await member!.expect(is('482'));
    const after = await op!.sync();
    assert.ok(!after.some(is('MODE')), 'nothing was changed');
  });

  it('user mode +i with 221; changing another user is 502', async () => {
    const [self, other] = await register('umode', 'umodeother');
    self!.send('MODE umode');
    assert.deepEqual((await self!.expect(is('221'))).params, ['umode', '+']);
    self!.send('MODE umode +i');
    const change = await self!.expect(is('MODE'));
    assert.deepEqual(change.params, ['umode', '+i']);
    self!.send('MODE umode');
    assert.deepEqual((await self!.expect(is('221'))).params, ['umode', '+i']);
    self!.send('MODE umodeother +i');
    await self!.expect((m) => m.command === '502' && m.params[0] === 'umode');
    self!.send('MODE umodeother');
    await self!.expect(is('502'));
    other!.send('MODE umodeother');
    assert.deepEqual((await other!.expect(is('221'))).params, ['umodeother', '+']);
  });
});
