/**
 * The Store contract (src/store/store.ts), checked against any implementation:
 *
 *   storeContract('SqliteStore', async () => openSqliteStore(dir), async () => rmSync(dir, ...));
 *
 * `open` is called more than once (the persistence test opens a second store while the first is
 * still open); every call must return a store over the same data. Every test uses its own
 * account, room and conversation names (with a random per-run prefix), so the suite also runs
 * against a database shared with other runs and never needs an empty one.
 *
 * Where the interface comments leave a detail open, the suite pins one reading:
 * - Order is bytewise/code-point on keys and msgids (SQLite BINARY, PostgreSQL COLLATE "C"):
 *   account list() order, and the msgid tie-break among messages with the same time.
 * - A time ref T: "before" is time < T, "after" is time > T (both strict); around(T) puts
 *   messages at exactly T in the later half. A msgid ref that is not in that conversation
 *   (unknown, or in another conversation) makes the query return [].
 * - around(msgid, limit=1) is just that message; otherwise each side gets about half
 *   (the two sides differ by at most one when neither runs out).
 * - targets(): a message at exactly start or end is outside the window; with more matches than
 *   `limit`, the ones closest to `start` are kept (the earliest when start < end, the latest when
 *   start > end), as between() does; results are ascending either way.
 * - prune: `olderThan` deletes time < olderThan; `keep` keeps the newest by (time, msgid);
 *   both together delete the union.
 * - Account delete also deletes the rooms it founded (a registration cannot lose its founder).
 * - A duplicate msgid within one batch is ignored too: the first one wins.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  dmKey,
  type AccountRecord,
  type HistoryRef,
  type RoomRegistration,
  type ServerBan,
  type StoredMessage,
  type Store,
} from '../../src/store/store.js';

/** 2026-01-01T00:00:00Z: history times are BASE + offsets. */
const BASE = 1_767_225_600_000;
const STEP = 1000;

