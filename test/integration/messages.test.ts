import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IrcMessage } from '../../src/protocol/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { is, sharedServer } from '../helpers/fixture.js';

const text = (body: string) => (m: IrcMessage) => (m.command === 'PRIVMSG' || m.command === 'NOTICE') && m.params[1] === body;

describe('messages', () => {
  const { register } = sharedServer();
  /** Register clients and put them all in `room`, the first one being its op. */
  const roomOf = async (room: string, ...members: [string, string[]?][]) => {
    const clients: RawClient[] = [];
    for (const [nick, caps] of members) {
      const client = await register(nick, caps);
      client.send(`JOIN ${room}`);
      await client.expect(is('366'));
      clients.push(client);
    }
    // Everyone has seen everyone join.
    for (const client of clients) await client.sync();
    return clients;
  };

  it('PRIVMSG and NOTICE reach a person and a room', async () => {
    const [ann, ben] = await roomOf('#basic', ['ann'], ['ben']);
    ann!.send('PRIVMSG ben :hi ben');
    const direct = await ben!.expect(text('hi ben'));
    assert.equal(direct.source, 'ann!~ann@127.0.0.1');
    assert.deepEqual(direct.params, ['ben', 'hi ben']);
    ann!.send('NOTICE ben :a notice');
    assert.equal((await ben!.expect(text('a notice'))).command, 'NOTICE');
    ben!.send('PRIVMSG #basic :hi room');
    assert.deepEqual((await ann!.expect(text('hi room'))).params, ['#basic', 'hi room']);
    ben!.send('NOTICE #BASIC :room notice');
    const notice = await ann!.expect(text('room notice'));
    assert.equal(notice.command, 'NOTICE');
    // Several targets in one command, each delivered once.
    ann!.send('PRIVMSG ben,#basic :to both');
    const both = (await ben!.sync()).filter(text('to both'));
    assert.deepEqual(both.map((m) => m.params[0]).sort(), ['#basic', 'ben']);
  });

  it('401, 403, 411, 412 and 407', async () => {
    const sender = await register('errsender');
    sender.send('PRIVMSG nobody :hello');
    assert.deepEqual((await sender.expect(is('401'))).params.slice(1, 2), ['nobody']);
    sender.send('PRIVMSG #noroom :hello');
    assert.deepEqual((await sender.expect(is('403'))).params.slice(1, 2), ['#noroom']);
    sender.send('PRIVMSG');
    await sender.expect(is('411'));
    sender.send('PRIVMSG errsender');
    await sender.expect(is('412'));
    sender.send('PRIVMSG errsender :');
    await sender.expect(is('412'));
    sender.send('PRIVMSG a,b,c,d,e :too many');
    const tooMany = await sender.expect(is('407'));
    assert.equal(tooMany.params[1], 'a,b,c,d,e');
    // One bad target among several does not stop the others.
    sender.send('PRIVMSG nobody,errsender :partly');
    const replies = await sender.sync();
    assert.deepEqual(replies.map((m) => m.command), ['401', 'PRIVMSG']);
  });

  it('echo-message: the sender gets its message back with the same msgid', async () => {
    const caps = ['echo-message', 'message-tags', 'server-time'];
    const [echoer, listener] = await roomOf('#echo', ['echoer', caps], ['echolistener', ['message-tags']]);
    echoer!.send('PRIVMSG #echo :echo this');
    const echoed = await echoer!.expect(text('echo this'));
    const heard = await listener!.expect(text('echo this'));
    assert.equal(echoed.source, 'echoer!~echoer@127.0.0.1');
    assert.ok(echoed.tags?.msgid);
    assert.equal(echoed.tags?.msgid, heard.tags?.msgid);
    assert.ok(echoed.tags?.time);
    echoer!.send('PRIVMSG echolistener :direct echo');
    const directEcho = await echoer!.expect(text('direct echo'));
    assert.equal(directEcho.params[0], 'echolistener');
    assert.equal(directEcho.tags?.msgid, (await listener!.expect(text('direct echo'))).tags?.msgid);
  });

  it('message-tags: client-only tags reach message-tags clients only; TAGMSG likewise', async () => {
    const [tagger, tagged, timeOnly, plain] = await roomOf(
      '#tags',
      ['tagger', ['message-tags']],
      ['tagged', ['message-tags']],
      ['timeonly', ['server-time']],
      ['tagplain'],
    );
    tagger!.send('@+example/reply=abc;+example/note=a\\sb;msgid=forged PRIVMSG #tags :with tags');
    const atTagged = await tagged!.expect(text('with tags'));
    assert.equal(atTagged.tags?.['+example/reply'], 'abc');
    assert.equal(atTagged.tags?.['+example/note'], 'a b');
    assert.notEqual(atTagged.tags?.msgid, 'forged', 'server tags from a client are not relayed');
    const atTimeOnly = await timeOnly!.expect(text('with tags'));
    assert.deepEqual(Object.keys(atTimeOnly.tags ?? {}), ['time']);
    const atPlain = await plain!.expect(text('with tags'));
    assert.equal(atPlain.tags, undefined);

    tagger!.send('@+typing=active TAGMSG #tags');
    const tagmsg = await tagged!.expect(is('TAGMSG'));
    assert.equal(tagmsg.source, 'tagger!~tagger@127.0.0.1');
    assert.deepEqual(tagmsg.params, ['#tags']);
    assert.equal(tagmsg.tags?.['+typing'], 'active');
    for (const client of [timeOnly!, plain!]) {
      assert.ok(!(await client.sync()).some(is('TAGMSG')), 'no TAGMSG without message-tags');
    }
  });

  it('labeled-response: ACK for no reply, the label on a single reply, a batch for several', async () => {
    const [labeler] = await roomOf('#labels', ['labeler', ['labeled-response', 'batch', 'message-tags']], ['labelpeer']);
    labeler!.send('@label=ack1 PRIVMSG #labels :nothing comes back');
    const ack = await labeler!.expect(is('ACK'));
    assert.equal(ack.tags?.label, 'ack1');
    assert.equal(ack.source, 'parley.local');

    labeler!.send('@label=one PING token');
    const pong = await labeler!.expect(is('PONG'));
    assert.equal(pong.tags?.label, 'one');
    assert.deepEqual(pong.params, ['parley.local', 'token']);

    labeler!.send('@label=many NAMES #labels');
    const start = await labeler!.expect(is('BATCH'));
    assert.equal(start.tags?.label, 'many');
    const id = start.params[0]!.slice(1);
    assert.deepEqual(start.params, [`+${id}`, 'labeled-response']);
    const inside = await labeler!.sync();
    const end = inside.findIndex(is('BATCH'));
    assert.deepEqual(inside[end]!.params, [`-${id}`]);
    const replies = inside.slice(0, end);
    assert.deepEqual(replies.map((m) => m.command), ['353', '366']);
    for (const reply of replies) {
      assert.equal(reply.tags?.batch, id);
      assert.equal(reply.tags?.label, undefined, 'only the BATCH start carries the label');
    }

    labeler!.send('@label=err PRIVMSG nobody :hi');
    const error = await labeler!.expect(is('401'));
    assert.equal(error.tags?.label, 'err');
  });

  it('labeled-response with echo-message labels the echo', async () => {
    const [labeler, peer] = await roomOf('#labelecho', ['labelecho', ['labeled-response', 'echo-message']], ['labelechopeer']);
    labeler!.send('@label=e1 PRIVMSG #labelecho :echoed');
    const echo = await labeler!.expect(text('echoed'));
    assert.equal(echo.tags?.label, 'e1');
    const atPeer = await peer!.expect(text('echoed'));
    assert.equal(atPeer.tags, undefined);
  });

  it('STATUSMSG: @#room reaches ops only, +#room voiced members and ops', async () => {
    const [op, voiced, plain, sender] = await roomOf('#status', ['statusop'], ['statusvoiced'], ['statusplain'], ['statussender']);
    op!.send('MODE #status +v statusvoiced');
    for (const client of [op!, voiced!, plain!, sender!]) await client.expect(is('MODE'));
    sender!.send('PRIVMSG @#status :ops only');
    const atOp = await op!.expect(text('ops only'));
    assert.equal(atOp.params[0], '@#status');
    sender!.send('NOTICE +#status :voiced and ops');
    await op!.expect(text('voiced and ops'));
    const atVoiced = await voiced!.expect(text('voiced and ops'));
    assert.equal(atVoiced.params[0], '+#status');
    const atPlain = await plain!.sync();
    assert.ok(!atPlain.some((m) => m.command === 'PRIVMSG' || m.command === 'NOTICE'));
    assert.ok(!(await voiced!.sync()).some(text('ops only')));
  });

  it('RPL_AWAY answers a PRIVMSG to an away user, not a NOTICE', async () => {
    const [away, sender] = await Promise.all([register('awayuser'), register('awaysender')]);
    away.send('AWAY :on holiday');
    await away.expect(is('306'));
    sender.send('PRIVMSG awayuser :are you there');
    const reply = await sender.expect(is('301'));
    assert.deepEqual(reply.params.slice(1), ['awayuser', 'on holiday']);
    await away.expect(text('are you there'));
    sender.send('NOTICE awayuser :just so you know');
    assert.ok(!(await sender.sync()).some(is('301')));
  });

  it('formatting codes and non-ASCII text are relayed byte for byte', async () => {
    const [painter, viewer] = await roomOf('#colours', ['painter'], ['viewer']);
    const body = '\x02bold\x02 \x1ditalic\x1d \x1funder\x1f \x1estrike\x1e \x11mono\x11 \x0304,12red on blue\x03 \x0f plain ünïcödé 🎨';
    painter!.send(`PRIVMSG #colours :${body}`);
    const received = await viewer!.expect(is('PRIVMSG'));
    assert.equal(received.params[1], body);
    assert.ok(viewer!.lines.includes(`:painter!~painter@127.0.0.1 PRIVMSG #colours :${body}`));
  });
});
