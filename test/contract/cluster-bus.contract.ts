/**
 * The Bus contract (src/cluster/bus.ts), checked against every implementation: one order per
 * room for every follower, strictly increasing sequence and time, network-unique time-ordered
 * msgids, exact catch-up from a position, the stream cap seen as a gap, node inboxes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Cluster } from '../../src/cluster/cluster.js';
import type { ClusterEvent, Delivery } from '../../src/cluster/events.js';
import { FencedError } from '../../src/cluster/nodes.js';
import { collect, STEADY, message, texts, unique, waitFor, type ClusterBackend } from './cluster-backend.js';

type EventDelivery = Extract<Delivery, { type: 'event' }>;

function events(got: Delivery[], room: string): EventDelivery[] {
  return got.filter((d): d is EventDelivery => d.type === 'event' && 'room' in d.log && d.log.room === room);
}

export function clusterBusContract(name: string, make: () => Promise<ClusterBackend>, skip: string | false = false): void {
  describe(`Bus contract: ${name}`, { skip }, () => {
    let backend: ClusterBackend;
    let nodes: Cluster[];
    before(async () => {
      backend = await make();
      nodes = await Promise.all([1, 2, 3].map(() => backend.open({ ...STEADY, maxLen: 1000 })));
    });
    after(async () => {
      for (const c of nodes ?? []) await c.close();
      await backend?.cleanup();
    });

    it('gives every follower of a room one order: sequence 1, 2, 3..., increasing time, unique time-ordered msgids', async () => {
      const room = unique('#Order');
      const got = nodes.map((c) => collect(c));
      const watcher = await backend.open(STEADY);
      const watched = collect(watcher);
      for (const c of [...nodes, watcher]) assert.equal(await c.bus.follow(room), 0);
      const per = 40;
      const stamps = await Promise.all(nodes.flatMap((c, n) => Array.from({ length: per }, (_, i) => c.bus.publish(room, message(c, room, `${n}:${i}`)))));
      assert.deepEqual(stamps.map((s) => s.seq).sort((x, y) => x - y), Array.from({ length: 3 * per }, (_, i) => i + 1));
      const total = 3 * per;
      for (const g of [...got, watched]) await waitFor(() => events(g, room.toLowerCase()).length >= total, 5000, 'deliveries');
      const reference = events(watched, room.toLowerCase());
      assert.deepEqual(reference.map((d) => d.stamp.seq), Array.from({ length: total }, (_, i) => i + 1));
      for (let i = 1; i < total; i++) {
        assert.ok(reference[i]!.stamp.time > reference[i - 1]!.stamp.time, 'time strictly increases');
        assert.ok(reference[i]!.stamp.msgid > reference[i - 1]!.stamp.msgid, 'msgids sort as the log does');
      }
      assert.equal(new Set(reference.map((d) => d.stamp.msgid)).size, total);
      for (const [n, g] of got.entries()) {
        const mine = events(g, room.toLowerCase());
        assert.deepEqual(mine.map((d) => d.stamp.msgid), reference.map((d) => d.stamp.msgid), 'same order on every node');
        assert.deepEqual(mine.filter((d) => d.own).map((d) => d.event.kind === 'message' && d.event.text.split(':')[0]), Array(per).fill(String(n)));
        // Each node's own messages appear in the order it published them.
        const own = mine.filter((d) => d.own).map((d) => (d.event.kind === 'message' ? Number(d.event.text.split(':')[1]) : -1));
        assert.deepEqual(own, [...own].sort((x, y) => x - y));
      }
      assert.equal(reference.every((d) => !d.own), true);
      await watcher.close();
      for (const c of nodes) await c.bus.unfollow(room);
    });

    it('catches up exactly from a remembered position: nothing missed, nothing twice', async () => {
      const room = unique('#catch');
      const [pub, sub] = [nodes[0]!, nodes[1]!];
      const got = collect(sub);
      await sub.bus.follow(room);
      for (let i = 0; i < 5; i++) await pub.bus.publish(room, message(pub, room, `m${i}`));
      await waitFor(() => texts(got, room).length === 5, 3000, 'first five');
      const pos = await sub.bus.unfollow(room);
      assert.equal(pos, 5);
      assert.equal(sub.bus.position(room), undefined);
      for (let i = 5; i < 12; i++) await pub.bus.publish(room, message(pub, room, `m${i}`));
      assert.equal(await sub.bus.follow(room, pos), 5);
      const more = pub.bus.publish(room, message(pub, room, 'm12'));
      await more;
      await waitFor(() => texts(got, room).length === 13, 3000, 'catch-up');
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(texts(got, room), Array.from({ length: 13 }, (_, i) => `m${i}`));
      assert.equal(sub.bus.position(room), 13);
      // Following without a position starts at the end.
      const late = nodes[2]!;
      const lateGot = collect(late);
      assert.equal(await late.bus.follow(room), 13);
      await pub.bus.publish(room, message(pub, room, 'm13'));
      await waitFor(() => texts(lateGot, room).length === 1, 3000, 'late follower');
      assert.deepEqual(texts(lateGot, room), ['m13']);
      assert.deepEqual(late.bus.following().includes(room), true);
      await sub.bus.unfollow(room);
      await late.bus.unfollow(room);
    });

    it('lag(): per followed log, what is known to exist minus what was delivered; the largest and the sum', async () => {
      const room = unique('#lag');
      const [pub] = [nodes[0]!];
      for (let i = 0; i < 5; i++) await pub.bus.publish(room, message(pub, room, `l${i}`));
      const sub = await backend.open(STEADY);
      assert.deepEqual(sub.bus.lag(), { max: 0, total: 0 });
      // One read brings all five; while each is handed over, the ones after it are known and not delivered.
      const seen: { max: number; total: number }[] = [];
      sub.bus.onDelivery((d) => {
        if (d.type === 'event' && 'room' in d.log) seen.push(sub.bus.lag());
      });
      await sub.bus.follow(room, 0);
      await waitFor(() => seen.length === 5, 3000, 'five deliveries');
      assert.deepEqual(seen, [4, 3, 2, 1, 0].map((n) => ({ max: n, total: n })));
      assert.deepEqual(sub.bus.lag(), { max: 0, total: 0 });
      await sub.close();
    });

    it('a follow that starts while another node publishes: everything after its start, once, in order', async () => {
      const [publisher, follower] = [nodes[0]!, nodes[1]!];
      const got = collect(follower);
      for (let round = 0; round < 10; round++) {
        const room = unique('#busy');
        await publisher.bus.publish(room, message(publisher, room, 'first'));
        // Notices arrive while the follow subscribes and reads the head.
        const burst = Promise.all(Array.from({ length: 20 }, (_, i) => publisher.bus.publish(room, message(publisher, room, `b${i}`))));
        const from = await follower.bus.follow(room);
        await burst;
        await publisher.bus.publish(room, message(publisher, room, 'last'));
        await waitFor(() => texts(got, room).at(-1) === 'last', 3000, `round ${round}`);
        const seqs = events(got, room).map((d) => d.stamp.seq);
        assert.deepEqual(seqs, Array.from({ length: 22 - from }, (_, i) => from + 1 + i), `round ${round}: from ${from}`);
        await follower.bus.unfollow(room);
      }
    });

    it('caughtUp: true once delivery reached the log as it is now, publishes of others included; false for a room not followed', async () => {
      const room = unique('#CaughtUp');
      const [a, b] = nodes as [Cluster, Cluster];
      const got = collect(a);
      assert.equal(await a.bus.caughtUp(room, 200), false, 'not followed');
      await a.bus.follow(room);
      assert.equal(await a.bus.caughtUp(room, 1000), true, 'an empty log');
      for (let i = 0; i < 20; i++) await b.bus.publish(room, message(b, room, `b:${i}`));
      // Without waiting for any notice: caughtUp itself reads the end and waits for delivery.
      assert.equal(await a.bus.caughtUp(room, 5000), true);
      assert.equal(events(got, room.toLowerCase()).length, 20);
      await a.bus.unfollow(room);
      assert.equal(await a.bus.caughtUp(room, 200), false, 'unfollowed');
    });

    it('caps the stream and tells a follower that fell behind it as a gap', async () => {
      const small = await backend.open({ ...STEADY, maxLen: 20 });
      const room = unique('#cap');
      for (let i = 0; i < 300; i++) await small.bus.publish(room, message(small, room, `c${i}`));
      const length = await backend.logLength(room);
      assert.ok(length >= 20 && length < 300, `stream holds ${length}`);
      const reader = nodes[1]!;
      const got = collect(reader);
      await reader.bus.follow(room, 0);
      await waitFor(() => texts(got, room).length === length, 3000, 'tail');
      const mine = got.filter((d) => 'room' in d.log && d.log.room === room);
      assert.deepEqual(mine[0], { type: 'gap', log: { room }, from: 1, to: 300 - length, reason: 'trimmed' });
      assert.deepEqual(texts(got, room), Array.from({ length }, (_, i) => `c${300 - length + i}`));
      await reader.bus.unfollow(room);
      await small.close();
    });

    it('makes msgids unique across rooms and nodes', async () => {
      const rooms = Array.from({ length: 10 }, () => unique('#ids'));
      const stamps = await Promise.all(rooms.flatMap((room) => nodes.map((c) => c.bus.publish(room, message(c, room, 'x')))));
      assert.equal(new Set(stamps.map((s) => s.msgid)).size, stamps.length);
      for (const s of stamps) assert.match(s.msgid, /^[0-9a-v]{9}/);
    });

    it('delivers to a node inbox once, own sends included', async () => {
      const [a, b] = [nodes[0]!, nodes[1]!];
      const got = collect(b);
      const kill: ClusterEvent = { v: 1, kind: 'kill', origin: a.nodes.id, uid: `${b.nodes.id}000001`, by: 'oper', reason: 'test' };
      await a.bus.send(b.nodes.id, kill);
      await b.bus.send(b.nodes.id, { ...kill, origin: b.nodes.id, reason: 'self' });
      const inbox = () => got.filter((d): d is EventDelivery => d.type === 'event' && 'node' in d.log);
      await waitFor(() => inbox().length >= 2, 3000, 'inbox');
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(inbox().map((d) => [d.event.kind === 'kill' && d.event.reason, d.own, d.stamp.seq > 0]), [['test', false, true], ['self', true, true]]);
      assert.ok(inbox()[1]!.stamp.seq > inbox()[0]!.stamp.seq);
    });

    it('puts a state change announcement in its place among the messages', async () => {
      const [a, b] = [nodes[0]!, nodes[1]!];
      const room = unique('#seqjoin');
      const got = collect(b);
      await b.bus.follow(room);
      await a.bus.publish(room, message(a, room, 'before'));
      const uid = a.nodes.newUid();
      await a.state.addUser({ uid, nick: unique('j'), node: a.nodes.id, user: 'u', host: 'h', realname: 'r', account: null, away: null, since: 0, modes: '', secure: false });
      const join = await a.state.join(room, uid, {
        flags: 0, create: { fields: {}, flags: 1 },
        announce: { v: 1, kind: 'join', origin: a.nodes.id, uid, source: 'j!u@h', account: null, realname: 'r', flags: 1 },
      });
      assert.equal(join.ok && join.stamp?.seq, 2);
      await a.bus.publish(room, message(a, room, 'after'));
      await waitFor(() => events(got, room).length === 3, 3000, 'three');
      assert.deepEqual(events(got, room).map((d) => d.event.kind), ['message', 'join', 'message']);
      await b.bus.unfollow(room);
    });

    it('skips events of kinds it does not know, keeping their place', async () => {
      const [a, b] = [nodes[0]!, nodes[1]!];
      const room = unique('#future');
      const got = collect(b);
      await b.bus.follow(room);
      await a.bus.publish(room, { v: 2, kind: 'hologram', origin: a.nodes.id } as unknown as ClusterEvent);
      await a.bus.publish(room, message(a, room, 'known'));
      await waitFor(() => texts(got, room).length === 1, 3000, 'known');
      assert.equal(events(got, room)[0]!.stamp.seq, 2);
      assert.equal(b.bus.position(room), 2);
      await b.bus.unfollow(room);
    });

    it('refuses to publish for a fenced node', async () => {
      const c = await backend.open(STEADY);
      await backend.expireLease(c.nodes.id);
      await assert.rejects(c.bus.publish(unique('#f'), message(c, '#f', 'x')), FencedError);
      await assert.rejects(c.bus.send(nodes[0]!.nodes.id, message(c, 'x', 'x')), FencedError);
      await c.abandon();
    });
  });
}
