/**
 * The NodeLease contract (src/cluster/nodes.ts), checked against every implementation:
 * ids, fencing by the store's lease and by the node's own clock, a dead node found by its
 * peers and reaped by exactly one of them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Cluster } from '../../src/cluster/cluster.js';
import { FencedError, REAP_QUIT_REASON, type NodeEvent } from '../../src/cluster/nodes.js';
import { collect, FAST, unique, userOf, waitFor, type ClusterBackend } from './cluster-backend.js';

export function clusterNodesContract(name: string, make: () => Promise<ClusterBackend>, skip: string | false = false): void {
  describe(`NodeLease contract: ${name}`, { skip }, () => {
    let backend: ClusterBackend;
    before(async () => {
      backend = await make();
    });
    after(async () => {
      await backend?.cleanup();
    });

    it('gives each node a unique id, uids under it, and lists live peers', async () => {
      const a = await backend.open(FAST);
      const b = await backend.open(FAST);
      assert.notEqual(a.nodes.id, b.nodes.id);
      assert.match(a.nodes.id, /^[0-9a-v]{6}$/);
      const uids = new Set(Array.from({ length: 1000 }, () => a.nodes.newUid()));
      assert.equal(uids.size, 1000);
      for (const uid of uids) assert.ok(uid.startsWith(a.nodes.id));
      const peers = await a.nodes.peers();
      assert.ok(peers.includes(a.nodes.id) && peers.includes(b.nodes.id));
      assert.equal(a.nodes.live, true);
      await b.close();
      assert.ok(!(await a.nodes.peers()).includes(b.nodes.id), 'a node that left is not a peer');
      await a.close();
    });

    it('refuses a node whose lease was lost, and tells it once', async () => {
      const a = await backend.open(FAST);
      const events: NodeEvent[] = [];
      a.nodes.onEvent((e) => events.push(e));
      await backend.expireLease(a.nodes.id);
      await assert.rejects(a.state.addUser(userOf(a, unique('fenced'))), FencedError);
      await assert.rejects(a.bus.publish(unique('#fenced'), { v: 1, kind: 'quit', origin: a.nodes.id, uid: 'x', nick: 'x', reason: 'x' }), FencedError);
      await waitFor(() => events.some((e) => e.type === 'fenced'), 3000, 'fenced event');
      assert.equal(a.nodes.live, false);
      assert.equal(events.filter((e) => e.type === 'fenced').length, 1);
      // Fenced for good: the lease is not taken back.
      await new Promise((resolve) => setTimeout(resolve, 150));
      await assert.rejects(a.state.addConnection('192.0.2.1'), FencedError);
      await a.abandon();
    });

    it('fences itself by its own clock when it could not renew in time (a paused process)', async () => {
      const a = await backend.open(FAST);
      const events: NodeEvent[] = [];
      a.nodes.onEvent((e) => events.push(e));
      const until = Date.now() + (FAST.ttlMs ?? 400) + 100;
      while (Date.now() < until) {
        // The event loop is held past the lease's life, as SIGSTOP would hold the process.
      }
      assert.equal(a.nodes.live, false);
      await assert.rejects(a.state.addUser(userOf(a, unique('paused'))), FencedError);
      await waitFor(() => events.some((e) => e.type === 'fenced'), 2000, 'fenced event');
      await a.abandon();
    });

    it('finds a dead node and lets exactly one peer reap it: nicks freed, QUITs in each room, counts released', async () => {
      const dead = await backend.open(FAST);
      const peers = await Promise.all([backend.open(FAST), backend.open(FAST), backend.open(FAST)]);
      const watcher = peers[0]!;
      const reaped = new Map<string, NodeEvent[]>();
      for (const p of peers) {
        reaped.set(p.nodes.id, []);
        p.nodes.onEvent((e) => {
          if (e.type === 'reaped' && e.node === dead.nodes.id) reaped.get(p.nodes.id)!.push(e);
        });
      }
      const room = unique('#wake');
      const got = collect(watcher);
      const watcherUser = userOf(watcher, unique('w'));
      assert.equal((await watcher.state.addUser(watcherUser)).ok, true);
      assert.equal((await watcher.state.join(room, watcherUser.uid, { flags: 0, create: { fields: {}, flags: 1 } })).ok, true);
      await watcher.bus.follow(room);
      const nicks = Array.from({ length: 7 }, (_, i) => unique(`gone${i}`));
      // Two of them invisible, one an operator: LUSERS's counts must lose them with the reap.
      const users = nicks.map((nick, i) => ({ ...userOf(dead, nick), modes: ['io', 'i'][i] ?? '', account: i === 0 ? 'acct0' : null }));
      const countsBefore = await watcher.state.counts();
      for (const u of users) {
        assert.equal((await dead.state.addUser(u)).ok, true);
        assert.equal((await dead.state.join(room, u.uid, { flags: 0 })).ok, true);
      }
      const other = unique('#other');
      assert.equal((await dead.state.join(other, users[0]!.uid, { flags: 0, create: { fields: {}, flags: 1 } })).ok, true);
      assert.equal((await dead.state.addConnection('198.51.100.7')).ok, true);
      assert.equal((await dead.state.addConnection('198.51.100.7')).ok, true);
      assert.equal(await watcher.state.connections('198.51.100.7'), 2);

      const diedAt = Date.now();
      await dead.abandon();
      await waitFor(() => [...reaped.values()].some((events) => events.some((e) => e.type === 'reaped' && e.done)), 8000, 'reap');
      assert.ok(Date.now() - diedAt < 5000, 'reaped within a few lease lives');
      const reapers = [...reaped.entries()].filter(([, events]) => events.length > 0);
      assert.equal(reapers.length, 1, 'exactly one reaper');
      const batches = reapers[0]![1].flatMap((e) => (e.type === 'reaped' ? [e] : []));
      const gone = batches.flatMap((b) => b.users);
      assert.deepEqual(gone.map((u) => u.nick).sort(), [...nicks].sort());
      const first = gone.find((u) => u.uid === users[0]!.uid)!;
      assert.deepEqual(first.rooms.map((r) => r.room).sort(), [room, other].map((r) => r.toLowerCase()).sort());
      // Who each was, for WHOWAS on every node.
      const who = (u: { user: string; host: string; realname: string; account: string | null }) => [u.user, u.host, u.realname, u.account];
      for (const u of users) assert.deepEqual(who(gone.find((g) => g.uid === u.uid)!), who(u), u.nick);

      for (const nick of nicks) assert.equal(await watcher.state.userByNick(nick), null);
      assert.deepEqual(await watcher.state.counts(), countsBefore, 'users, invisible, operators and rooms counted as before the dead node joined');
      assert.equal((await watcher.state.addUser(userOf(watcher, nicks[0]!))).ok, true, 'a freed nick can be claimed');
      assert.deepEqual([...(await watcher.state.room(room))!.members.keys()], [watcherUser.uid]);
      assert.equal(await watcher.state.room(other), null, 'a room left empty is gone');
      assert.equal(await watcher.state.connections('198.51.100.7'), 0);
      assert.ok(!(await watcher.nodes.peers()).includes(dead.nodes.id));

      await waitFor(() => got.filter((d) => d.type === 'event' && d.event.kind === 'quit').length === nicks.length, 3000, 'QUITs');
      const quits = got.flatMap((d) => (d.type === 'event' && d.event.kind === 'quit' ? [d.event] : []));
      assert.deepEqual(quits.map((q) => q.nick).sort(), [...nicks].sort());
      for (const q of quits) assert.equal(q.reason, REAP_QUIT_REASON);
      // Another sweep reaps nothing more.
      assert.deepEqual(await peers[1]!.nodes.sweep(), []);
      await Promise.all(peers.map((p) => p.close()));
    });
  });
}