export function storeContract(name: string, open: () => Promise<Store>, cleanup?: () => Promise<void>): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    const run = randomUUID().replaceAll('-', '').slice(0, 10);
    let seq = 0;
    /** A name no other test (or run) uses; lowercase, as folded keys are. */
    const unique = (label: string): string => `${label}-${run}-${++seq}`;

    before(async () => {
      store = await open();
    });
    after(async () => {
      await store?.close();
      await cleanup?.();
    });

    // ---- helpers --------------------------------------------------------------------------

    function account(key: string, overrides: Partial<AccountRecord> = {}): AccountRecord {
      return {
        name: key.toUpperCase(),
        key,
        passwordHash: `$scrypt$N=16384,r=8,p=1$c2FsdA$${key}`,
        scram: { salt: 'c2FsdHNhbHQ=', iterations: 4096, storedKey: `stored-${key}`, serverKey: `server-${key}` },
        email: `${key}@example.org`,
        createdAt: BASE + 123,
        ...overrides,
      };
    }

    function room(key: string, founder: string, overrides: Partial<RoomRegistration> = {}): RoomRegistration {
      return {
        name: `#${key.slice(1).toUpperCase()}`,
        key,
        founder,
        createdAt: BASE + 7,
        topic: { text: 'Welcome — to the room ✓', setBy: 'alice!a@host', setAt: BASE + 8 },
        modes: { flags: 'ntk', key: 's3cret', limit: 42 },
        bans: [
          { mask: '*!*@bad.example', setBy: 'alice', setAt: BASE + 9 },
          { mask: 'troll!*@*', setBy: 'bob', setAt: BASE + 10 },
        ],
        exceptions: [{ mask: '$a:trusted', setBy: 'alice', setAt: BASE + 11 }],
        inviteExceptions: [{ mask: '*!*@friends.example', setBy: 'bob', setAt: BASE + 12 }, { mask: '$a', setBy: 'bob', setAt: BASE + 13 }],
        operators: ['zed', 'alice', 'mallory'],
        ...overrides,
      };
    }

    function msg(conversation: string, msgid: string, time: number, extra: Partial<StoredMessage> = {}): StoredMessage {
      return {
        msgid,
        time,
        conversation,
        source: 'nick!user@host.example',
        account: null,
        command: 'PRIVMSG',
        target: conversation,
        text: `text of ${msgid}`,
        tags: {},
        ...extra,
      };
    }

    /** A new conversation with `n` messages, one every STEP ms from BASE, in random batches. */
    async function seed(n: number, label = '#hist'): Promise<{ conv: string; msgs: StoredMessage[] }> {
      const conv = unique(label);
      const msgs = Array.from({ length: n }, (_, i) =>
        msg(conv, `${conv}/m${String(i).padStart(4, '0')}`, BASE + i * STEP),
      );
      // Insert out of order, in two batches: order must come from (time, msgid), not insertion.
      const shuffled = [...msgs].reverse();
      await store.history.append(shuffled.slice(0, Math.floor(n / 2)));
      await store.history.append(shuffled.slice(Math.floor(n / 2)));
      return { conv, msgs };
    }

    const ids = (list: StoredMessage[]): string[] => list.map((m) => m.msgid);
    const byId = (ref: StoredMessage): HistoryRef => ({ msgid: ref.msgid });
    const at = (time: number): HistoryRef => ({ time });

    // ---- accounts -------------------------------------------------------------------------

    describe('accounts', () => {
      it('create stores the record and get returns it unchanged', async () => {
        const a = account(unique('acct'));
        assert.equal(await store.accounts.create(a), true);
        assert.deepEqual(await store.accounts.get(a.key), a);

        const noEmail = account(unique('acct'), { email: null });
        assert.equal(await store.accounts.create(noEmail), true);
        assert.deepEqual(await store.accounts.get(noEmail.key), noEmail);
      });

      it('create returns false for an existing key and changes nothing', async () => {
        const a = account(unique('acct'));
        assert.equal(await store.accounts.create(a), true);
        const impostor = account(a.key, {
          name: 'Impostor',
          passwordHash: 'other',
          email: null,
          createdAt: BASE + 999,
          scram: { salt: 'eA==', iterations: 1, storedKey: 'x', serverKey: 'y' },
        });
        assert.equal(await store.accounts.create(impostor), false);
        assert.deepEqual(await store.accounts.get(a.key), a);
      });

      it('get returns null for an unknown key', async () => {
        assert.equal(await store.accounts.get(unique('nobody')), null);
      });

      it('setPassword replaces the hash and SCRAM credentials only', async () => {
        const a = account(unique('acct'));
        await store.accounts.create(a);
        const scram = { salt: 'bmV3c2FsdA==', iterations: 10000, storedKey: 'newStored', serverKey: 'newServer' };
        assert.equal(await store.accounts.setPassword(a.key, '$new$hash', scram), true);
        assert.deepEqual(await store.accounts.get(a.key), { ...a, passwordHash: '$new$hash', scram });
      });

      it('setPassword returns false for an unknown account and creates nothing', async () => {
        const key = unique('nobody');
        const scram = { salt: 'eA==', iterations: 1, storedKey: 'a', serverKey: 'b' };
        assert.equal(await store.accounts.setPassword(key, 'h', scram), false);
        assert.equal(await store.accounts.get(key), null);
      });

      it('delete removes the account, its read markers and the rooms it founded, nothing else', async () => {
        const gone = account(unique('acct'));
        const other = account(unique('acct'));
        await store.accounts.create(gone);
        await store.accounts.create(other);
        const target = unique('#marker');
        const otherTarget = unique('#marker');
        await store.readMarkers.set(gone.key, target, BASE + 1);
        await store.readMarkers.set(gone.key, otherTarget, BASE + 2);
        await store.readMarkers.set(other.key, target, BASE + 3);
        const founded = room(unique('#founded'), gone.key);
        const founded2 = room(unique('#founded'), gone.key);
        // `gone` is only an operator here: the room stays, operators list untouched.
        const kept = room(unique('#kept'), other.key, { operators: [gone.key, other.key] });
        await store.rooms.save(founded);
        await store.rooms.save(founded2);
        await store.rooms.save(kept);

        assert.equal(await store.accounts.delete(gone.key), true);

        assert.equal(await store.accounts.get(gone.key), null);
        assert.equal(await store.readMarkers.get(gone.key, target), null);
        assert.equal(await store.readMarkers.get(gone.key, otherTarget), null);
        assert.equal(await store.rooms.get(founded.key), null);
        assert.equal(await store.rooms.get(founded2.key), null);
        assert.deepEqual(await store.rooms.get(kept.key), kept);
        assert.deepEqual(await store.accounts.get(other.key), other);
        assert.equal(await store.readMarkers.get(other.key, target), BASE + 3);
      });

      it('delete returns false for an unknown or already deleted account', async () => {
        const a = account(unique('acct'));
        assert.equal(await store.accounts.delete(a.key), false);
        await store.accounts.create(a);
        assert.equal(await store.accounts.delete(a.key), true);
        assert.equal(await store.accounts.delete(a.key), false);
      });

      it('a deleted key can be registered again, starting fresh', async () => {
        const a = account(unique('acct'));
        await store.accounts.create(a);
        const target = unique('#marker');
        await store.readMarkers.set(a.key, target, BASE + 50);
        await store.accounts.delete(a.key);
        const again = account(a.key, { name: 'Again', email: null });
        assert.equal(await store.accounts.create(again), true);
        assert.deepEqual(await store.accounts.get(a.key), again);
        assert.equal(await store.readMarkers.get(a.key, target), null);
      });

      it('list returns every account ordered by key (code point order)', async () => {
        const prefix = unique('list');
        // Code point order: '-' < '0' < '[' < '_' < 'a' < '{'. Locale collations disagree.
        const keys = [`${prefix}b`, `${prefix}_x`, `${prefix}-z`, `${prefix}a`, `${prefix}0`, `${prefix}[q`, `${prefix}{w`];
        for (const key of keys) await store.accounts.create(account(key));
        await store.accounts.delete(`${prefix}a`);
        const listed = (await store.accounts.list()).filter((a) => a.key.startsWith(prefix));
        const expected = keys.filter((k) => k !== `${prefix}a`).sort();
        assert.deepEqual(
          listed.map((a) => a.key),
          expected,
        );
        assert.deepEqual(listed[0], account(expected[0]!));
        const all = (await store.accounts.list()).map((a) => a.key);
        assert.deepEqual(all, [...all].sort(), 'the whole list is ordered by key');
      });
    });

    // ---- room registrations ---------------------------------------------------------------

    describe('room registrations', () => {
      it('save then get returns the registration unchanged', async () => {
        const r = room(unique('#room'), 'founder');
        await store.rooms.save(r);
        assert.deepEqual(await store.rooms.get(r.key), r);
      });

      it('round-trips null topic, no key or limit, empty bans and operators', async () => {
        const r = room(unique('#room'), 'founder', {
          topic: null,
          modes: { flags: '', key: null, limit: null },
          bans: [],
          operators: [],
        });
        await store.rooms.save(r);
        assert.deepEqual(await store.rooms.get(r.key), r);
      });

      it('save replaces the whole registration', async () => {
        const key = unique('#room');
        await store.rooms.save(room(key, 'first'));
        const replacement = room(key, 'second', {
          name: '#Renamed',
          createdAt: BASE + 77,
          topic: null,
          modes: { flags: 's', key: null, limit: null },
          bans: [{ mask: 'only!*@*', setBy: 'carol', setAt: BASE + 78 }],
          operators: ['carol'],
        });
        await store.rooms.save(replacement);
        assert.deepEqual(await store.rooms.get(key), replacement);
        // And back: fields that were null are set again.
        const third = room(key, 'third');
        await store.rooms.save(third);
        assert.deepEqual(await store.rooms.get(key), third);
        assert.equal((await store.rooms.list()).filter((x) => x.key === key).length, 1);
      });

      it('get returns null for an unknown key', async () => {
        assert.equal(await store.rooms.get(unique('#none')), null);
      });

      it('delete removes the registration and returns whether there was one', async () => {
        const r = room(unique('#room'), 'founder');
        assert.equal(await store.rooms.delete(r.key), false);
        await store.rooms.save(r);
        assert.equal(await store.rooms.delete(r.key), true);
        assert.equal(await store.rooms.get(r.key), null);
        assert.equal(await store.rooms.delete(r.key), false);
      });

      it('list returns every registration, once each', async () => {
        const prefix = unique('#list');
        const a = room(`${prefix}a`, 'f1');
        const b = room(`${prefix}b`, 'f2', { topic: null });
        const c = room(`${prefix}c`, 'f3');
        await store.rooms.save(b);
        await store.rooms.save(a);
        await store.rooms.save(c);
        await store.rooms.save(a);
        await store.rooms.delete(c.key);
        const listed = (await store.rooms.list()).filter((r) => r.key.startsWith(prefix));
        listed.sort((x, y) => (x.key < y.key ? -1 : 1));
        assert.deepEqual(listed, [a, b]);
      });
    });

    // ---- history: append ------------------------------------------------------------------

    describe('history append', () => {
      it('round-trips every field, tags included', async () => {
        const conv = unique('#append');
        const full = msg(conv, unique('id'), BASE + 1, {
          source: 'Alice!~alice@2001:db8::1',
          account: 'alice',
          command: 'NOTICE',
          target: '#Append',
          text: 'héllo wörld ✓ :with colon; and \\ backslash\u0001ACTION\u0001',
          tags: { '+draft/reply': 'abc123', '+typing': 'active', '+example.com/x': 'semi;colon space\\back' },
        });
        const bare = msg(conv, unique('id'), BASE + 2);
        await store.history.append([full, bare]);
        assert.deepEqual(await store.history.latest(conv, 10), [full, bare]);
      });

      it('an empty batch is a no-op', async () => {
        await store.history.append([]);
      });

      it('a large batch is stored whole and read back in order', async () => {
        const conv = unique('#big');
        const msgs = Array.from({ length: 500 }, (_, i) => msg(conv, `${conv}/${String(i).padStart(3, '0')}`, BASE + i));
        await store.history.append(msgs);
        assert.deepEqual(ids(await store.history.latest(conv, 1000)), ids(msgs));
      });

      it('ignores a msgid that is already stored (idempotent retry), keeping the original', async () => {
        const conv = unique('#dup');
        const original = msg(conv, unique('id'), BASE + 1, { text: 'original' });
        const second = msg(conv, unique('id'), BASE + 2);
        await store.history.append([original]);
        await store.history.append([{ ...original, text: 'retry', time: BASE + 5 }, second]);
        await store.history.append([original, second]);
        assert.deepEqual(await store.history.latest(conv, 10), [original, second]);
      });

      it('ignores a duplicate msgid within one batch: the first wins', async () => {
        const conv = unique('#dup');
        const id = unique('id');
        const first = msg(conv, id, BASE + 1, { text: 'first' });
        await store.history.append([first, { ...first, text: 'second' }]);
        assert.deepEqual(await store.history.latest(conv, 10), [first]);
      });

      it('msgids are unique across conversations: a reused one is ignored', async () => {
        const convA = unique('#a');
        const convB = unique('#b');
        const id = unique('id');
        await store.history.append([msg(convA, id, BASE + 1)]);
        await store.history.append([msg(convB, id, BASE + 2)]);
        assert.deepEqual(await store.history.latest(convB, 10), []);
        assert.deepEqual(ids(await store.history.latest(convA, 10)), [id]);
      });

      it('a batch that fails writes nothing', async () => {
        const conv = unique('#atomic');
        const good = msg(conv, unique('id'), BASE + 1);
        const bad = msg(conv, unique('id'), BASE + 2, { text: null as unknown as string });
        const alsoGood = msg(conv, unique('id'), BASE + 3);
        await assert.rejects(store.history.append([good, bad, alsoGood]));
        assert.deepEqual(await store.history.latest(conv, 10), []);
        assert.ok(!(await store.history.conversations()).includes(conv));
        // The store is still usable, and the good messages can be retried.
        await store.history.append([good, alsoGood]);
        assert.deepEqual(ids(await store.history.latest(conv, 10)), ids([good, alsoGood]));
      });
    });

    // ---- history: queries -----------------------------------------------------------------

    describe('history latest', () => {
      it('returns the newest `limit` messages, ascending', async () => {
        const { conv, msgs } = await seed(10);
        assert.deepEqual(await store.history.latest(conv, 3), msgs.slice(7));
        assert.deepEqual(await store.history.latest(conv, 10), msgs);
        assert.deepEqual(await store.history.latest(conv, 100), msgs);
        assert.deepEqual(await store.history.latest(conv, 1), msgs.slice(9));
        assert.deepEqual(await store.history.latest(conv, 0), []);
      });

      it('returns [] for a conversation without messages', async () => {
        assert.deepEqual(await store.history.latest(unique('#empty'), 10), []);
        assert.deepEqual(await store.history.latest(unique('#empty'), 10, at(BASE)), []);
      });

      it('with after=msgid: only messages strictly after it, the newest of them', async () => {
        const { conv, msgs } = await seed(10);
        assert.deepEqual(ids(await store.history.latest(conv, 100, byId(msgs[2]!))), ids(msgs.slice(3)));
        assert.deepEqual(ids(await store.history.latest(conv, 3, byId(msgs[2]!))), ids(msgs.slice(7)));
        assert.deepEqual(await store.history.latest(conv, 10, byId(msgs[9]!)), []);
      });

      it('with after=time: only messages strictly after that time', async () => {
        const { conv, msgs } = await seed(10);
        assert.deepEqual(ids(await store.history.latest(conv, 100, at(msgs[5]!.time))), ids(msgs.slice(6)));
        assert.deepEqual(ids(await store.history.latest(conv, 100, at(msgs[5]!.time - 1))), ids(msgs.slice(5)));
        assert.deepEqual(ids(await store.history.latest(conv, 2, at(BASE - 1))), ids(msgs.slice(8)));
        assert.deepEqual(await store.history.latest(conv, 100, at(msgs[9]!.time)), []);
      });

      it('with an unknown msgid, or one from another conversation: []', async () => {
        const { conv } = await seed(5);
        const other = await seed(5);
        assert.deepEqual(await store.history.latest(conv, 10, { msgid: unique('missing') }), []);
        assert.deepEqual(await store.history.latest(conv, 10, byId(other.msgs[0]!)), []);
      });
    });

    describe('history before', () => {
      it('msgid: up to `limit` messages strictly before it, the closest ones, ascending', async () => {
        const { conv, msgs } = await seed(10);
        assert.deepEqual(await store.history.before(conv, byId(msgs[5]!), 3), msgs.slice(2, 5));
        assert.deepEqual(await store.history.before(conv, byId(msgs[5]!), 100), msgs.slice(0, 5));
        assert.deepEqual(await store.history.before(conv, byId(msgs[1]!), 100), msgs.slice(0, 1));
        assert.deepEqual(await store.history.before(conv, byId(msgs[0]!), 100), []);
        assert.deepEqual(await store.history.before(conv, byId(msgs[5]!), 0), []);
      });

      it('time: messages strictly before that time', async () => {
        const { conv, msgs } = await seed(10);
        assert.deepEqual(await store.history.before(conv, at(msgs[5]!.time), 3), msgs.slice(2, 5));
        assert.deepEqual(await store.history.before(conv, at(msgs[5]!.time + 1), 3), msgs.slice(3, 6));
        assert.deepEqual(await store.history.before(conv, at(BASE + 100 * STEP), 4), msgs.slice(6));
        assert.deepEqual(await store.history.before(conv, at(BASE), 10), []);
      });

      it('unknown msgid or one from another conversation: []', async () => {
        const { conv } = await seed(5);
        const other = await seed(5);
        assert.deepEqual(await store.history.before(conv, { msgid: unique('missing') }, 10), []);
        assert.deepEqual(await store.history.before(conv, byId(other.msgs[4]!), 10), []);
      });
    });

    describe('history after', () => {
      it('msgid: up to `limit` messages strictly after it, the closest ones, ascending', async () => {
        const { conv, msgs } = await seed(10);
        assert.deepEqual(await store.history.after(conv, byId(msgs[5]!), 3), msgs.slice(6, 9));
        assert.deepEqual(await store.history.after(conv, byId(msgs[5]!), 100), msgs.slice(6));
        assert.deepEqual(await store.history.after(conv, byId(msgs[9]!), 100), []);
        assert.deepEqual(await store.history.after(conv, byId(msgs[5]!), 0), []);
      });

      it('time: messages strictly after that time', async () => {
        const { conv, msgs } = await seed(10);
        assert.deepEqual(await store.history.after(conv, at(msgs[5]!.time), 3), msgs.slice(6, 9));
        assert.deepEqual(await store.history.after(conv, at(msgs[5]!.time - 1), 3), msgs.slice(5, 8));
        assert.deepEqual(await store.history.after(conv, at(BASE - 100 * STEP), 2), msgs.slice(0, 2));
        assert.deepEqual(await store.history.after(conv, at(msgs[9]!.time), 10), []);
      });

      it('unknown msgid or one from another conversation: []', async () => {
        const { conv } = await seed(5);
        const other = await seed(5);
        assert.deepEqual(await store.history.after(conv, { msgid: unique('missing') }, 10), []);
        assert.deepEqual(await store.history.after(conv, byId(other.msgs[0]!), 10), []);
      });
    });

    describe('history around', () => {
      /** A contiguous run of `all`, holding `center`, with about as many on each side. */
      function assertAround(result: StoredMessage[], all: StoredMessage[], center: number, limit: number): void {
        assert.ok(result.length <= limit, `at most ${limit}, got ${result.length}`);
        const first = all.findIndex((m) => m.msgid === result[0]?.msgid);
        assert.deepEqual(ids(result), ids(all.slice(first, first + result.length)), 'a contiguous ascending run');
        assert.ok(first <= center && center < first + result.length, 'includes the message itself');
        const nBefore = center - first;
        const nAfter = first + result.length - 1 - center;
        const availableBefore = center;
        const availableAfter = all.length - 1 - center;
        const half = Math.floor((limit - 1) / 2);
        assert.ok(nBefore >= Math.min(half, availableBefore), `enough before: ${nBefore}`);
        assert.ok(nAfter >= Math.min(half, availableAfter), `enough after: ${nAfter}`);
        if (nBefore < availableBefore && nAfter < availableAfter) {
          assert.equal(result.length, limit);
          assert.ok(Math.abs(nBefore - nAfter) <= 1, `balanced: ${nBefore} before, ${nAfter} after`);
        }
      }

      it('msgid: the message itself with about half before and half after', async () => {
        const { conv, msgs } = await seed(20);
        for (const limit of [2, 3, 4, 5, 6, 7, 10]) {
          const result = await store.history.around(conv, byId(msgs[10]!), limit);
          assert.equal(result.length, limit);
          assertAround(result, msgs, 10, limit);
        }
        assert.deepEqual(await store.history.around(conv, byId(msgs[10]!), 5), msgs.slice(8, 13));
        assert.deepEqual(await store.history.around(conv, byId(msgs[10]!), 1), [msgs[10]]);
        assert.deepEqual(await store.history.around(conv, byId(msgs[10]!), 100), msgs);
      });

      it('msgid near either end: fewer on the short side, never more than `limit`', async () => {
        const { conv, msgs } = await seed(10);
        for (const [center, limit] of [[0, 5], [1, 6], [9, 5], [8, 4], [0, 1], [9, 1]] as const) {
          const result = await store.history.around(conv, byId(msgs[center]!), limit);
          assertAround(result, msgs, center, limit);
        }
      });

      it('time: messages on both sides of that time', async () => {
        const { conv, msgs } = await seed(10);
        // Between m4 and m5.
        assert.deepEqual(await store.history.around(conv, at(msgs[4]!.time + 500), 4), msgs.slice(3, 7));
        assert.deepEqual(await store.history.around(conv, at(msgs[4]!.time + 500), 2), msgs.slice(4, 6));
        // Exactly at m5: m5 is part of the result.
        const exact = await store.history.around(conv, at(msgs[5]!.time), 4);
        assert.equal(exact.length, 4);
        assert.ok(ids(exact).includes(msgs[5]!.msgid));
        assertAround(exact, msgs, 5, 4);
        // Before everything / after everything: only one side exists.
        const early = await store.history.around(conv, at(BASE - STEP), 4);
        assert.ok(early.length >= 1 && early.length <= 4);
        assert.deepEqual(early, msgs.slice(0, early.length));
        const late = await store.history.around(conv, at(BASE + 100 * STEP), 4);
        assert.ok(late.length >= 1 && late.length <= 4);
        assert.deepEqual(late, msgs.slice(10 - late.length));
      });

      it('unknown msgid or one from another conversation: []; limit 0: []', async () => {
        const { conv, msgs } = await seed(5);
        const other = await seed(5);
        assert.deepEqual(await store.history.around(conv, { msgid: unique('missing') }, 10), []);
        assert.deepEqual(await store.history.around(conv, byId(other.msgs[2]!), 10), []);
        assert.deepEqual(await store.history.around(conv, byId(msgs[2]!), 0), []);
      });
    });

    describe('history between', () => {
      it('msgids, start before end: strictly between, the ones closest to start', async () => {
        const { conv, msgs } = await seed(10);
        assert.deepEqual(await store.history.between(conv, byId(msgs[2]!), byId(msgs[7]!), 100), msgs.slice(3, 7));
        assert.deepEqual(await store.history.between(conv, byId(msgs[2]!), byId(msgs[7]!), 2), msgs.slice(3, 5));
        assert.deepEqual(await store.history.between(conv, byId(msgs[2]!), byId(msgs[7]!), 0), []);
      });

      it('msgids, start after end: the ones closest to start, still ascending', async () => {
        const { conv, msgs } = await seed(10);
        assert.deepEqual(await store.history.between(conv, byId(msgs[7]!), byId(msgs[2]!), 100), msgs.slice(3, 7));
        assert.deepEqual(await store.history.between(conv, byId(msgs[7]!), byId(msgs[2]!), 2), msgs.slice(5, 7));
      });

      it('times: strictly between them, in either order', async () => {
        const { conv, msgs } = await seed(10);
        const t = (i: number) => msgs[i]!.time;
        assert.deepEqual(await store.history.between(conv, at(t(2)), at(t(7)), 100), msgs.slice(3, 7));
        assert.deepEqual(await store.history.between(conv, at(t(2) - 1), at(t(7) + 1), 100), msgs.slice(2, 8));
        assert.deepEqual(await store.history.between(conv, at(t(2)), at(t(7)), 3), msgs.slice(3, 6));
        assert.deepEqual(await store.history.between(conv, at(t(7)), at(t(2)), 3), msgs.slice(4, 7));
        assert.deepEqual(await store.history.between(conv, at(t(7)), at(t(2)), 100), msgs.slice(3, 7));
        assert.deepEqual(await store.history.between(conv, at(BASE - STEP), at(BASE + 100 * STEP), 100), msgs);
      });

      it('a msgid and a time mixed', async () => {
        const { conv, msgs } = await seed(10);
        assert.deepEqual(await store.history.between(conv, byId(msgs[2]!), at(msgs[7]!.time), 100), msgs.slice(3, 7));
        assert.deepEqual(await store.history.between(conv, at(msgs[7]!.time), byId(msgs[2]!), 2), msgs.slice(5, 7));
        assert.deepEqual(await store.history.between(conv, at(msgs[2]!.time - 1), byId(msgs[4]!), 100), msgs.slice(2, 4));
      });

      it('nothing strictly between: []', async () => {
        const { conv, msgs } = await seed(10);
        assert.deepEqual(await store.history.between(conv, byId(msgs[3]!), byId(msgs[3]!), 10), []);
        assert.deepEqual(await store.history.between(conv, byId(msgs[3]!), byId(msgs[4]!), 10), []);
        assert.deepEqual(await store.history.between(conv, byId(msgs[4]!), byId(msgs[3]!), 10), []);
        assert.deepEqual(await store.history.between(conv, at(msgs[3]!.time), at(msgs[3]!.time), 10), []);
      });

      it('an unknown msgid at either end, or one from another conversation: []', async () => {
        const { conv, msgs } = await seed(5);
        const other = await seed(5);
        const missing = { msgid: unique('missing') };
        assert.deepEqual(await store.history.between(conv, missing, byId(msgs[4]!), 10), []);
        assert.deepEqual(await store.history.between(conv, byId(msgs[0]!), missing, 10), []);
        assert.deepEqual(await store.history.between(conv, byId(other.msgs[0]!), byId(msgs[4]!), 10), []);
        assert.deepEqual(await store.history.between(conv, missing, at(BASE + 100 * STEP), 10), []);
      });
    });

    describe('history order', () => {
      it('messages with the same time are ordered by msgid, in every query', async () => {
        const conv = unique('#ties');
        const p = `${conv}/`;
        const t = BASE + 5 * STEP;
        // Code point order: 'B' < 'a' < 'b' < 'c'. Inserted in another order.
        const early = msg(conv, `${p}z-early`, t - STEP);
        const tied = ['c', 'a', 'B', 'b'].map((s) => msg(conv, `${p}${s}`, t));
        const late = msg(conv, `${p}0-late`, t + STEP);
        await store.history.append([late, ...tied, early]);
        const sorted = [early, ...[...tied].sort((x, y) => (x.msgid < y.msgid ? -1 : 1)), late];
        assert.deepEqual(ids(sorted).map((id) => id.slice(p.length)), ['z-early', 'B', 'a', 'b', 'c', '0-late']);
        const [e, B, a, b, c, l] = sorted as [StoredMessage, StoredMessage, StoredMessage, StoredMessage, StoredMessage, StoredMessage];

        assert.deepEqual(await store.history.latest(conv, 10), sorted);
        assert.deepEqual(await store.history.latest(conv, 3), [b, c, l]);
        assert.deepEqual(await store.history.latest(conv, 10, byId(a)), [b, c, l]);
        assert.deepEqual(await store.history.before(conv, byId(b), 10), [e, B, a]);
        assert.deepEqual(await store.history.before(conv, byId(b), 1), [a]);
        assert.deepEqual(await store.history.after(conv, byId(a), 10), [b, c, l]);
        assert.deepEqual(await store.history.after(conv, byId(a), 1), [b]);
        assert.deepEqual(await store.history.between(conv, byId(B), byId(c), 10), [a, b]);
        assert.deepEqual(await store.history.between(conv, byId(c), byId(B), 1), [b]);
        assert.deepEqual(await store.history.around(conv, byId(a), 3), [B, a, b]);
        // Time refs take all messages of that time or none.
        assert.deepEqual(await store.history.before(conv, at(t), 10), [e]);
        assert.deepEqual(await store.history.after(conv, at(t), 10), [l]);
        assert.deepEqual(await store.history.latest(conv, 10, at(t)), [l]);
        assert.deepEqual(await store.history.between(conv, at(t - STEP), at(t + STEP), 10), [B, a, b, c]);
      });
    });

    // ---- history: targets, conversations, retention ---------------------------------------

    describe('history events (draft/event-playback)', () => {
      /** An event row: a room's JOIN, PART... with its line's params; text ''. */
      function ev(conversation: string, msgid: string, time: number, command: StoredMessage['command'], params: string[], extra: Partial<StoredMessage> = {}): StoredMessage {
        return msg(conversation, msgid, time, { command, text: '', params, account: 'alice', source: 'alice!a@host.example', ...extra });
      }

      /** m0 J1 m2 P3 m4 K5 m6 M7 m8 T9 m10 N11 m12 Q13 m14 G15 (G: TAGMSG), one every STEP. */
      async function seedMixed(): Promise<{ conv: string; all: StoredMessage[]; msgs: StoredMessage[] }> {
        const conv = unique('#events');
        const kinds: [StoredMessage['command'], string[]][] = [
          ['JOIN', [conv]], ['PART', [conv, 'bye now']], ['KICK', [conv, 'bob', 'out']], ['MODE', [conv, '+ov', 'bob', 'carol']],
          ['TOPIC', [conv, 'a new topic']], ['NICK', ['alice2']], ['QUIT', ['Quit: gone']], ['TAGMSG', [conv]],
        ];
        const all: StoredMessage[] = [];
        for (let i = 0; i < 16; i++) {
          const id = `${conv}/e${String(i).padStart(2, '0')}`;
          if (i % 2 === 0) all.push(msg(conv, id, BASE + i * STEP));
          else {
            const [command, params] = kinds[(i - 1) / 2]!;
            all.push(ev(conv, id, BASE + i * STEP, command, params, command === 'TAGMSG' ? { tags: { '+draft/react': '👍', '+draft/reply': `${conv}/e00` } } : {}));
          }
        }
        await store.history.append([...all].reverse());
        return { conv, all, msgs: all.filter((m) => m.command === 'PRIVMSG') };
      }

      it('with events: every row, in (time, msgid) order, params and tags kept', async () => {
        const { conv, all } = await seedMixed();
        assert.deepEqual(await store.history.latest(conv, 100, undefined, { events: true }), all);
        assert.deepEqual(await store.history.latest(conv, 3, undefined, { events: true }), all.slice(13));
      });

      it('without events: messages only, and the limit counts messages', async () => {
        const { conv, msgs } = await seedMixed();
        assert.deepEqual(await store.history.latest(conv, 100), msgs);
        assert.deepEqual(await store.history.latest(conv, 3), msgs.slice(5));
        assert.deepEqual(await store.history.latest(conv, 3, undefined, { events: false }), msgs.slice(5));
        assert.deepEqual(ids(await store.history.before(conv, at(BASE + 16 * STEP), 4)), ids(msgs.slice(4)));
        assert.deepEqual(ids(await store.history.after(conv, at(BASE - 1), 4)), ids(msgs.slice(0, 4)));
        assert.deepEqual(ids(await store.history.around(conv, byId(msgs[4]!), 4)), ids(msgs.slice(2, 6)));
        assert.deepEqual(ids(await store.history.between(conv, at(BASE - 1), at(BASE + 16 * STEP), 3)), ids(msgs.slice(0, 3)));
        assert.deepEqual(ids(await store.history.between(conv, at(BASE + 16 * STEP), at(BASE - 1), 3)), ids(msgs.slice(5)));
      });

      it('before/after/around/between with events count events against the limit', async () => {
        const { conv, all } = await seedMixed();
        const q = { events: true };
        assert.deepEqual(ids(await store.history.before(conv, byId(all[8]!), 3, q)), ids(all.slice(5, 8)));
        assert.deepEqual(ids(await store.history.after(conv, byId(all[8]!), 3, q)), ids(all.slice(9, 12)));
        assert.deepEqual(ids(await store.history.around(conv, byId(all[8]!), 4, q)), ids(all.slice(6, 10)));
        assert.deepEqual(ids(await store.history.between(conv, byId(all[2]!), byId(all[9]!), 100, q)), ids(all.slice(3, 9)));
        assert.deepEqual(ids(await store.history.latest(conv, 100, byId(all[12]!), q)), ids(all.slice(13)));
      });

      it("an event's msgid is a valid ref for a query without events", async () => {
        const { conv, all } = await seedMixed();
        // all[7] is the MODE event: messages strictly before and after it.
        assert.deepEqual(ids(await store.history.before(conv, byId(all[7]!), 2)), ids([all[4]!, all[6]!]));
        assert.deepEqual(ids(await store.history.after(conv, byId(all[7]!), 2)), ids([all[8]!, all[10]!]));
        assert.deepEqual(ids(await store.history.latest(conv, 100, byId(all[13]!))), ids([all[14]!]));
      });

      it('targets, find and redact ignore events other than TAGMSG; prune counts events', async () => {
        const { conv, all } = await seedMixed();
        // Latest message at e14; the TAGMSG (e15) is an event and does not move it.
        assert.deepEqual(await store.history.targets([conv], BASE - 1, BASE + 100 * STEP, 10), [{ conversation: conv, latest: all[14]!.time }]);
        const only = unique('#only-events');
        await store.history.append([ev(only, `${only}/j`, BASE, 'JOIN', [only])]);
        assert.deepEqual(await store.history.targets([only], BASE - 1, BASE + STEP, 10), []);
        assert.equal(await store.history.find(conv, all[1]!.msgid), null);
        assert.equal(await store.history.redact(conv, all[1]!.msgid), false);
        assert.deepEqual(await store.history.find(conv, all[15]!.msgid), all[15]);
        assert.equal(await store.history.redact(conv, all[15]!.msgid), true);
        assert.equal(await store.history.prune(conv, { keep: 4 }), 11);
        assert.deepEqual(ids(await store.history.latest(conv, 100, undefined, { events: true })), ids(all.slice(11, 15)));
        assert.ok((await store.history.conversations()).includes(only));
      });

      it('search never finds an event', async (t) => {
        if (!store.search) return t.skip('no search');
        const conv = unique('#evsearch');
        const word = `zebra${run}`;
        await store.history.append([
          msg(conv, `${conv}/m`, BASE, { text: `a ${word} here` }),
          ev(conv, `${conv}/t`, BASE + STEP, 'TOPIC', [conv, `topic ${word}`], { text: `topic ${word}` }),
        ]);
        const page = await store.search.search({ conversations: [conv], query: { terms: [[word]], from: null }, limit: 10 });
        assert.deepEqual(ids(page.messages), [`${conv}/m`]);
      });
    });

    describe('history targets', () => {
      async function setup() {
        const start = BASE;
        const end = BASE + 500;
        const [a, b, c, d, edgeStart, edgeEnd, outside, unlisted] = [
          'a', 'b', 'c', 'd', 'edge-start', 'edge-end', 'outside', 'unlisted',
        ].map((l) => unique(`#t-${l}`)) as [string, string, string, string, string, string, string, string];
        const add = (conv: string, time: number) => msg(conv, unique('id'), time);
        await store.history.append([
          add(a, BASE + 50), add(a, BASE + 100),
          add(b, BASE + 300), add(b, BASE + 500), // the one at `end` is outside the window
          add(c, BASE + 200), add(c, BASE - 10),
          add(d, BASE + 250), add(d, BASE + 1000), // latest overall is outside the window
          add(edgeStart, BASE), add(edgeEnd, BASE + 500),
          add(outside, BASE + 5000),
          add(unlisted, BASE + 150),
        ]);
        const listed = [d, outside, a, edgeEnd, c, b, edgeStart];
        return { start, end, a, b, c, d, listed };
      }

      it('lists conversations with messages strictly inside the window, by latest time ascending', async () => {
        const { start, end, a, b, c, d, listed } = await setup();
        assert.deepEqual(await store.history.targets(listed, start, end, 100), [
          { conversation: a, latest: BASE + 100 },
          { conversation: c, latest: BASE + 200 },
          { conversation: d, latest: BASE + 250 },
          { conversation: b, latest: BASE + 300 },
        ]);
      });

      it('respects the limit, keeping the ones closest to start', async () => {
        const { start, end, a, b, c, d, listed } = await setup();
        assert.deepEqual(await store.history.targets(listed, start, end, 2), [
          { conversation: a, latest: BASE + 100 },
          { conversation: c, latest: BASE + 200 },
        ]);
        assert.deepEqual(await store.history.targets(listed, end, start, 2), [
          { conversation: d, latest: BASE + 250 },
          { conversation: b, latest: BASE + 300 },
        ]);
        assert.deepEqual(await store.history.targets(listed, end, start, 100), [
          { conversation: a, latest: BASE + 100 },
          { conversation: c, latest: BASE + 200 },
          { conversation: d, latest: BASE + 250 },
          { conversation: b, latest: BASE + 300 },
        ]);
        assert.deepEqual(await store.history.targets(listed, start, end, 0), []);
      });

      it('only looks at the conversations given, each once', async () => {
        const { start, end, a, c } = await setup();
        assert.deepEqual(await store.history.targets([], start, end, 10), []);
        assert.deepEqual(await store.history.targets([c, a, c, unique('#none'), a], start, end, 10), [
          { conversation: a, latest: BASE + 100 },
          { conversation: c, latest: BASE + 200 },
        ]);
      });
    });

    describe('history directConversationsOf', () => {
      it('lists the DM conversations that involve the account', async () => {
        const [alice, bob, carol, dave] = ['alice', 'bob', 'carol', 'dave'].map((n) => unique(n)) as [string, string, string, string];
        const ab = dmKey(alice, bob);
        const ca = dmKey(carol, alice);
        const bc = dmKey(bob, carol);
        const roomConv = unique('#room');
        await store.history.append([
          msg(ab, unique('id'), BASE + 1, { account: alice, target: bob }),
          msg(ab, unique('id'), BASE + 2, { account: bob, target: alice }),
          msg(ca, unique('id'), BASE + 3, { account: carol, target: alice }),
          msg(bc, unique('id'), BASE + 4, { account: bob, target: carol }),
          msg(roomConv, unique('id'), BASE + 5, { account: dave }),
        ]);
        const sorted = async (acct: string) => [...(await store.history.directConversationsOf(acct))].sort();
        assert.deepEqual(await sorted(alice), [ab, ca].sort());
        assert.deepEqual(await sorted(bob), [ab, bc].sort());
        assert.deepEqual(await sorted(carol), [ca, bc].sort());
        assert.deepEqual(await sorted(dave), []);
        assert.deepEqual(await sorted(unique('nobody')), []);
      });
    });

    describe('dmKey', () => {
      it('is the same from both sides and differs between pairs', () => {
        assert.equal(dmKey('alice', 'bob'), dmKey('bob', 'alice'));
        assert.notEqual(dmKey('alice', 'bob'), dmKey('alice', 'carol'));
        assert.notEqual(dmKey('alice', 'bob'), dmKey('bob', 'bob'));
        assert.ok(!dmKey('alice', 'bob').startsWith('#'));
      });
    });

    describe('history prune', () => {
      it('olderThan deletes messages with time < olderThan, and counts them', async () => {
        const { conv, msgs } = await seed(10);
        assert.equal(await store.history.prune(conv, { olderThan: msgs[3]!.time }), 3);
        assert.deepEqual(await store.history.latest(conv, 100), msgs.slice(3));
        assert.equal(await store.history.prune(conv, { olderThan: msgs[3]!.time }), 0);
        assert.equal(await store.history.prune(conv, { olderThan: BASE - STEP }), 0);
      });

      it('keep deletes all but the newest `keep`', async () => {
        const { conv, msgs } = await seed(10);
        assert.equal(await store.history.prune(conv, { keep: 20 }), 0);
        assert.equal(await store.history.prune(conv, { keep: 10 }), 0);
        assert.equal(await store.history.prune(conv, { keep: 4 }), 6);
        assert.deepEqual(await store.history.latest(conv, 100), msgs.slice(6));
        assert.equal(await store.history.prune(conv, { keep: 4 }), 0);
      });

      it('keep counts by (time, msgid) order', async () => {
        const conv = unique('#prune-ties');
        const t = BASE + STEP;
        const [a, b, c] = ['a', 'b', 'c'].map((s) => msg(conv, `${conv}/${s}`, t)) as [StoredMessage, StoredMessage, StoredMessage];
        await store.history.append([c, a, b]);
        assert.equal(await store.history.prune(conv, { keep: 2 }), 1);
        assert.deepEqual(await store.history.latest(conv, 10), [b, c]);
      });

      it('both options delete the union', async () => {
        const one = await seed(10);
        assert.equal(await store.history.prune(one.conv, { olderThan: one.msgs[2]!.time, keep: 5 }), 5);
        assert.deepEqual(await store.history.latest(one.conv, 100), one.msgs.slice(5));
        const two = await seed(10);
        assert.equal(await store.history.prune(two.conv, { olderThan: two.msgs[7]!.time, keep: 5 }), 7);
        assert.deepEqual(await store.history.latest(two.conv, 100), two.msgs.slice(7));
      });

      it('no options delete nothing; other conversations are untouched', async () => {
        const one = await seed(5);
        const two = await seed(5);
        assert.equal(await store.history.prune(one.conv, {}), 0);
        assert.equal(await store.history.prune(one.conv, { keep: 0 }), 5);
        assert.deepEqual(await store.history.latest(one.conv, 100), []);
        assert.deepEqual(await store.history.latest(two.conv, 100), two.msgs);
        assert.equal(await store.history.prune(unique('#none'), { keep: 0, olderThan: BASE * 2 }), 0);
      });
    });

    describe('history conversations', () => {
      it('lists every conversation with stored messages, once each', async () => {
        const room1 = await seed(3, '#conv');
        const dm = dmKey(unique('x'), unique('y'));
        await store.history.append([msg(dm, unique('id'), BASE + 1), msg(dm, unique('id'), BASE + 2)]);
        const emptied = await seed(2, '#conv');
        await store.history.prune(emptied.conv, { keep: 0 });
        const never = unique('#conv');

        const all = await store.history.conversations();
        assert.equal(new Set(all).size, all.length, 'no duplicates');
        assert.ok(all.includes(room1.conv));
        assert.ok(all.includes(dm));
        assert.ok(!all.includes(emptied.conv));
        assert.ok(!all.includes(never));
      });
    });

    // ---- history: find and redact (draft/message-redaction) --------------------------------

    describe('history find', () => {
      it('returns the message of that conversation, as stored', async () => {
        const { conv, msgs } = await seed(3);
        const tagged = msg(conv, unique('id'), BASE + 10 * STEP, { account: 'alice', tags: { '+draft/reply': 'x' }, command: 'NOTICE' });
        await store.history.append([tagged]);
        assert.deepEqual(await store.history.find(conv, msgs[1]!.msgid), msgs[1]);
        assert.deepEqual(await store.history.find(conv, tagged.msgid), tagged);
      });

      it('is null for an unknown msgid and for a msgid of another conversation', async () => {
        const one = await seed(2);
        const two = await seed(2);
        assert.equal(await store.history.find(one.conv, unique('missing')), null);
        assert.equal(await store.history.find(one.conv, two.msgs[0]!.msgid), null);
        assert.equal(await store.history.find(unique('#none'), one.msgs[0]!.msgid), null);
      });
    });

    describe('history redact', () => {
      it('deletes the message: no query returns it, the others are untouched', async () => {
        const { conv, msgs } = await seed(7);
        const gone = msgs[3]!;
        assert.equal(await store.history.redact(conv, gone.msgid), true);
        const rest = msgs.filter((m) => m !== gone);
        assert.equal(await store.history.find(conv, gone.msgid), null);
        assert.deepEqual(await store.history.latest(conv, 100), rest);
        assert.deepEqual(await store.history.before(conv, byId(msgs[6]!), 100), rest.slice(0, 5));
        assert.deepEqual(await store.history.after(conv, byId(msgs[0]!), 100), rest.slice(1));
        assert.deepEqual(await store.history.around(conv, at(gone.time), 2), [msgs[2], msgs[4]]);
        assert.deepEqual(await store.history.between(conv, byId(msgs[0]!), byId(msgs[6]!), 100), rest.slice(1, 5));
        // The redacted msgid is no reference any more: as an unknown one, nothing.
        assert.deepEqual(await store.history.after(conv, byId(gone), 100), []);
      });

      it('is false for a msgid already redacted, unknown, or of another conversation (which keeps it)', async () => {
        const one = await seed(2);
        const two = await seed(2);
        assert.equal(await store.history.redact(one.conv, one.msgs[0]!.msgid), true);
        assert.equal(await store.history.redact(one.conv, one.msgs[0]!.msgid), false);
        assert.equal(await store.history.redact(one.conv, unique('missing')), false);
        assert.equal(await store.history.redact(one.conv, two.msgs[1]!.msgid), false);
        assert.deepEqual(await store.history.latest(two.conv, 10), two.msgs);
        assert.deepEqual(await store.history.latest(one.conv, 10), one.msgs.slice(1));
      });

      it('takes the last message of a conversation out of targets, conversations and directConversationsOf', async () => {
        const [alice, bob] = [unique('alice'), unique('bob')];
        const dm = dmKey(alice, bob);
        const only = msg(dm, unique('id'), BASE + 5, { account: alice, target: bob });
        const kept = dmKey(alice, unique('carol'));
        await store.history.append([only, msg(kept, unique('id'), BASE + 6, { account: alice })]);
        assert.equal(await store.history.redact(dm, only.msgid), true);
        assert.deepEqual(await store.history.targets([dm, kept], BASE, BASE + 100, 10), [{ conversation: kept, latest: BASE + 6 }]);
        assert.ok(!(await store.history.conversations()).includes(dm));
        assert.deepEqual(await store.history.directConversationsOf(bob), []);
        assert.deepEqual(await store.history.directConversationsOf(alice), [kept]);
      });

      it('keeps a direct conversation listed while it has other messages', async () => {
        const [alice, bob] = [unique('alice'), unique('bob')];
        const dm = dmKey(alice, bob);
        const first = msg(dm, unique('id'), BASE + 1, { account: alice });
        await store.history.append([first, msg(dm, unique('id'), BASE + 2, { account: bob })]);
        assert.equal(await store.history.redact(dm, first.msgid), true);
        assert.deepEqual(await store.history.directConversationsOf(bob), [dm]);
      });
    });

    // ---- read markers ---------------------------------------------------------------------

    describe('renamed rooms', () => {
      it('moveConversation moves every message and event to the new conversation and target, in batches, and again for late ones', async () => {
        const { conv, msgs } = await seed(600, '#old');
        await store.history.append([msg(conv, `${conv}/event`, msgs.at(-1)!.time + 1, { command: 'TOPIC', text: '', params: ['new topic'] } as Partial<StoredMessage>)]);
        const other = await seed(3, '#other');
        const to = unique('#new');
        assert.equal(await store.history.moveConversation(conv, to, to.toUpperCase()), 601);
        assert.deepEqual(await store.history.latest(conv, 10, undefined, { events: true }), []);
        const moved = await store.history.latest(to, 1000);
        assert.deepEqual(ids(moved), ids(msgs));
        assert.equal(moved.every((m) => m.conversation === to && m.target === to.toUpperCase()), true);
        assert.equal((await store.history.latest(to, 1, undefined, { events: true }))[0]?.command, 'TOPIC');
        assert.deepEqual(ids(await store.history.latest(other.conv, 10)), ids(other.msgs));
        // Stored under the old name after the move (another node's message in flight): a second run moves it.
        await store.history.append([msg(conv, `${conv}/late`, msgs.at(-1)!.time + 2)]);
        assert.equal(await store.history.moveConversation(conv, to, to.toUpperCase()), 1);
        assert.equal((await store.history.latest(to, 1))[0]?.msgid, `${conv}/late`);
        assert.equal(await store.history.moveConversation(conv, to, to), 0);
        assert.equal(await store.history.moveConversation(to, to, to), 0);
      });

      it('read markers move to the new target, keeping the later where an account had both', async () => {
        const [one, two] = [unique('reader'), unique('reader')];
        const [from, to, other] = [unique('#from'), unique('#to'), unique('#other')];
        await store.readMarkers.set(one, from, BASE + 50);
        await store.readMarkers.set(two, from, BASE + 10);
        await store.readMarkers.set(two, to, BASE + 20);
        await store.readMarkers.set(one, other, BASE + 5);
        await store.readMarkers.move(from, to);
        assert.equal(await store.readMarkers.get(one, from), null);
        assert.equal(await store.readMarkers.get(one, to), BASE + 50);
        assert.equal(await store.readMarkers.get(two, to), BASE + 20);
        assert.equal(await store.readMarkers.get(one, other), BASE + 5);
      });
    });

    describe('read markers', () => {
      it('get is null until set; set returns the stored time', async () => {
        const acct = unique('reader');
        const target = unique('#target');
        assert.equal(await store.readMarkers.get(acct, target), null);
        assert.equal(await store.readMarkers.set(acct, target, BASE + 100), BASE + 100);
        assert.equal(await store.readMarkers.get(acct, target), BASE + 100);
      });

      it('only moves forward, and set always returns the stored value', async () => {
        const acct = unique('reader');
        const target = unique('#target');
        await store.readMarkers.set(acct, target, BASE + 100);
        assert.equal(await store.readMarkers.set(acct, target, BASE + 50), BASE + 100);
        assert.equal(await store.readMarkers.get(acct, target), BASE + 100);
        assert.equal(await store.readMarkers.set(acct, target, BASE + 100), BASE + 100);
        assert.equal(await store.readMarkers.set(acct, target, BASE + 101), BASE + 101);
        assert.equal(await store.readMarkers.get(acct, target), BASE + 101);
      });

      it('is kept per account and per target', async () => {
        const [one, two] = [unique('reader'), unique('reader')];
        const [t1, t2] = [unique('#target'), unique('nick')];
        await store.readMarkers.set(one, t1, BASE + 10);
        await store.readMarkers.set(one, t2, BASE + 20);
        await store.readMarkers.set(two, t1, BASE + 30);
        assert.equal(await store.readMarkers.get(one, t1), BASE + 10);
        assert.equal(await store.readMarkers.get(one, t2), BASE + 20);
        assert.equal(await store.readMarkers.get(two, t1), BASE + 30);
        assert.equal(await store.readMarkers.get(two, t2), null);
      });
    });

    // ---- account metadata (draft/metadata-2) -----------------------------------------------

    describe('metadata', () => {
      it('list is [] until set; set inserts and replaces; entries ordered by key', async () => {
        const acct = unique('meta');
        assert.deepEqual(await store.metadata.list(acct), []);
        assert.equal(await store.metadata.set(acct, 'status', 'busy', 10), 'set');
        assert.equal(await store.metadata.set(acct, 'avatar', 'https://example.org/a.png', 10), 'set');
        assert.equal(await store.metadata.set(acct, 'display-name', 'Ünïcode ✓ name', 10), 'set');
        assert.equal(await store.metadata.set(acct, 'status', '', 10), 'set'); // the empty value is a value
        assert.deepEqual(await store.metadata.list(acct), [
          { key: 'avatar', value: 'https://example.org/a.png' },
          { key: 'display-name', value: 'Ünïcode ✓ name' },
          { key: 'status', value: '' },
        ]);
      });

      it('is kept per account', async () => {
        const [one, two] = [unique('meta'), unique('meta')];
        await store.metadata.set(one, 'pronouns', 'she/her', 10);
        assert.deepEqual(await store.metadata.list(two), []);
        assert.deepEqual(await store.metadata.list(one), [{ key: 'pronouns', value: 'she/her' }]);
      });

      it('set refuses a new key past maxKeys, changing nothing, but replaces an existing one', async () => {
        const acct = unique('meta');
        assert.equal(await store.metadata.set(acct, 'a', '1', 2), 'set');
        assert.equal(await store.metadata.set(acct, 'b', '2', 2), 'set');
        assert.equal(await store.metadata.set(acct, 'c', '3', 2), 'limit');
        assert.equal(await store.metadata.set(acct, 'b', 'two', 2), 'set');
        assert.deepEqual(await store.metadata.list(acct), [{ key: 'a', value: '1' }, { key: 'b', value: 'two' }]);
      });

      it('concurrent sets of new keys never pass maxKeys', async () => {
        const acct = unique('meta');
        const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.metadata.set(acct, `k${i}`, 'v', 3)));
        assert.equal(results.filter((r) => r === 'set').length, 3);
        assert.equal((await store.metadata.list(acct)).length, 3);
      });

      it('delete removes one key and says whether it was set', async () => {
        const acct = unique('meta');
        await store.metadata.set(acct, 'avatar', 'x', 10);
        await store.metadata.set(acct, 'status', 'y', 10);
        assert.equal(await store.metadata.delete(acct, 'avatar'), true);
        assert.equal(await store.metadata.delete(acct, 'avatar'), false);
        assert.equal(await store.metadata.delete(unique('meta'), 'status'), false);
        assert.deepEqual(await store.metadata.list(acct), [{ key: 'status', value: 'y' }]);
      });

      it('clear removes every key and returns them ordered by key', async () => {
        const acct = unique('meta');
        const other = unique('meta');
        await store.metadata.set(acct, 'status', 's', 10);
        await store.metadata.set(acct, 'avatar', 'a', 10);
        await store.metadata.set(other, 'status', 'kept', 10);
        assert.deepEqual(await store.metadata.clear(acct), [{ key: 'avatar', value: 'a' }, { key: 'status', value: 's' }]);
        assert.deepEqual(await store.metadata.list(acct), []);
        assert.deepEqual(await store.metadata.clear(acct), []);
        assert.deepEqual(await store.metadata.list(other), [{ key: 'status', value: 'kept' }]);
      });

      it('listMany returns only accounts with entries, each ordered by key', async () => {
        const [one, two, none] = [unique('meta'), unique('meta'), unique('meta')];
        await store.metadata.set(one, 'status', 'b', 10);
        await store.metadata.set(one, 'avatar', 'a', 10);
        await store.metadata.set(two, 'pronouns', 'they/them', 10);
        const many = await store.metadata.listMany([one, two, none]);
        assert.deepEqual([...many.keys()].sort(), [one, two].sort());
        assert.deepEqual(many.get(one), [{ key: 'avatar', value: 'a' }, { key: 'status', value: 'b' }]);
        assert.deepEqual(many.get(two), [{ key: 'pronouns', value: 'they/them' }]);
        assert.equal((await store.metadata.listMany([])).size, 0);
      });

      it('deleting the account deletes its metadata', async () => {
        const key = unique('metauser');
        assert.equal(await store.accounts.create(account(key)), true);
        await store.metadata.set(key, 'display-name', 'Gone soon', 10);
        assert.equal(await store.accounts.delete(key), true);
        assert.deepEqual(await store.metadata.list(key), []);
      });
    });

    // ---- server bans -----------------------------------------------------------------------

    describe('server bans', () => {
      function ban(kind: ServerBan['kind'], mask: string, overrides: Partial<ServerBan> = {}): ServerBan {
        return { kind, mask, reason: `reason for ${mask} ✓`, setBy: 'admin', setAt: BASE + 1, expiresAt: null, ...overrides };
      }
      /** This run's bans only: the database may hold other runs' too. */
      const mine = (bans: ServerBan[], prefix: string) => bans.filter((b) => b.mask.includes(prefix));

      it('save then list returns the ban unchanged; permanent and timed', async () => {
        const tag = unique('ban');
        const permanent = ban('kline', `~${tag}@*`);
        const timed = ban('dline', `${tag}`, { expiresAt: BASE + 3_600_000 });
        await store.bans.save(permanent);
        await store.bans.save(timed);
        assert.deepEqual(mine(await store.bans.list(BASE), tag), [timed, permanent]);
      });

      it('list orders by kind, then mask in code point order', async () => {
        const tag = unique('order');
        const masks = [`b${tag}`, `A${tag}`, `a${tag}`, `é${tag}`];
        for (const mask of masks) await store.bans.save(ban('kline', mask));
        await store.bans.save(ban('dline', `z${tag}`));
        const listed = mine(await store.bans.list(BASE), tag).map((b) => `${b.kind} ${b.mask}`);
        assert.deepEqual(listed, [`dline z${tag}`, `kline A${tag}`, `kline a${tag}`, `kline b${tag}`, `kline é${tag}`]);
      });

      it('save with the same kind and mask replaces reason, setter and expiry', async () => {
        const tag = unique('replace');
        await store.bans.save(ban('kline', `*@${tag}`, { expiresAt: BASE + 10 }));
        const replacement = ban('kline', `*@${tag}`, { reason: 'second', setBy: 'other', setAt: BASE + 5, expiresAt: null });
        await store.bans.save(replacement);
        assert.deepEqual(mine(await store.bans.list(BASE + 100), tag), [replacement]);
      });

      it('the same mask as a KLINE and a DLINE are two bans', async () => {
        const tag = unique('kinds');
        await store.bans.save(ban('kline', tag));
        await store.bans.save(ban('dline', tag));
        assert.equal(mine(await store.bans.list(BASE), tag).length, 2);
        assert.equal(await store.bans.delete('kline', tag), true);
        assert.deepEqual(mine(await store.bans.list(BASE), tag).map((b) => b.kind), ['dline']);
      });

      it('delete returns whether there was such a ban', async () => {
        const tag = unique('delete');
        await store.bans.save(ban('dline', tag));
        assert.equal(await store.bans.delete('dline', tag), true);
        assert.equal(await store.bans.delete('dline', tag), false);
        assert.equal(await store.bans.delete('kline', unique('never')), false);
        assert.deepEqual(mine(await store.bans.list(BASE), tag), []);
      });

      it('list leaves out bans expired at `now` (expiresAt <= now), pruned or not', async () => {
        const tag = unique('expiry');
        const ends = ban('kline', `a${tag}`, { expiresAt: BASE + 1000 });
        const later = ban('kline', `b${tag}`, { expiresAt: BASE + 2000 });
        await store.bans.save(ends);
        await store.bans.save(later);
        assert.deepEqual(mine(await store.bans.list(BASE + 999), tag), [ends, later]);
        assert.deepEqual(mine(await store.bans.list(BASE + 1000), tag), [later]);
        assert.deepEqual(mine(await store.bans.list(BASE + 2000), tag), []);
      });

      it('prune deletes the bans expired at `now`, counts them, and keeps the rest', async () => {
        const tag = unique('prune');
        await store.bans.save(ban('dline', `a${tag}`, { expiresAt: BASE + 1000 }));
        await store.bans.save(ban('dline', `b${tag}`, { expiresAt: BASE + 5000 }));
        await store.bans.save(ban('dline', `c${tag}`));
        const pruned = await store.bans.prune(BASE + 1000);
        assert.ok(pruned >= 1, `pruned ${pruned}`);
        // Still in force before their expiry: a list at an earlier time no longer sees the pruned one.
        assert.deepEqual(mine(await store.bans.list(BASE), tag).map((b) => b.mask), [`b${tag}`, `c${tag}`]);
        assert.equal(await store.bans.delete('dline', `a${tag}`), false);
      });
    });

    // ---- close and persistence ------------------------------------------------------------

    describe('close', () => {
      it('what one store wrote and closed over is seen by another over the same data', async () => {
        const second = await open();
        const conv = unique('#persist');
        const m = msg(conv, unique('id'), BASE + 1);
        const acct = account(unique('acct'));
        await second.history.append([m]);
        await second.accounts.create(acct);
        await second.readMarkers.set(acct.key, conv, BASE + 9);
        const kline: ServerBan = { kind: 'kline', mask: `*@${conv.slice(1)}`, reason: 'r', setBy: 'o', setAt: BASE, expiresAt: null };
        await second.bans.save(kline);
        await second.close();
        assert.deepEqual(await store.history.latest(conv, 10), [m]);
        assert.deepEqual(await store.accounts.get(acct.key), acct);
        assert.equal(await store.readMarkers.get(acct.key, conv), BASE + 9);
        assert.deepEqual((await store.bans.list(BASE)).filter((b) => b.mask === kline.mask), [kline]);
      });
    });
  });
}
