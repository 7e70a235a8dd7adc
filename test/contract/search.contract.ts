/**
 * The SearchStore contract (src/store/store.ts, syntax in src/store/search-query.ts), checked
 * against every store that has `search`:
 *
 *   searchContract('SqliteStore', async () => openSqliteStore(dir), async () => rmSync(dir, ...));
 *
 * Every test uses conversations of its own (random per-run prefix), so the suite runs against a
 * database shared with other tests and runs. Where the interface leaves a detail open, the suite
 * pins one reading:
 * - Searching for a word finds it inside punctuation (`github.com/x`, `foo-bar`, `<b>x</b>`,
 *   `a@b.com`), as both indexes split text on punctuation.
 * - A page with exactly `limit` messages and nothing after it has `next: null`.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { isSearchQueryError, MAX_SEARCH_WORDS, parseSearchQuery } from '../../src/store/search-query.js';
import {
  dmKey,
  SEARCH_LIMIT_MAX,
  type SearchPage,
  type SearchQuery,
  type SearchRequest,
  type SearchStore,
  type Store,
  type StoredMessage,
} from '../../src/store/store.js';

const BASE = 1_767_225_600_000;
const STEP = 1000;

/** Inputs that FTS5 MATCH or to_tsquery would choke on if they were passed through. */
export const HOSTILE_QUERIES: readonly string[] = [
  '"',
  '""',
  '"""',
  '*',
  'a*',
  '* OR *',
  'NEAR(',
  'NEAR(a b, 2)',
  'NEAR(a b',
  '-',
  '-a',
  'a -b',
  ':',
  'text:a',
  'col:"a"',
  "'",
  "a'b",
  "'a' & 'b'",
  '\\',
  '\\\\a\\',
  'a\\"b',
  'AND OR NOT',
  'a AND',
  'OR b',
  'NOT',
  'a NOT b',
  '^a',
  '(a',
  'a)',
  '()',
  '{a b}',
  '[a]',
  'a <-> b',
  'a <2> b',
  'a & b | !c',
  '!!',
  'a:*',
  'a:AB',
  '%_%',
  "'; DROP TABLE messages; --",
  '" OR 1=1 --',
  '$1',
  '\u0001\u0002\u001f\u007f',
  'a\u0007b\u001bc',
  '\t\r\n\v\f',
  '\u200b\u200d\ufeff',
  '🍕',
  '🍕 pizza',
  '👩‍👩‍👧‍👦',
  'привет мир',
  '東京',
  'مرحبا',
  'שלום',
  'é',
  'e\u0301',
  '\ud800',
  '\udfff a',
  'from:',
  'from:a from:b',
  'from:' + 'x'.repeat(100),
  'a'.repeat(399),
  'x '.repeat(200),
  '"a" '.repeat(100),
  'a'.repeat(10 * 1024),
  'hello '.repeat(2000),
  '"'.repeat(10 * 1024),
  'NEAR('.repeat(2000),
  '\\'.repeat(10 * 1024),
];

