/**
 * RENAME when this node's two logs arrive out of step: node B holds back the old name's log
 * (the rename's turn) while one of its users joins the new name, so B starts a copy of the
 * renamed room from a snapshot before it reaches the rename. When the rename does arrive, B
 * keeps that copy (RoomCopies.move): one copy with every member once, RENAME told only to those
 * who were in the room under the old name, and chat goes on across both nodes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Delivery } from '../../src/cluster/events.js';
import { handleDelivery } from '../../src/core/bus-handler.js';
import type { IrcMessage } from '../../src/protocol/index.js';
import { redisSkipReason } from '../cluster/redis-helpers.js';
import { twoNodes } from './two-nodes.js';

const skip = await redisSkipReason();
const CAPS = ['draft/channel-rename', 'echo-message'];
const names = (got: IrcMessage[]) => got.filter((m) => m.command === '353').flatMap((m) => m.params.at(-1)!.split(' ')).sort();

describe('RENAME meeting a copy of the new name on a node that lags', { skip }, () => {
  const nodes = twoNodes('rename-race');

  it('the lagging node keeps the newer copy: members once, RENAME only to the old members, chat both ways', async () => {
    const op = await nodes.register(nodes.a, 'raceop', CAPS);
    const member = await nodes.register(nodes.b, 'racemember', CAPS);
    const newcomer = await nodes.register(nodes.b, 'racenew', CAPS);
    for (const c of [op, member]) {
      c.send('JOIN #race-old');
      await c.expect((m) => m.command === '366');
    }
    await op.expect((m) => m.command === 'JOIN' && m.source?.startsWith('racemember!') === true);

    // Node B holds back everything of the old name's log from here.
    const server = nodes.b.server;
    const held: Delivery[] = [];
    server.cluster.bus.onDelivery((delivery) => {
      if ('room' in delivery.log && delivery.log.room === '#race-old') held.push(delivery);
      else handleDelivery(server, delivery);
    });
    op.send('RENAME #race-old #race-new :moving');
    await op.expect((m) => m.command === 'RENAME');
    newcomer.send('JOIN #race-new');
    await newcomer.expect((m) => m.command === '366' && m.params[1] === '#race-new');
    assert.ok(held.some((d) => d.type === 'event' && d.event.kind === 'rename'), 'B had not applied the rename');

    server.cluster.bus.onDelivery((delivery) => handleDelivery(server, delivery));
    for (const delivery of held.splice(0)) handleDelivery(server, delivery);
    const told = await member.expect((m) => m.command === 'RENAME');
    assert.deepEqual(told.params, ['#race-old', '#race-new', 'moving']);

    newcomer.send('NAMES #race-new');
    assert.deepEqual(names(await newcomer.sync()), ['@raceop', 'racemember', 'racenew']);
    assert.equal(newcomer.lines.filter((l) => / RENAME /.test(l)).length, 0, 'the newcomer was never in #race-old');
    assert.equal(server.rooms.get('#race-new')?.members.size, 2);
    assert.equal(server.rooms.has('#race-old'), false);
    const [memberSession] = [...server.sessions].filter((s) => s.nick === 'racemember');
    assert.deepEqual([...memberSession!.rooms].map((r) => r.name), ['#race-new']);

    member.send('PRIVMSG #race-new :from the lagging node');
    await op.expect((m) => m.command === 'PRIVMSG' && m.params[1] === 'from the lagging node');
    await newcomer.expect((m) => m.command === 'PRIVMSG' && m.params[1] === 'from the lagging node');
    op.send('PRIVMSG #race-new :to both');
    for (const c of [member, newcomer]) await c.expect((m) => m.command === 'PRIVMSG' && m.params[1] === 'to both');
    assert.equal(member.lines.filter((l) => l.includes('to both')).length, 1, 'delivered once');
  });
});
