/**
 * Issue 14 step 2, rooms network-wide: two servers in this process on one Redis prefix. JOIN,
 * PART, KICK, TOPIC and MODE decided in the shared state and seen on both nodes in the room
 * log's order; NAMES lists members of both; NICK, AWAY and QUIT of a user reach the other node.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RawClient } from '../helpers/raw-client.js';
import { redisSkipReason } from '../cluster/redis-helpers.js';
import { twoNodes } from './two-nodes.js';
import type { IrcMessage } from '../../src/protocol/index.js';

const skip = await redisSkipReason();
const is = (command: string, param?: string) => (m: IrcMessage) => m.command === command && (param === undefined || m.params.includes(param));

describe('rooms across two nodes', { skip }, () => {
  const nodes = twoNodes('rooms');
  const { register } = nodes;

  it('JOIN on two nodes: each sees the other join, NAMES lists both, the creator is op', async () => {
    const op = await register(nodes.a, 'roomop');
    const guest = await register(nodes.b, 'roomguest', ['away-notify']);
    op.send('JOIN #both');
    await op.expect(is('366'));
    guest.send('JOIN #both');
    const names = await guest.expect(is('353'));
    assert.deepEqual(names.params.at(-1)!.split(' ').sort(), ['@roomop', 'roomguest']);
    const joined = await op.expect(is('JOIN'));
    assert.equal(joined.source?.split('!')[0], 'roomguest');
    // The key is checked against the shared state on the other node too.
    op.send('MODE #both +k secret');
    await guest.expect((m) => m.command === 'MODE' && m.params.join(' ') === '#both +k secret');
    const third = await register(nodes.b, 'roomthird');
    third.send('JOIN #both');
    await third.expect(is('475'));
    third.send('JOIN #both secret');
    await third.expect(is('366'));
    op.send('AWAY :lunch');
    const away = await guest.expect(is('AWAY'));
    assert.deepEqual([away.source?.split('!')[0], away.params[0]], ['roomop', 'lunch']);
    op.send('NICK roomop2');
    const nick = await guest.expect(is('NICK'));
    assert.deepEqual([nick.source?.split('!')[0], nick.params[0]], ['roomop', 'roomop2']);
    op.send('KICK #both roomthird :out');
    const kick = await third.expect(is('KICK'));
    assert.deepEqual(kick.params, ['#both', 'roomthird', 'out']);
    const seen = await guest.expect(is('KICK'));
    assert.equal(seen.source?.split('!')[0], 'roomop2');
    guest.send('TOPIC #both :not allowed');
    await guest.expect(is('482'));
    op.send('QUIT :done');
    const quit = await guest.expect(is('QUIT'));
    assert.equal(quit.source?.split('!')[0], 'roomop2');
    assert.match(quit.params[0]!, /done/);
  });

  it('a room with no member on this node: TOPIC, MODE and NAMES answer from the shared state', async () => {
    const owner = await register(nodes.a, 'farowner');
    owner.send('JOIN #far');
    await owner.expect(is('366'));
    owner.send('TOPIC #far :over there');
    await owner.expect(is('TOPIC'));
    owner.send('MODE #far +l 7');
    await owner.expect(is('MODE'));
    const outsider = await register(nodes.b, 'faroutsider');
    outsider.send('TOPIC #far');
    assert.equal((await outsider.expect(is('332'))).params.at(-1), 'over there');
    outsider.send('MODE #far');
    assert.deepEqual((await outsider.expect(is('324'))).params.slice(2), ['+ntl', '7']);
    outsider.send('NAMES #far');
    assert.equal((await outsider.expect(is('353'))).params.at(-1), '@farowner');
    outsider.send('TOPIC #far :mine now');
    await outsider.expect(is('442'));
    outsider.send('MODE #nowhere');
    await outsider.expect(is('403'));
  });

  it('two ops racing +l on two nodes end with one limit everywhere, both lines in one order', async () => {
    const opA = await register(nodes.a, 'limitA');
    const opB = await register(nodes.b, 'limitB');
    const watchA = await register(nodes.a, 'watchA');
    const watchB = await register(nodes.b, 'watchB');
    opA.send('JOIN #limits');
    await opA.expect(is('366'));
    for (const c of [opB, watchA, watchB]) {
      c.send('JOIN #limits');
      await c.expect(is('366'));
    }
    opA.send('MODE #limits +o limitB');
    await opB.expect((m) => m.command === 'MODE' && m.params.join(' ') === '#limits +o limitB');
    opA.send('MODE #limits +l 10');
    opB.send('MODE #limits +l 20');
    const seenBy = async (c: RawClient) => {
      const lines: string[] = [];
      while (lines.length < 2) lines.push((await c.expect((m) => m.command === 'MODE' && m.params[1] === '+l')).params.join(' '));
      return lines;
    };
    const [lA, lB] = await Promise.all([seenBy(watchA), seenBy(watchB)]);
    assert.deepEqual(lA, lB, 'both nodes saw the two changes in one order');
    assert.deepEqual([...lA].sort(), ['#limits +l 10', '#limits +l 20']);
    const final = await Promise.all([watchA, watchB].map(async (c) => {
      c.send('MODE #limits');
      return (await c.expect(is('324'))).params.at(-1);
    }));
    // The later line of the log is the state everywhere.
    assert.deepEqual(final, [lA[1]!.split(' ')[2], lA[1]!.split(' ')[2]]);
  });

  it('two ops giving one member +o and +v at once on two nodes: both hold, on both nodes', async () => {
    const opA = await register(nodes.a, 'bitsA');
    const opB = await register(nodes.b, 'bitsB');
    const target = await register(nodes.a, 'bitsT', ['multi-prefix']);
    const watchB = await register(nodes.b, 'bitsW', ['multi-prefix']);
    opA.send('JOIN #bits');
    await opA.expect(is('366'));
    for (const c of [opB, target, watchB]) {
      c.send('JOIN #bits');
      await c.expect(is('366'));
    }
    opA.send('MODE #bits +o bitsB');
    await opB.expect((m) => m.command === 'MODE' && m.params.join(' ') === '#bits +o bitsB');
    const namesOf = async (c: RawClient) => {
      c.send('NAMES #bits');
      const names = (await c.expect(is('353'))).params.at(-1)!.split(' ');
      await c.expect(is('366'));
      return names.find((n) => n.endsWith('bitsT'));
    };
    // The two lines arrive in the log's order, which the race decides.
    const twoModes = async (c: RawClient) => {
      const lines: string[] = [];
      while (lines.length < 2) lines.push((await c.expect((m) => m.command === 'MODE' && m.params[2] === 'bitsT')).params.join(' '));
      return lines.sort();
    };
    for (let round = 0; round < 4; round++) {
      opA.send('MODE #bits +o bitsT');
      opB.send('MODE #bits +v bitsT');
      for (const c of [watchB, target]) assert.deepEqual(await twoModes(c), ['#bits +o bitsT', '#bits +v bitsT']);
      assert.deepEqual([await namesOf(watchB), await namesOf(target)], ['@+bitsT', '@+bitsT'], `round ${round}`);
      opA.send('MODE #bits -o bitsT');
      opB.send('MODE #bits -v bitsT');
      for (const c of [watchB, target]) assert.deepEqual(await twoModes(c), ['#bits -o bitsT', '#bits -v bitsT']);
      assert.deepEqual([await namesOf(watchB), await namesOf(target)], ['bitsT', 'bitsT'], `round ${round}`);
    }
  });

  it('a message from outside to a room with no member on the sender\'s node: -n lets it in, +n refuses, none is 403', async () => {
    const owner = await register(nodes.b, 'extowner', ['message-tags']);
    const outsider = await register(nodes.a, 'extsender', ['echo-message', 'message-tags']);
    owner.send('JOIN #ext');
    await owner.expect(is('366'));
    outsider.send('PRIVMSG #ext :knock knock');
    await outsider.expect((m) => m.command === '404' && m.params[1] === '#ext');
    owner.send('MODE #ext -n');
    await owner.expect(is('MODE', '-n'));
    outsider.send('PRIVMSG #ext :from outside');
    const got = await owner.expect(is('PRIVMSG'));
    assert.deepEqual([got.source?.split('!')[0], got.params[1]], ['extsender', 'from outside']);
    const echo = await outsider.expect(is('PRIVMSG'));
    assert.equal(echo.params[1], 'from outside');
    assert.equal(echo.tags?.msgid, got.tags?.msgid, 'the echo carries the msgid the members got');
    outsider.send('PRIVMSG #nowhere :hello');
    await outsider.expect((m) => m.command === '403' && m.params[1] === '#nowhere');
  });

  it('+e, +I and extbans set on one node decide JOINs on the other; INVITE alone lists an invitation from the other node', async () => {
    const op = await register(nodes.a, 'maskop');
    const friend = await register(nodes.b, 'maskfriend');
    const stranger = await register(nodes.b, 'maskstranger');
    op.send('JOIN #masks');
    await op.expect(is('366'));
    op.send('MODE #masks +ib *!*@127.0.0.1 $a');
    await op.expect(is('MODE', '#masks'));
    op.send('MODE #masks +I maskfriend');
    await op.expect(is('MODE', '#masks'));
    // Invite exception lifts +i, the ban still holds; an exception lifts the ban.
    friend.send('JOIN #masks');
    await friend.expect(is('474', '#masks'));
    op.send('MODE #masks +e maskfriend');
    await op.expect(is('MODE', '#masks'));
    friend.send('JOIN #masks');
    await friend.expect(is('366', '#masks'));
    friend.send('MODE #masks e');
    await friend.expect(is('482', '#masks'));
    stranger.send('JOIN #masks');
    await stranger.expect(is('474', '#masks'));
    op.send('INVITE maskstranger #masks');
    await op.expect(is('341'));
    await stranger.expect(is('INVITE', '#masks'));
    stranger.send('INVITE');
    const listed = await stranger.expect((m) => m.command === '336' || m.command === '337');
    assert.deepEqual([listed.command, listed.params[1]], ['336', '#masks']);
    await stranger.expect(is('337'));
    // An invitation lets past bans and +i once.
    stranger.send('JOIN #masks');
    await stranger.expect(is('366', '#masks'));
    stranger.send('PRIVMSG #masks :can anyone hear me?');
    await stranger.expect(is('404', '#masks'));
    // Used up in the JOIN's own step: kicked at once, the invitation does not let in again.
    op.send('KICK #masks maskstranger');
    await stranger.expect(is('KICK', '#masks'));
    stranger.send('JOIN #masks');
    await stranger.expect(is('474', '#masks'));
    stranger.send('INVITE');
    assert.deepEqual((await stranger.expect((m) => m.command === '336' || m.command === '337')).command, '337');
  });
});