export function searchContract(name: string, open: () => Promise<Store>, cleanup?: () => Promise<void>): void {
  describe(`SearchStore contract: ${name}`, () => {
    let store: Store;
    let search: SearchStore;
    const run = randomUUID().replaceAll('-', '').slice(0, 10);
    let seq = 0;
    const unique = (label: string): string => `${label}-${run}-${++seq}`;

    before(async () => {
      store = await open();
      assert.ok(store.search, `${name} has search`);
      search = store.search;
    });
    after(async () => {
      await store?.close();
      await cleanup?.();
    });

    let ids = 0;
    function msg(conversation: string, text: string, time: number, extra: Partial<StoredMessage> = {}): StoredMessage {
      return {
        msgid: `${conversation}/${String(++ids).padStart(6, '0')}`,
        time,
        conversation,
        source: 'nick!user@host.example',
        account: null,
        command: 'PRIVMSG',
        target: conversation,
        text,
        tags: {},
        ...extra,
      };
    }

    /** A fresh conversation holding these texts, one every STEP ms from BASE. */
    async function room(texts: readonly string[], label = '#search'): Promise<{ conv: string; msgs: StoredMessage[] }> {
      const conv = unique(label);
      const msgs = texts.map((t, i) => msg(conv, t, BASE + i * STEP));
      await store.history.append([...msgs].reverse()); // order must come from (time, msgid)
      return { conv, msgs };
    }

    function query(text: string): SearchQuery {
      const q = parseSearchQuery(text);
      if (isSearchQueryError(q)) throw new Error(`${JSON.stringify(text)}: ${q.message}`);
      return q;
    }

    const find = (conversations: string[], text: string, extra: Partial<SearchRequest> = {}): Promise<SearchPage> =>
      search.search({ conversations, query: query(text), limit: 100, ...extra });

    const texts = (page: SearchPage): string[] => page.messages.map((m) => m.text);

    // ---- matching -------------------------------------------------------------------------

    describe('matching', () => {
      it('finds a word anywhere in the text; the message comes back whole', async () => {
        const { conv, msgs } = await room(['the quick brown fox', 'lazy dogs sleep', 'a fox again']);
        const page = await find([conv], 'fox');
        assert.deepEqual(page.messages, [msgs[2], msgs[0]]);
        assert.equal(page.next, null);
        assert.deepEqual(texts(await find([conv], 'cat')), []);
      });

      it('words are ANDed, in any order', async () => {
        const { conv } = await room(['red apple', 'green apple', 'red car', 'apple pie is red']);
        assert.deepEqual(texts(await find([conv], 'red apple')), ['apple pie is red', 'red apple']);
        assert.deepEqual(texts(await find([conv], 'apple red')), ['apple pie is red', 'red apple']);
        assert.deepEqual(texts(await find([conv], 'red apple car')), []);
      });

      it('a quoted phrase needs its words adjacent and in order; words of a phrase are ANDed with the rest', async () => {
        const { conv } = await room(['good morning everyone', 'morning good', 'good and morning', 'everyone: GOOD MORNING!']);
        assert.deepEqual(texts(await find([conv], '"good morning"')), ['everyone: GOOD MORNING!', 'good morning everyone']);
        assert.deepEqual(texts(await find([conv], '"morning good"')), ['morning good']);
        assert.deepEqual(texts(await find([conv], 'everyone "good morning"')), ['everyone: GOOD MORNING!', 'good morning everyone']);
        assert.deepEqual(texts(await find([conv], '"good morning')), ['everyone: GOOD MORNING!', 'good morning everyone'], 'an unclosed quote runs to the end');
      });

      it('is case-insensitive, in Latin and other scripts; accents count', async () => {
        const { conv } = await room(['Hello World', 'ПРИВЕТ мир', 'Straße Ärger', 'café au lait']);
        assert.deepEqual(texts(await find([conv], 'HELLO world')), ['Hello World']);
        assert.deepEqual(texts(await find([conv], 'привет МИР')), ['ПРИВЕТ мир']);
        assert.deepEqual(texts(await find([conv], 'straße ärger')), ['Straße Ärger']);
        assert.deepEqual(texts(await find([conv], 'CAFÉ')), ['café au lait']);
        assert.deepEqual(texts(await find([conv], 'cafe')), [], 'accents are not folded');
      });

      it('punctuation separates words in messages as in queries', async () => {
        const { conv } = await room([
          'see https://github.com/parley/issues?q=search#top',
          'mail bob@example.org now',
          'a <b>bold</b> claim',
          'state-of-the-art',
          "don't panic",
          'version v1.2.3 and pi=3.14',
          'snake_case_name',
        ]);
        assert.deepEqual(texts(await find([conv], 'github')), ['see https://github.com/parley/issues?q=search#top']);
        assert.deepEqual(texts(await find([conv], 'parley issues')), ['see https://github.com/parley/issues?q=search#top']);
        assert.deepEqual(texts(await find([conv], 'github.com')), ['see https://github.com/parley/issues?q=search#top']);
        assert.deepEqual(texts(await find([conv], 'example')), ['mail bob@example.org now']);
        assert.deepEqual(texts(await find([conv], 'bold')), ['a <b>bold</b> claim']);
        assert.deepEqual(texts(await find([conv], 'art')), ['state-of-the-art']);
        assert.deepEqual(texts(await find([conv], '"of the art"')), ['state-of-the-art']);
        assert.deepEqual(texts(await find([conv], "don't")), ["don't panic"]);
        assert.deepEqual(texts(await find([conv], '3.14')), ['version v1.2.3 and pi=3.14']);
        assert.deepEqual(texts(await find([conv], 'case')), ['snake_case_name']);
      });

      it('emoji and non-Latin text: letters in any script are words, emoji are not searchable', async () => {
        const { conv } = await room(['pizza 🍕 tonight', '東京 に 行く', 'مرحبا بالعالم', 'שלום עולם', 'e\u0301te\u0301 à Paris']);
        assert.deepEqual(texts(await find([conv], 'pizza')), ['pizza 🍕 tonight']);
        assert.deepEqual(texts(await find([conv], '🍕pizza🍕')), ['pizza 🍕 tonight']);
        assert.deepEqual(texts(await find([conv], '東京')), ['東京 に 行く']);
        assert.deepEqual(texts(await find([conv], 'بالعالم')), ['مرحبا بالعالم']);
        assert.deepEqual(texts(await find([conv], '"שלום עולם"')), ['שלום עולם']);
        assert.deepEqual(texts(await find([conv], 'e\u0301te\u0301')), ['e\u0301te\u0301 à Paris']);
        const emoji = parseSearchQuery('🍕');
        assert.ok(isSearchQueryError(emoji) && emoji.error === 'EMPTY_QUERY');
      });

      it('from:nick keeps the messages of that sender (ascii casemapping), with the words', async () => {
        const conv = unique('#from');
        const msgs = [
          msg(conv, 'hello from alice', BASE, { source: 'Alice!a@h' }),
          msg(conv, 'hello from bob', BASE + 1, { source: 'bob!b@h' }),
          msg(conv, 'hello again', BASE + 2, { source: 'alice!other@h2' }),
          msg(conv, 'hello alicia', BASE + 3, { source: 'alicia!a@h' }),
        ];
        await store.history.append(msgs);
        assert.deepEqual(texts(await find([conv], 'hello from:ALICE')), ['hello again', 'hello from alice']);
        assert.deepEqual(texts(await find([conv], 'from:bob hello')), ['hello from bob']);
        assert.deepEqual(texts(await find([conv], 'hello from:carol')), []);
      });
    });

    // ---- scope and bounds -----------------------------------------------------------------

    describe('scope', () => {
      it('only the conversations given: a match elsewhere never leaks', async () => {
        const a = await room(['secret plans here'], '#a');
        const b = await room(['secret plans there'], '#b');
        const dm = dmKey(unique('ann'), unique('bob'));
        await store.history.append([msg(dm, 'secret plans in private', BASE)]);
        assert.deepEqual(texts(await find([a.conv], 'secret plans')), ['secret plans here']);
        assert.deepEqual(texts(await find([b.conv, unique('#none')], 'secret')), ['secret plans there']);
        assert.deepEqual(texts(await find([dm], 'secret')), ['secret plans in private']);
        // All three at BASE: the tie-break is msgid, bytewise descending ('@' > '#b' > '#a').
        assert.deepEqual(texts(await find([a.conv, b.conv, dm], 'secret')), [
          'secret plans in private',
          'secret plans there',
          'secret plans here',
        ]);
        assert.deepEqual(texts(await find([], 'secret')), []);
        assert.deepEqual(texts(await find([a.conv.toUpperCase()], 'secret')), [], 'keys are exact: the caller folds them');
      });

      it('time bounds are exclusive; with a cursor the stricter bound wins', async () => {
        const { conv, msgs } = await room(Array.from({ length: 10 }, (_, i) => `tick ${i}`));
        const t = (i: number) => msgs[i]!.time;
        assert.deepEqual(texts(await find([conv], 'tick', { after: t(6) })), ['tick 9', 'tick 8', 'tick 7']);
        assert.deepEqual(texts(await find([conv], 'tick', { before: t(2) })), ['tick 1', 'tick 0']);
        assert.deepEqual(texts(await find([conv], 'tick', { after: t(3), before: t(6) })), ['tick 5', 'tick 4']);
        assert.deepEqual(texts(await find([conv], 'tick', { after: t(3) - 0.5, before: t(6) + 0.5 })), ['tick 6', 'tick 5', 'tick 4', 'tick 3']);
        assert.deepEqual(texts(await find([conv], 'tick', { after: t(6), before: t(3) })), []);
        assert.deepEqual(texts(await find([conv], 'tick', { before: t(8), cursor: { time: t(5), msgid: msgs[5]!.msgid } })), ['tick 4', 'tick 3', 'tick 2', 'tick 1', 'tick 0']);
      });

      it('limit: at most that many, newest first; zero or less gives nothing; capped at SEARCH_LIMIT_MAX', async () => {
        const { conv } = await room(Array.from({ length: 5 }, (_, i) => `row ${i}`));
        const page = await find([conv], 'row', { limit: 2 });
        assert.deepEqual(texts(page), ['row 4', 'row 3']);
        assert.ok(page.next);
        assert.deepEqual(await find([conv], 'row', { limit: 0 }), { messages: [], next: null });
        assert.deepEqual(await find([conv], 'row', { limit: -3 }), { messages: [], next: null });
        assert.deepEqual(await find([conv], 'row', { limit: 5 }).then((p) => [p.messages.length, p.next]), [5, null]);
        assert.equal((await find([conv], 'row', { limit: Infinity })).messages.length, 5);
        assert.ok(SEARCH_LIMIT_MAX >= 100);
      });

      it('paging with next: every match exactly once, in (time, msgid) order, ties included', async () => {
        const convs = [unique('#page'), unique('#page')];
        const all: StoredMessage[] = [];
        for (let i = 0; i < 37; i++) {
          // Groups of three share a time, across both conversations.
          all.push(msg(convs[i % 2]!, `needle ${i} hay`, BASE + Math.floor(i / 3) * STEP));
          if (i % 5 === 0) all.push(msg(convs[i % 2]!, `only hay ${i}`, BASE + i)); // non-matching
        }
        await store.history.append(all);
        const expected = all
          .filter((m) => m.text.startsWith('needle'))
          .sort((x, y) => y.time - x.time || (y.msgid < x.msgid ? -1 : y.msgid > x.msgid ? 1 : 0))
          .map((m) => m.msgid);
        for (const limit of [1, 4, 7, 37]) {
          const got: string[] = [];
          let cursor: SearchRequest['cursor'];
          for (let pages = 0; ; pages++) {
            assert.ok(pages < 40, 'paging ends');
            const page = await find(convs, 'needle hay', { limit, cursor });
            got.push(...page.messages.map((m) => m.msgid));
            assert.ok(page.messages.length <= limit);
            if (!page.next) break;
            assert.equal(page.messages.length, limit);
            assert.deepEqual(page.next, { time: page.messages.at(-1)!.time, msgid: page.messages.at(-1)!.msgid });
            cursor = page.next;
          }
          assert.deepEqual(got, expected, `limit ${limit}`);
        }
      });

      it('a pruned message is no longer found; what remains still is', async () => {
        const { conv } = await room(['old needle', 'older needle', 'new needle', 'newest needle']);
        assert.equal((await find([conv], 'needle')).messages.length, 4);
        assert.equal(await store.history.prune(conv, { keep: 2 }), 2);
        assert.deepEqual(texts(await find([conv], 'needle')), ['newest needle', 'new needle']);
        assert.deepEqual(texts(await find([conv], 'old')), []);
        assert.equal(await store.history.prune(conv, { keep: 0 }), 2);
        assert.deepEqual(texts(await find([conv], 'needle')), []);
      });

      it('a redacted message is no longer found; the rest of its room still is', async () => {
        const { conv, msgs } = await room(['secret needle', 'plain needle']);
        assert.equal(await store.history.redact(conv, msgs[0]!.msgid), true);
        assert.deepEqual(texts(await find([conv], 'needle')), ['plain needle']);
        assert.deepEqual(texts(await find([conv], 'secret')), []);
      });

      it('a duplicate msgid appended again is found once', async () => {
        const { conv, msgs } = await room(['only once']);
        await store.history.append([msgs[0]!]);
        assert.deepEqual(texts(await find([conv], 'once')), ['only once']);
      });
    });

    // ---- hostile input --------------------------------------------------------------------

    describe('hostile queries', () => {
      it('never an SQL or FTS error: each input is a query that runs or an error value', async () => {
        const { conv } = await room([
          'a b c NEAR OR AND NOT',
          "text col a'b don't \\ backslash",
          'привет 東京 🍕 pizza',
          'hello world',
        ]);
        for (const text of HOSTILE_QUERIES) {
          const q = parseSearchQuery(text);
          if (isSearchQueryError(q)) {
            assert.match(q.error, /^(EMPTY_QUERY|QUERY_TOO_LONG|TOO_MANY_WORDS|INVALID_FROM)$/, JSON.stringify(text));
            assert.ok(q.message.length > 0);
            continue;
          }
          const page = await search.search({ conversations: [conv], query: q, limit: 10 });
          assert.ok(Array.isArray(page.messages), JSON.stringify(text));
        }
      });

      it('a query built by hand with syntax in its words runs as plain words', async () => {
        const { conv } = await room(['near a b', 'x or y']);
        const hand = (terms: string[][], from: string | null = null): Promise<SearchPage> =>
          search.search({ conversations: [conv], query: { terms, from }, limit: 10 });
        assert.deepEqual(texts(await hand([['NEAR(a', 'b)']])), ['near a b']);
        assert.deepEqual(texts(await hand([['"x"'], ['OR'], ['y*']])), ['x or y']);
        assert.deepEqual(texts(await hand([["'; DROP TABLE messages; --"]])), []);
        assert.deepEqual(texts(await hand([['🍕'], ['***']])), [], 'no searchable word left: no match');
        assert.deepEqual(texts(await hand([['x']], "'; --")), []);
        await assert.rejects(hand([Array.from({ length: MAX_SEARCH_WORDS + 1 }, () => 'x')]), RangeError);
        assert.equal((await store.history.latest(conv, 10)).length, 2, 'the table is still there');
      });

      it('bounded: long or wordy queries are refused before any work, at most MAX_SEARCH_WORDS words run', async () => {
        const { conv } = await room([Array.from({ length: MAX_SEARCH_WORDS }, (_, i) => `w${i}`).join(' ')]);
        const most = Array.from({ length: MAX_SEARCH_WORDS }, (_, i) => `w${i}`).join(' ');
        assert.equal((await find([conv], most)).messages.length, 1);
        assert.equal((await find([conv], `"${most}"`)).messages.length, 1);
        for (const [text, error] of [
          [`${most} w99`, 'TOO_MANY_WORDS'],
          [`"${most} w99"`, 'TOO_MANY_WORDS'],
          ['a'.repeat(10 * 1024), 'QUERY_TOO_LONG'],
          ['"a" '.repeat(2560), 'QUERY_TOO_LONG'],
        ] as const) {
          const q = parseSearchQuery(text);
          assert.ok(isSearchQueryError(q) && q.error === error, `${text.slice(0, 40)}: ${JSON.stringify(q).slice(0, 80)}`);
        }
      });
    });
  });
}
