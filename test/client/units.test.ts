import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { base64ToUtf8, utf8ToBase64 } from '../../src/client/base64.js';
import { backoffDelay, DEFAULT_BACKOFF } from '../../src/client/backoff.js';
import { Batches } from '../../src/client/batches.js';
import { HistoryTracker } from '../../src/client/history.js';
import { Isupport } from '../../src/client/isupport.js';
import { toChatMessage } from '../../src/client/messages.js';
import { authenticateChunks, ChallengeAssembler, chooseMechanism } from '../../src/client/sasl.js';
import { splitText } from '../../src/client/split-text.js';
import { ClientState } from '../../src/client/state.js';
import { parseMessage } from '../../src/protocol/index.js';

const msg = (line: string) => parseMessage(line)!;

describe('client engine parts', () => {
  it('keeps Node-only APIs out of the browser-safe files', () => {
    const dir = fileURLToPath(new URL('../../src/client/', import.meta.url));
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.startsWith('node-'))) {
      const source = readFileSync(dir + file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      assert.doesNotMatch(source, /from ['"]node:|require\(|\bBuffer\b|\bprocess\./, file);
      assert.doesNotMatch(source, /from ['"]\.\.\/(?!protocol\/)/, `${file} imports outside protocol/`);
    }
  });

  it('base64 round-trips UTF-8', () => {
    assert.equal(utf8ToBase64('a\0b\0pässwörd ✓'), Buffer.from('a\0b\0pässwörd ✓').toString('base64'));
    assert.equal(base64ToUtf8(utf8ToBase64('ü✓')), 'ü✓');
    assert.equal(base64ToUtf8('!!!'), null);
  });

  it('chunks AUTHENTICATE payloads at 400 and reassembles challenges', () => {
    assert.deepEqual(authenticateChunks(''), ['+']);
    const exact = authenticateChunks('x'.repeat(300)); // 400 base64 characters
    assert.deepEqual(exact.map((c) => c.length), [400, 1]);
    assert.equal(exact[1], '+');
    const assembler = new ChallengeAssembler();
    const long = utf8ToBase64('y'.repeat(450));
    assert.equal(assembler.push(long.slice(0, 400)), undefined);
    assert.equal(assembler.push(long.slice(400)), 'y'.repeat(450));
    assert.equal(assembler.push('+'), '');
  });

  it('prefers SCRAM when both sides have it', () => {
    const scram = () => ({ name: 'SCRAM-SHA-256', respond: () => '' });
    assert.equal(chooseMechanism(['PLAIN', 'SCRAM-SHA-256'], undefined, scram), 'SCRAM-SHA-256');
    assert.equal(chooseMechanism(['PLAIN', 'SCRAM-SHA-256'], undefined, undefined), 'PLAIN');
    assert.equal(chooseMechanism(['SCRAM-SHA-256'], 'PLAIN', scram), null);
    assert.equal(chooseMechanism([], undefined, scram), 'PLAIN');
  });

  it('parses ISUPPORT and folds per CASEMAPPING', () => {
    const isupport = new Isupport();
    assert.equal(isupport.fold('Nick[]'), 'nick{}');
    isupport.apply(['CASEMAPPING=ascii', 'PREFIX=(qov)~@+', 'CHANTYPES=#&', 'CHATHISTORY=100', 'NETWORK=Big\\x20Net', 'MSGREFTYPES=msgid,timestamp']);
    assert.equal(isupport.fold('Nick[]'), 'nick[]');
    assert.deepEqual(isupport.prefix, { modes: 'qov', symbols: '~@+' });
    assert.equal(isupport.chathistoryLimit, 100);
    assert.equal(isupport.network, 'Big Net');
    assert.ok(isupport.isRoom('&local'));
    isupport.apply(['-CHATHISTORY']);
    assert.equal(isupport.chathistoryLimit, 0);
  });

  it('keeps members and prefixes from NAMES and MODE', () => {
    const isupport = new Isupport();
    const state = new ClientState(isupport);
    state.selfJoined('#Room');
    state.addNames('#room', '@+Alice bob!b@host +carol');
    state.endNames('#ROOM');
    const members = state.room('#room')!.members;
    assert.deepEqual([...members.values()].map((m) => `${m.prefixes}${m.nick}`), ['@+Alice', 'bob', '+carol']);
    state.applyRoomModes('#room', '+ob-v+k', ['bob', 'x!*@*', 'carol', 'key']);
    assert.equal(members.get('bob')!.prefixes, '@');
    assert.equal(members.get('carol')!.prefixes, '');
    assert.deepEqual(state.rename('alice', 'Alicia'), ['#Room']);
    assert.deepEqual(state.removeEverywhere('ALICIA'), ['#Room']);
    state.disconnected();
    assert.equal(state.room('#room')!.joined, false);
  });

  it('turns PRIVMSG and NOTICE into chat messages', () => {
    const isupport = new Isupport();
    const dm = toChatMessage(msg('@time=2024-01-02T03:04:05.000Z;msgid=m1 :bob!b@h PRIVMSG me :\x01ACTION waves\x01'), 'me', isupport)!;
    assert.deepEqual([dm.conversation, dm.text, dm.isAction, dm.isOwn, dm.msgid, dm.time.toISOString()], ['bob', 'waves', true, false, 'm1', '2024-01-02T03:04:05.000Z']);
    const own = toChatMessage(msg(':Me!m@h PRIVMSG bob :hi'), 'me', isupport)!;
    assert.deepEqual([own.conversation, own.isOwn], ['bob', true]);
    assert.equal(toChatMessage(msg(':bob!b@h PRIVMSG @#ops :psst'), 'me', isupport)!.conversation, '#ops');
    assert.equal(toChatMessage(msg(':bob!b@h PRIVMSG me :\x01VERSION\x01'), 'me', isupport), null);
    assert.equal(toChatMessage(msg(':bob!b@h PRIVMSG me'), 'me', isupport), null);
  });

  it('gathers nested batches and drops what never closes', () => {
    const batches = new Batches();
    const outer = batches.handle(msg('@label=1 BATCH +a labeled-response')).started!;
    batches.handle(msg('@batch=a BATCH +b chathistory #r'));
    const line = msg('@batch=b :x!y@z PRIVMSG #r :hi');
    const inner = batches.add(line);
    assert.equal(batches.enclosing(inner, 'chathistory')?.id, 'b');
    assert.equal(batches.enclosing(inner, 'labeled-response')?.id, 'a');
    assert.deepEqual(batches.handle(msg('BATCH -b')).ended!.messages, [line]);
    assert.deepEqual(outer.messages, [line]);
    assert.deepEqual(batches.handle(msg('BATCH -zzz')), {});
  });

  it('remembers the last message seen per conversation and spots duplicates', () => {
    const tracker = new HistoryTracker();
    const at = (msgid: string, iso: string) => ({ msgid, time: new Date(iso) }) as never;
    assert.equal(tracker.see('#r', at('a', '2024-01-01T00:00:01Z')), true);
    assert.equal(tracker.see('#r', at('b', '2024-01-01T00:00:02Z')), true);
    assert.equal(tracker.see('#r', at('a', '2024-01-01T00:00:01Z')), false);
    assert.equal(tracker.reference('#r', ['msgid', 'timestamp']), 'msgid=b');
    assert.equal(tracker.reference('#r', ['timestamp']), 'timestamp=2024-01-01T00:00:02.000Z');
    assert.equal(tracker.reference('#other', []), null);
  });

  it('backs off exponentially, bounded, with jitter', () => {
    const options = { ...DEFAULT_BACKOFF, minDelayMs: 1000, maxDelayMs: 8000, jitter: 0.5 };
    assert.deepEqual([1, 2, 3, 4, 5, 50].map((n) => backoffDelay(n, options, () => 0)), [1000, 2000, 4000, 8000, 8000, 8000]);
    assert.equal(backoffDelay(3, options, () => 1), 2000);
  });

  it('splits text at spaces within a byte budget, never inside a character', () => {
    assert.deepEqual(splitText('aaa bbb ccc', 7), ['aaa bbb', 'ccc']);
    assert.deepEqual(splitText('abcdefghij', 4), ['abcd', 'efgh', 'ij']);
    const pieces = splitText('ü'.repeat(10), 5);
    assert.ok(pieces.every((p) => Buffer.byteLength(p) <= 5));
    assert.equal(pieces.join(''), 'ü'.repeat(10));
    assert.deepEqual(splitText('', 10), ['']);
  });
});
