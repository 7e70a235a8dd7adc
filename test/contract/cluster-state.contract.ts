/**
 * The SharedState contract (src/cluster/state.ts), checked against every implementation:
 * nick claims and renames with one winner, rooms decided by compare-and-set on a version, the
 * member limit counted atomically, connection counts, and names that cannot reach other keys.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Cluster } from '../../src/cluster/cluster.js';
import { ClusterInputError } from '../../src/cluster/keys.js';
import { collect, STEADY, unique, userOf, waitFor, type ClusterBackend } from './cluster-backend.js';

const OP = 1;
const VOICE = 2;

export function clusterStateContract(name: string, make: () => Promise<ClusterBackend>, skip: string | false = false): void {
  describe(`SharedState contract: ${name}`, { skip }, () => {
    let backend: ClusterBackend;
    let a: Cluster;
    let b: Cluster;
    before(async () => {
      backend = await make();
      a = await backend.open(STEADY);
      b = await backend.open(STEADY);
    });
    after(async () => {
      await a?.close();
      await b?.close();
      await backend?.cleanup();
    });

    async function member(c: Cluster, nick = unique('m')): Promise<string> {
      const user = userOf(c, nick);
      assert.equal((await c.state.addUser(user)).ok, true);
      return user.uid;
    }

    it('a nick raced for from two nodes has exactly one owner', async () => {
      const nick = unique('Race');
      const claims = Array.from({ length: 60 }, (_, i) => {
        const c = i % 2 ? a : b;
        return c.state.addUser(userOf(c, i % 3 ? nick.toUpperCase() : nick));
      });
      const results = await Promise.all(claims);
      const winners = results.filter((r) => r.ok);
      assert.equal(winners.length, 1);
      const owner = await a.state.userByNick(nick.toLowerCase());
      assert.ok(owner);
      for (const r of results) if (!r.ok) assert.deepEqual(r, { ok: false, reason: 'in-use', holder: owner.uid });
      assert.deepEqual(await b.state.user(owner.uid), owner);
    });

    it('keeps the record as given and lists users in bounded pages', async () => {
      const user = { ...userOf(a, unique('Rec')), account: 'acct', away: 'gone fishing' };
      assert.equal((await a.state.addUser(user)).ok, true);
      assert.deepEqual(await b.state.userByNick(user.nick), user);
      assert.equal((await a.state.addUser({ ...userOf(a, unique('dup')), uid: user.uid })).ok, false, 'a uid is recorded once');
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let pages = 0; pages < 100; pages++) {
        const page = await a.state.listUsers(cursor, 3);
        assert.ok(page.users.length <= 3);
        seen.push(...page.users.map((u) => u.uid));
        cursor = page.next;
        if (cursor === null) break;
      }
      assert.deepEqual(seen, [...seen].sort());
      assert.equal(new Set(seen).size, seen.length);
      assert.equal(seen.length, await a.state.countUsers());
      assert.ok(seen.includes(user.uid));
    });

    it('renames atomically: one of two racing renames wins, the loser keeps its nick, the old nick is free', async () => {
      const [n1, n2, target] = [unique('one'), unique('two'), unique('Target')];
      const u1 = await member(a, n1);
      const u2 = await member(b, n2);
      const [r1, r2] = await Promise.all([a.state.renameUser(u1, target), b.state.renameUser(u2, target)]);
      assert.equal([r1, r2].filter((r) => r.ok).length, 1);
      const winner = r1.ok ? u1 : u2;
      const [loser, loserNick, winnerOld] = r1.ok ? [u2, n2, n1] : [u1, n1, n2];
      assert.equal((await a.state.userByNick(target))?.uid, winner);
      assert.equal((await a.state.userByNick(loserNick))?.uid, loser);
      assert.equal(await a.state.userByNick(winnerOld), null);
      assert.equal((await (winner === u1 ? b : a).state.addUser(userOf(winner === u1 ? b : a, winnerOld))).ok, true, 'old nick claimable');
      // Case only: always allowed; a held nick: refused, nothing changed.
      const owner = winner === u1 ? a : b;
      assert.equal((await owner.state.renameUser(winner, target.toUpperCase())).ok, true);
      assert.equal((await a.state.user(winner))?.nick, target.toUpperCase());
      const refused = await owner.state.renameUser(winner, loserNick);
      assert.deepEqual(refused, { ok: false, reason: 'in-use', holder: loser });
      assert.equal((await a.state.userByNick(target))?.uid, winner);
      // Only the user's own node may change it.
      assert.deepEqual(await (owner === a ? b : a).state.renameUser(winner, unique('x')), { ok: false, reason: 'not-owner' });
      assert.deepEqual(await a.state.renameUser(`${a.nodes.id}zzzzzz`, unique('x')), { ok: false, reason: 'no-such-user' });
    });

    it('updates details and removes a user with its nick and memberships, announcing to its rooms', async () => {
      const uid = await member(a);
      const room = unique('#rm');
      assert.equal((await a.state.join(room, uid, { flags: 0, create: { fields: {}, flags: OP } })).ok, true);
      const keep = await member(b);
      assert.equal((await b.state.join(room, keep, { flags: 0 })).ok, true);
      assert.equal((await a.state.updateUser(uid, { away: 'lunch', account: 'acc' })).ok, true);
      assert.equal((await b.state.user(uid))?.away, 'lunch');
      assert.equal((await a.state.updateUser(uid, { away: null })).ok, true);
      assert.equal((await b.state.user(uid))?.away, null);
      assert.deepEqual(await a.state.roomsOf(uid), [room]);
      const nick = (await a.state.user(uid))!.nick;
      const removed = await a.state.removeUser(uid, { v: 1, kind: 'quit', origin: a.nodes.id, uid, nick, reason: 'bye' });
      assert.deepEqual(removed?.rooms, [room]);
      assert.equal(removed?.stamps.length, 1);
      assert.equal(await a.state.user(uid), null);
      assert.equal(await a.state.userByNick(nick), null);
      assert.deepEqual([...(await a.state.room(room))!.members.keys()], [keep]);
      assert.equal(await a.state.removeUser(uid), null);
    });

    it('creates a room on first join, refuses a stale version, and removes it when the last member leaves', async () => {
      const room = unique('#Room');
      const [u1, u2, u3] = [await member(a), await member(b), await member(b)];
      const created = await a.state.join(room, u1, { flags: 0, expectVersion: null, create: { fields: { modes: 'nt' }, flags: OP } });
      assert.deepEqual(created, { ok: true, created: true, version: 1, count: 1, flags: OP });
      const snap = await b.state.room(room.toUpperCase());
      assert.equal(snap?.name, room);
      assert.equal(snap?.version, 1);
      assert.equal(snap?.fields.modes, 'nt');
      // Two racing creators: the second sees the room and must check it again.
      const late = await b.state.join(room, u2, { flags: 0, expectVersion: null, create: { fields: {}, flags: OP } });
      assert.equal(late.ok, false);
      assert.equal(!late.ok && late.reason, 'stale');
      assert.equal(!late.ok && late.reason === 'stale' && late.room?.version, 1);
      assert.deepEqual(await b.state.join(room, u2, { flags: 0, expectVersion: 1 }), { ok: true, created: false, version: 1, count: 2, flags: 0 });
      assert.deepEqual(await b.state.join(room, u2, { flags: 0 }), { ok: false, reason: 'already-member' });
      assert.deepEqual(await b.state.join(unique('#none'), u2, { flags: 0 }), { ok: false, reason: 'absent' });
      // KICK: the actor needs one of the flags.
      assert.equal((await b.state.join(room, u3, { flags: 0 })).ok, true);
      assert.deepEqual(await b.state.leave(room, u3, { by: { uid: u2, anyOf: OP } }), { ok: false, reason: 'not-allowed' });
      assert.equal((await a.state.leave(room, u3, { by: { uid: u1, anyOf: OP } })).ok, true);
      assert.deepEqual(await a.state.leave(room, u3), { ok: false, reason: 'not-member' });
      // Members' flags change as bits (MODE +o/+v), checked against the actor like any change.
      assert.deepEqual(await b.state.changeRoom(room, { members: { [u1]: { add: 0, remove: OP } }, by: { uid: u2, anyOf: OP } }), { ok: false, reason: 'not-allowed' });
      assert.equal((await b.state.changeRoom(room, { members: { [u2]: { add: OP, remove: 0 } }, by: { uid: u1, anyOf: OP } })).ok, true);
      assert.equal((await a.state.room(room))?.members.get(u2), OP);
      assert.deepEqual(await a.state.leave(room, u1), { ok: true, remaining: 1 });
      assert.deepEqual(await b.state.leave(room, u2), { ok: true, remaining: 0 });
      assert.equal(await a.state.room(room), null);
    });

    it("reads a room with its members' details and its log's position in one step", async () => {
      const room = unique('#snap');
      const away = { ...userOf(a, unique('Snap')), account: 'acct', away: 'out' };
      assert.equal((await a.state.addUser(away)).ok, true);
      const plain = await member(b);
      const join = (uid: string) => ({ v: 1 as const, origin: 'x', kind: 'join' as const, uid, source: 's', account: null, realname: '', flags: 0 });
      const first = await a.state.join(room, away.uid, { flags: 0, create: { fields: {}, flags: OP }, announce: join(away.uid) });
      assert.equal((await b.state.join(room, plain, { flags: 0 })).ok, true);
      const snap = (await b.state.room(room))!;
      assert.equal(snap.seq, first.ok ? first.stamp!.seq : -1, 'the join without announce did not move the log');
      assert.deepEqual(snap.users.get(away.uid), { nick: away.nick, user: away.user, host: away.host, realname: away.realname, account: 'acct', away: 'out' });
      assert.equal(snap.users.get(plain)?.account, null);
      assert.equal(snap.users.get(plain)?.away, null);
      const lean = (await b.state.room(room, { details: false }))!;
      assert.deepEqual([lean.users.size, lean.members.size, lean.seq], [0, 2, snap.seq]);
      await a.bus.publish(room, { v: 1, origin: a.nodes.id, kind: 'quit', uid: plain, nick: 'n', reason: 'r' });
      assert.equal((await a.state.room(room))!.seq, snap.seq + 1);
    });

    it('a join deletes the fields it uses up in its own step: the version goes up only when one existed', async () => {
      const room = unique('#useup');
      const [op, guest, other] = [await member(a), await member(b), await member(b)];
      assert.equal((await a.state.join(room, op, { flags: 0, create: { fields: {}, flags: OP } })).ok, true);
      const invited = await a.state.changeRoom(room, { set: { [`i:${guest}`]: '1' } });
      assert.ok(invited.ok);
      const before = (await b.state.room(room))!.version;
      await assert.rejects(b.state.join(room, guest, { flags: 0, del: ['_v'] }), /not allowed/);
      const used = await b.state.join(room, guest, { flags: 0, expectVersion: before, del: [`i:${guest}`] });
      assert.deepEqual(used.ok && [used.version, used.count], [before + 1, 2]);
      const after = (await a.state.room(room))!;
      assert.equal(`i:${guest}` in after.fields, false);
      assert.equal(after.version, before + 1);
      // Nothing to delete: the version stays.
      const plain = await b.state.join(room, other, { flags: 0, expectVersion: after.version, del: [`i:${other}`] });
      assert.deepEqual(plain.ok && plain.version, after.version);
      // The invitation is gone: joining again after a KICK finds no invitation to check against.
      await a.state.leave(room, guest);
      assert.equal(`i:${guest}` in (await a.state.room(room))!.fields, false);
    });

    it('counts the member limit atomically: racing joins never exceed it', async () => {
      const room = unique('#full');
      const op = await member(a);
      assert.equal((await a.state.join(room, op, { flags: 0, create: { fields: { limit: '4' }, flags: OP } })).ok, true);
      const joiners = await Promise.all(Array.from({ length: 12 }, (_, i) => member(i % 2 ? a : b)));
      const results = await Promise.all(joiners.map((uid, i) => (i % 2 ? a : b).state.join(room, uid, { flags: 0 })));
      assert.equal(results.filter((r) => r.ok).length, 3);
      for (const r of results) if (!r.ok) assert.deepEqual(r, { ok: false, reason: 'full', count: 4 });
      assert.equal((await a.state.room(room))?.members.size, 4);
      const exempt = await member(a);
      assert.equal((await a.state.join(room, exempt, { flags: 0, ignoreLimit: true })).ok, true);
    });

    it('orders room changes by version: of two CAS changes at one version one wins, and the log follows the versions', async () => {
      const room = unique('#cas');
      const op = await member(a);
      assert.equal((await a.state.join(room, op, { flags: 0, create: { fields: {}, flags: OP } })).ok, true);
      const got = collect(b);
      await b.bus.follow(room);
      const change = (c: Cluster, limit: string) => c.state.changeRoom(room, {
        expectVersion: 1, set: { limit }, by: { uid: op, anyOf: OP },
        announce: { v: 1, kind: 'room', origin: c.nodes.id, by: 'op!u@h', set: { limit }, del: [] },
      });
      const [ra, rb] = await Promise.all([change(a, '10'), change(b, '20')]);
      assert.equal([ra, rb].filter((r) => r.ok).length, 1);
      const loser = ra.ok ? rb : ra;
      assert.equal(!loser.ok && loser.reason, 'stale');
      const current = (await a.state.room(room))!;
      assert.equal(current.version, 2);
      assert.equal(current.fields.limit, ra.ok ? '10' : '20');
      assert.deepEqual(!loser.ok && loser.reason === 'stale' && loser.room.fields, current.fields);
      // Unconditional changes from both nodes: one version each, consecutive, in log order.
      const many = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).state.changeRoom(room, {
        set: { [`b:mask${i}!*@*`]: 'op 0' }, announce: { v: 1, kind: 'room', origin: (i % 2 ? a : b).nodes.id, by: 'op', set: {}, del: [] },
      })));
      const versions = many.map((r) => (r.ok ? r.version : -1)).sort((x, y) => x - y);
      assert.deepEqual(versions, Array.from({ length: 20 }, (_, i) => i + 3));
      for (const r of many) assert.equal(r.ok && r.stamp?.version, r.ok && r.version);
      await waitForCount(() => got.filter((d) => d.type === 'event').length, 21);
      const logged = got.flatMap((d) => (d.type === 'event' ? [d.stamp.version!] : []));
      assert.deepEqual(logged, [...logged].sort((x, y) => x - y));
      assert.equal(Object.keys((await b.state.room(room))!.fields).filter((f) => f.startsWith('b:')).length, 20);
      const del = await a.state.changeRoom(room, { del: ['limit'], by: { uid: op, anyOf: OP } });
      assert.equal(del.ok, true);
      assert.equal((await b.state.room(room))!.fields.limit, undefined);
      assert.deepEqual(await b.state.changeRoom(room, { set: { modes: 'i' }, by: { uid: `${b.nodes.id}zzzzzz`, anyOf: OP } }), { ok: false, reason: 'not-allowed' });
      assert.deepEqual(await b.state.changeRoom(unique('#gone'), { set: { modes: 'i' } }), { ok: false, reason: 'absent' });
      await b.bus.unfollow(room);
    });

    it("changes members' flags as bits: racing +o and +v on one member from two nodes both hold", async () => {
      const room = unique('#bits');
      const [op1, op2, target] = [await member(a), await member(b), await member(a)];
      assert.equal((await a.state.join(room, op1, { flags: 0, create: { fields: {}, flags: OP } })).ok, true);
      assert.equal((await b.state.join(room, op2, { flags: OP })).ok, true);
      assert.equal((await a.state.join(room, target, { flags: 0 })).ok, true);
      for (let round = 0; round < 10; round++) {
        const results = await Promise.all([
          a.state.changeRoom(room, { members: { [target]: { add: OP, remove: 0 } }, by: { uid: op1, anyOf: OP } }),
          b.state.changeRoom(room, { members: { [target]: { add: VOICE, remove: 0 } }, by: { uid: op2, anyOf: OP } }),
        ]);
        assert.ok(results.every((r) => r.ok));
        assert.equal((await a.state.room(room))?.members.get(target), OP | VOICE);
        await Promise.all([
          a.state.changeRoom(room, { members: { [target]: { add: 0, remove: OP } }, by: { uid: op1, anyOf: OP } }),
          b.state.changeRoom(room, { members: { [target]: { add: 0, remove: VOICE } }, by: { uid: op2, anyOf: OP } }),
        ]);
        assert.equal((await b.state.room(room))?.members.get(target), 0);
      }
      // A uid that is not a member is skipped, the rest of the change is made.
      const outsider = await member(b);
      const mixed = await a.state.changeRoom(room, { set: { topic: 't' }, members: { [outsider]: { add: OP, remove: 0 } }, by: { uid: op1, anyOf: OP } });
      assert.equal(mixed.ok, true);
      const snap = await a.state.room(room);
      assert.equal(snap?.fields.topic, 't');
      assert.equal(snap?.members.has(outsider), false);
      await assert.rejects(a.state.changeRoom(room, { members: { 'NOT A UID': { add: OP, remove: 0 } } }));
    });

    it('renames a room in one step: state, members and their room lists move, the old name redirects, the event carries the new log position', async () => {
      const from = unique('#Old');
      const to = unique('#New');
      const [op, other] = [await member(a), await member(b)];
      assert.equal((await a.state.join(from, op, { flags: 0, create: { fields: { modes: 'nt', topic: 't' }, flags: OP } })).ok, true);
      assert.equal((await b.state.join(from, other, { flags: 0 })).ok, true);
      // The new name's log already has entries (a room of that name ended earlier today).
      await a.bus.publish(to, { v: 1, origin: a.nodes.id, kind: 'quit', uid: other, nick: 'n', reason: 'earlier' });
      const got = collect(b);
      await b.bus.follow(from);
      const announce = (by: string) => ({ v: 1 as const, origin: a.nodes.id, kind: 'rename' as const, from, name: to, by: 'op!u@h', actor: by, account: null, reason: 'tidy', set: { renamed: '5' } });
      const rename = (c: Cluster, by: string, name = to, redirectSeconds = 60) =>
        c.state.renameRoom(from, name, { by: { uid: by, anyOf: OP }, set: { renamed: '5' }, redirectSeconds, announce: announce(by) });
      assert.deepEqual(await rename(b, other), { ok: false, reason: 'not-allowed' });
      const done = await rename(a, op);
      assert.equal(done.ok, true);
      assert.equal(done.ok && done.after, 1);
      assert.equal(done.ok && done.version, 2);
      assert.equal(await b.state.room(from), null);
      const moved = (await b.state.room(to.toUpperCase()))!;
      assert.deepEqual([moved.name, moved.version, moved.fields.topic, moved.fields.renamed, moved.seq], [to, 2, 't', '5', 1]);
      assert.deepEqual([...moved.members].sort(), [[op, OP], [other, 0]].sort());
      assert.deepEqual(await b.state.roomsOf(other), [to]);
      assert.deepEqual((await a.state.memberships(op)).map((m) => m.name), [to]);
      const listed = (await a.state.listRooms(null, 10_000)).rooms.map((r) => r.name);
      assert.equal(listed.includes(to) && !listed.includes(from), true);
      // The event is in the old log, with the new log's position added.
      await waitFor(() => got.some((d) => d.type === 'event' && d.event.kind === 'rename'), 5000, 'the rename event');
      const event = got.find((d) => d.type === 'event' && d.event.kind === 'rename');
      assert.equal(event?.type === 'event' && event.stamp.seq === (done.ok && done.stamp.seq), true);
      assert.deepEqual(event?.type === 'event' && event.event, { ...announce(op), after: 1 });
      await b.bus.unfollow(from);
      // The old name redirects: a join that would create it is told where the room went.
      const joiner = await member(b);
      assert.deepEqual(await b.state.join(from, joiner, { flags: 0, expectVersion: null, create: { fields: {}, flags: OP } }), { ok: false, reason: 'renamed', name: to });
      assert.deepEqual(await a.state.renameRoom(from, unique('#x'), { by: { uid: op, anyOf: OP }, redirectSeconds: 0, announce: announce(op) }), { ok: false, reason: 'absent' });
      // A name in use, or redirecting to another room, is refused; renaming back is not.
      const busy = unique('#Busy');
      assert.equal((await b.state.join(busy, joiner, { flags: 0, create: { fields: {}, flags: OP } })).ok, true);
      const again = (name: string, redirectSeconds = 60) => a.state.renameRoom(to, name, { by: { uid: op, anyOf: OP }, redirectSeconds, announce: { ...announce(op), from: to, name } });
      assert.deepEqual(await again(busy), { ok: false, reason: 'in-use' });
      assert.deepEqual(await b.state.renameRoom(busy, from, { by: { uid: joiner, anyOf: OP }, redirectSeconds: 0, announce: { ...announce(joiner), from: busy, name: from } }), { ok: false, reason: 'in-use' });
      const back = await again(from.toUpperCase(), 0);
      assert.equal(back.ok, true);
      assert.equal((await a.state.room(from))?.name, from.toUpperCase());
      // A change of case keeps the log: nothing moves, `after` is 0.
      const cased = await a.state.renameRoom(from, from.toLowerCase(), { by: { uid: op, anyOf: OP }, redirectSeconds: 60, announce: { ...announce(op), from: from.toUpperCase(), name: from.toLowerCase() } });
      assert.equal(cased.ok && cased.after, 0);
      assert.equal((await b.state.room(from))?.name, from.toLowerCase());
      assert.deepEqual(await b.state.roomsOf(other), [from.toLowerCase()]);
      // Renamed back without a redirect: `to` is free again.
      assert.equal((await b.state.join(to, joiner, { flags: 0, create: { fields: {}, flags: OP } })).ok, true);
      await assert.rejects(a.state.renameRoom(from, `#${'z'.repeat(300)}`, { by: { uid: op, anyOf: OP }, redirectSeconds: 0, announce: announce(op) }), ClusterInputError);
    });

    it('lists rooms in bounded pages', async () => {
      const uid = await member(a);
      const names = [unique('#ListA'), unique('#listb'), unique('#LISTC')];
      // LIST's creation-time filter (ELIST=C) reads `created`; one room has none, one a broken one.
      const created: Record<string, string>[] = [{ created: '1700000000' }, {}, { created: 'yesterday' }];
      for (const [i, room] of names.entries()) assert.equal((await a.state.join(room, uid, { flags: 0, create: { fields: created[i]!, flags: OP } })).ok, true);
      const seen: { name: string; count: number }[] = [];
      let cursor: string | null = null;
      for (let pages = 0; pages < 200; pages++) {
        const page = await b.state.listRooms(cursor, 2);
        assert.ok(page.rooms.length <= 2);
        seen.push(...page.rooms);
        cursor = page.next;
        if (cursor === null) break;
      }
      const createdAt = [1700000000, null, null];
      for (const [i, room] of names.entries()) assert.deepEqual(seen.find((r) => r.name === room), { name: room, count: 1, modes: '', topic: null, created: createdAt[i] });
      assert.equal(new Set(seen.map((r) => r.name)).size, seen.length);
    });

    it('lists rooms created and removed between pages as they are at each page', async () => {
      const uid = await member(a);
      const base = unique('#turn');
      const names = [`${base}-b`, `${base}-d`, `${base}-f`];
      for (const room of names) assert.equal((await a.state.join(room, uid, { flags: 0, create: { fields: {}, flags: OP } })).ok, true);
      const after = async (cursor: string | null) => {
        const seen: string[] = [];
        for (let pages = 0; pages < 500 && (pages === 0 || cursor !== null); pages++) {
          const page: Awaited<ReturnType<Cluster['state']['listRooms']>> = await b.state.listRooms(cursor, 1);
          seen.push(...page.rooms.map((r) => r.name));
          cursor = page.next;
        }
        return seen.filter((name) => name.startsWith(base));
      };
      // Walk up to the first of ours, then change the rooms behind and ahead of the cursor.
      let cursor: string | null = null;
      for (let pages = 0; pages < 500; pages++) {
        const page: Awaited<ReturnType<Cluster['state']['listRooms']>> = await b.state.listRooms(cursor, 1);
        cursor = page.next;
        if (page.rooms[0]?.name === names[0] || cursor === null) break;
      }
      assert.equal((await a.state.leave(names[1]!, uid)).ok, true);
      assert.equal((await a.state.join(`${base}-e`, uid, { flags: 0, create: { fields: {}, flags: OP } })).ok, true);
      assert.equal((await a.state.join(`${base}-a`, uid, { flags: 0, create: { fields: {}, flags: OP } })).ok, true);
      assert.deepEqual(await after(cursor), [`${base}-e`, `${base}-f`]);
    });

    it('lists each room with its modes and topic fields and its members on every node', async () => {
      const [u1, u2] = [await member(a), await member(b)];
      const room = unique('#Listed');
      const topic = JSON.stringify({ text: 'hello there', setBy: 'x', setAt: 1 });
      assert.equal((await a.state.join(room, u1, { flags: 0, create: { fields: { modes: 'nst', topic }, flags: OP } })).ok, true);
      assert.equal((await b.state.join(room, u2, { flags: 0 })).ok, true);
      const found = async () => {
        for (let cursor: string | null = null, pages = 0; pages < 500; pages++) {
          const page: Awaited<ReturnType<Cluster['state']['listRooms']>> = await a.state.listRooms(cursor, 50);
          const hit = page.rooms.find((r) => r.name === room);
          if (hit) return hit;
          cursor = page.next;
          if (cursor === null) break;
        }
        return undefined;
      };
      assert.deepEqual(await found(), { name: room, count: 2, modes: 'nst', topic, created: null });
      assert.equal((await b.state.changeRoom(room, { set: { modes: 'nt' }, del: ['topic'] })).ok, true);
      assert.deepEqual(await found(), { name: room, count: 2, modes: 'nt', topic: null, created: null });
      assert.deepEqual((await a.state.listRooms(null, 0)).rooms, []);
    });

    it('keeps user modes and TLS in the record and counts users, invisible users, operators and rooms network-wide', async () => {
      const before = await b.state.counts();
      const plain = await member(a);
      const hidden = { ...userOf(b, unique('Hid')), modes: 'i', secure: true };
      assert.equal((await b.state.addUser(hidden)).ok, true);
      assert.deepEqual(await a.state.user(hidden.uid), hidden);
      assert.deepEqual(await a.state.userByNick(hidden.nick), hidden);
      const room = unique('#counted');
      assert.equal((await a.state.join(room, plain, { flags: 0, create: { fields: {}, flags: OP } })).ok, true);
      assert.deepEqual(await a.state.counts(), { users: before.users + 2, invisible: before.invisible + 1, opers: before.opers, rooms: before.rooms + 1 });
      // Modes change as a whole; each change is counted once however often it is repeated.
      assert.equal((await b.state.updateUser(hidden.uid, { modes: 'io' })).ok, true);
      assert.equal((await b.state.updateUser(hidden.uid, { modes: 'io' })).ok, true);
      assert.equal((await a.state.updateUser(plain, { modes: 'o' })).ok, true);
      assert.deepEqual(await b.state.counts(), { users: before.users + 2, invisible: before.invisible + 1, opers: before.opers + 2, rooms: before.rooms + 1 });
      assert.equal((await b.state.user(hidden.uid))?.modes, 'io');
      const ghost = `${a.nodes.id}zzzzzz`;
      assert.deepEqual(await b.state.modesOf([hidden.uid, ghost, plain]), new Map([[hidden.uid, 'io'], [plain, 'o']]));
      assert.deepEqual(await b.state.modesOf([]), new Map());
      await assert.rejects(b.state.modesOf(['not a uid']), ClusterInputError);
      assert.deepEqual(await a.state.updateUser(hidden.uid, { modes: '' }), { ok: false, reason: 'not-owner' });
      assert.equal((await b.state.updateUser(hidden.uid, { modes: '', away: 'out' })).ok, true);
      assert.deepEqual(await a.state.counts(), { users: before.users + 2, invisible: before.invisible, opers: before.opers + 1, rooms: before.rooms + 1 });
      await a.state.removeUser(plain);
      await b.state.removeUser(hidden.uid);
      assert.deepEqual(await b.state.counts(), before, 'removal takes a user out of every count, and its emptied room too');
    });

    it("gives a user's rooms with its flags and each room's modes in one step", async () => {
      const [uid, other] = [await member(a), await member(b)];
      const [r1, r2] = [unique('#MemB'), unique('#mema')];
      assert.equal((await b.state.join(r1, other, { flags: 0, create: { fields: { modes: 'ns' }, flags: OP } })).ok, true);
      assert.equal((await a.state.join(r1, uid, { flags: VOICE })).ok, true);
      assert.equal((await a.state.join(r2, uid, { flags: 0, create: { fields: {}, flags: OP } })).ok, true);
      assert.deepEqual(await b.state.memberships(uid), [
        { name: r1, flags: VOICE, modes: 'ns' },
        { name: r2, flags: OP, modes: '' },
      ].sort((x, y) => (x.name < y.name ? -1 : 1)));
      assert.deepEqual(await b.state.memberships(`${a.nodes.id}zzzzzz`), []);
      await assert.rejects(b.state.memberships('not a uid'), ClusterInputError);
    });

    it('counts connections per address network-wide, with a limit that racing nodes cannot pass', async () => {
      const address = `2001:db8::${unique('')}`;
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).state.addConnection(address, 5)));
      assert.equal(results.filter((r) => r.ok).length, 5);
      assert.equal(await a.state.connections(address), 5);
      const mine = results.filter((r, i) => r.ok && i % 2 === 1).length;
      for (let i = 0; i < mine; i++) await a.state.removeConnection(address);
      assert.equal(await b.state.connections(address), 5 - mine);
      assert.equal(await a.state.removeConnection(address), 5 - mine, 'nothing of this node left to remove');
      assert.equal((await a.state.addConnection(address)).count, 6 - mine);
    });

    it('keeps hostile names to their own keys', async () => {
      const names = ['{tag}', 'a:b', 'nick:alice', '*', 'a b', '[x]?', '%41', 'A', 'ünï', '\u0001', `{${'x'.repeat(200)}}`];
      const uids: string[] = [];
      for (const nick of names) {
        const user = userOf(a, nick);
        assert.equal((await a.state.addUser(user)).ok, true, `claim ${JSON.stringify(nick)}`);
        uids.push(user.uid);
      }
      for (const [i, nick] of names.entries()) assert.equal((await b.state.userByNick(nick))?.uid, uids[i]);
      // '%41' is not 'A', and 'a:b' is not some other key's tail.
      assert.notEqual((await b.state.userByNick('%41'))?.uid, (await b.state.userByNick('a'))?.uid);
      const rooms = ['#{a}', '#a:members', '#a', '#x\u3000y', '&*'];
      for (const room of rooms) assert.equal((await a.state.join(room, uids[0]!, { flags: 0, create: { fields: { topic: room }, flags: OP } })).ok, true);
      for (const room of rooms) assert.equal((await b.state.room(room))?.fields.topic, room);
      assert.deepEqual(await a.state.roomsOf(uids[0]!), [...rooms].sort());
      await assert.rejects(a.state.addUser(userOf(a, 'x'.repeat(257))), ClusterInputError);
      await assert.rejects(a.state.join(`#${'y'.repeat(300)}`, uids[0]!, { flags: 0, create: { fields: {}, flags: 0 } }), ClusterInputError);
      await assert.rejects(a.state.userByNick(''), ClusterInputError);
      await assert.rejects(a.state.userByNick('\ud800'), ClusterInputError);
      await assert.rejects(a.state.user('abc:def'), ClusterInputError);
      await assert.rejects(a.state.join('#a', 'x y', { flags: 0 }), ClusterInputError);
      await assert.rejects(a.state.changeRoom('#a', { set: { _v: '9' } }), ClusterInputError);
      await assert.rejects(a.state.addConnection('x'.repeat(300)), ClusterInputError);
      // A huge value is fine: values are not keys.
      assert.equal((await a.state.changeRoom('#a', { set: { topic: 't'.repeat(10_000) } })).ok, true);
      assert.equal((await b.state.room('#a'))?.fields.topic?.length, 10_000);
    });
  });
}

async function waitForCount(count: () => number, want: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (count() < want) {
    if (Date.now() > deadline) throw new Error(`got ${count()} of ${want}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
