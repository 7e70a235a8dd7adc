import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encode, formattedPieces, nearest256, styleToSgr } from '../../src/cli/chat/ansi.js';
import { parseChatArgs } from '../../src/cli/chat/args.js';
import { nickColour } from '../../src/cli/chat/colours.js';
import { parseInput } from '../../src/cli/chat/commands.js';
import { formatTime, mentions } from '../../src/cli/chat/render.js';
import { Windows } from '../../src/cli/chat/windows.js';
import { textWidth, wrapPieces } from '../../src/cli/chat/wrap.js';
import { runParley } from '../helpers/cli.js';

describe('parley chat arguments', () => {
  it('defaults to 127.0.0.1:6667 and #lobby', () => {
    assert.deepEqual(parseChatArgs([]), { help: false, host: '127.0.0.1', port: 6667, tls: false, insecure: false, rooms: ['#lobby'], login: false });
  });

  it('reads host[:port], --tls, --nick, --room (repeatable, # optional)', () => {
    const args = parseChatArgs(['irc.example.org', '--tls', '--nick=alice', '--room', 'dev', '--room', '#ops']);
    assert.deepEqual([args.host, args.port, args.tls, args.nick, args.rooms], ['irc.example.org', 6697, true, 'alice', ['#dev', '#ops']]);
    assert.deepEqual([parseChatArgs(['[::1]:7000']).host, parseChatArgs(['[::1]:7000']).port], ['::1', 7000]);
    assert.equal(parseChatArgs(['[::1]']).port, 6667);
    assert.equal(parseChatArgs(['localhost:6668']).port, 6668);
  });

  it('refuses bad arguments with a readable reason', () => {
    assert.throws(() => parseChatArgs(['--nick']), /--nick needs a value/);
    assert.throws(() => parseChatArgs(['--nick', '9lives']), /cannot be a name/);
    assert.throws(() => parseChatArgs(['--frobnicate']), /unknown option --frobnicate/);
    assert.throws(() => parseChatArgs(['a', 'b']), /one server address/);
    assert.throws(() => parseChatArgs(['host:99999']), /port must be/);
    assert.throws(() => parseChatArgs(['::1']), /bad server address/);
  });

  it('exits 2 on bad arguments and 0 for --help', () => {
    const bad = runParley(['chat', '--port', '1']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^parley chat: unknown option --port/);
    const help = runParley(['chat', '--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /Usage: parley chat/);
    assert.match(runParley(['--help']).stdout, /chat {2,}chat in the terminal/);
  });
});

describe('chat input', () => {
  it('parses text, ., //, and every command', () => {
    assert.deepEqual(parseInput('hello'), { kind: 'say', text: 'hello' });
    assert.deepEqual(parseInput('  .  '), { kind: 'quit' });
    assert.deepEqual(parseInput('//not a command'), { kind: 'say', text: '/not a command' });
    assert.deepEqual(parseInput('   '), { kind: 'empty' });
    assert.deepEqual(parseInput('/me waves  slowly'), { kind: 'me', text: 'waves  slowly' });
    assert.deepEqual(parseInput('/join dev secret'), { kind: 'join', room: '#dev', key: 'secret' });
    assert.deepEqual(parseInput('/J #x'), { kind: 'join', room: '#x' });
    assert.deepEqual(parseInput('/part'), { kind: 'part' });
    assert.deepEqual(parseInput('/part #x see you'), { kind: 'part', room: '#x', reason: 'see you' });
    assert.deepEqual(parseInput('/part gone for lunch'), { kind: 'part', reason: 'gone for lunch' });
    assert.deepEqual(parseInput('/msg bob hi  there'), { kind: 'msg', target: 'bob', text: 'hi  there' });
    assert.deepEqual(parseInput('/query bob'), { kind: 'query', target: 'bob' });
    assert.deepEqual(parseInput('/nick carol'), { kind: 'nick', nick: 'carol' });
    assert.deepEqual(parseInput('/topic'), { kind: 'topic' });
    assert.deepEqual(parseInput('/topic new topic'), { kind: 'topic', topic: 'new topic' });
    assert.deepEqual(parseInput('/topic #x new'), { kind: 'topic', room: '#x', topic: 'new' });
    assert.deepEqual(parseInput('/names lobby'), { kind: 'names', room: '#lobby' });
    assert.deepEqual(parseInput('/who'), { kind: 'who' });
    assert.deepEqual(parseInput('/whois bob'), { kind: 'whois', nick: 'bob' });
    assert.deepEqual(parseInput('/list'), { kind: 'list' });
    assert.deepEqual(parseInput('/away lunch'), { kind: 'away', message: 'lunch' });
    assert.deepEqual(parseInput('/away'), { kind: 'away' });
    assert.deepEqual(parseInput('/switch 2'), { kind: 'switch', to: '2' });
    assert.deepEqual(parseInput('/windows'), { kind: 'windows' });
    assert.deepEqual(parseInput('/close'), { kind: 'close' });
    assert.deepEqual(parseInput('/login'), { kind: 'login' });
    assert.deepEqual(parseInput('/register me@example.org'), { kind: 'register', email: 'me@example.org' });
    assert.deepEqual(parseInput('/quote PING x'), { kind: 'quote', line: 'PING x' });
    assert.deepEqual(parseInput('/quit bye all'), { kind: 'quit', reason: 'bye all' });
    assert.deepEqual(parseInput('/help'), { kind: 'help' });
  });

  it('explains mistakes', () => {
    assert.deepEqual(parseInput('/msg bob'), { kind: 'usage', message: 'Usage: /msg nick text' });
    assert.deepEqual(parseInput('/me'), { kind: 'usage', message: 'Usage: /me action' });
    assert.match((parseInput('/frob') as { message: string }).message, /Unknown command \/frob/);
  });
});

describe('chat rendering', () => {
  it('spots mentions as whole words, ignoring case and formatting', () => {
    assert.ok(mentions('hey Alice!', 'alice'));
    assert.ok(mentions('\x02alice\x02: look', 'alice'));
    assert.ok(!mentions('malice aforethought', 'alice'));
    assert.ok(!mentions('alice_bot says hi', 'alice'));
    assert.ok(mentions('ping [x]', '[x]'));
  });

  it('shows the time, with the day when it is not today', () => {
    const now = new Date(2024, 4, 10, 15, 0);
    assert.equal(formatTime(new Date(2024, 4, 10, 9, 5), now), '09:05');
    assert.equal(formatTime(new Date(2024, 4, 9, 23, 59), now), '9 May 23:59');
  });

  it('renders IRC formatting as ANSI', () => {
    assert.equal(encode(formattedPieces('a\x02b')), '\x1b[0ma\x1b[0;1mb\x1b[0m');
    assert.equal(styleToSgr({ italic: true, underline: true, strikethrough: true, reverse: true }), '3;4;9;7');
    assert.equal(styleToSgr({ fg: 4, bg: 1 }), '91;40');
    assert.equal(styleToSgr({ fg: 52 }), '38;5;196');
    assert.equal(styleToSgr({ fg: '#808080' }), '38;5;244');
    assert.equal(styleToSgr({ monospace: true }), '38;5;252;48;5;238');
    assert.equal(nearest256('#000000'), 16);
  });

  it('gives each nick a stable colour, whatever its case', () => {
    assert.equal(nickColour('Alice'), nickColour('alice'));
    assert.equal(nickColour('alice'), nickColour('alice'));
    const colours = new Set(['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace'].map(nickColour));
    assert.ok(colours.size >= 4);
  });

  it('wraps at spaces with a hanging indent, counting wide characters twice', () => {
    const text = (lines: { text: string }[][]) => lines.map((l) => l.map((p) => p.text).join(''));
    const lines = wrapPieces([{ text: '12:00 <al> one two three four five six seven', sgr: '' }], 36, 11);
    assert.deepEqual(text(lines), ['12:00 <al> one two three four five', '           six seven']);
    // In a narrow window the indent shrinks to a third of the width.
    assert.deepEqual(text(wrapPieces([{ text: '12:00 <al> one two three', sgr: '' }], 15, 11)), ['12:00 <al> one', '     two three']);
    assert.deepEqual(text(wrapPieces([{ text: 'abcdefghijklmnop', sgr: '' }], 10, 2)), ['abcdefghij', '  klmnop']);
    assert.equal(textWidth('日本'), 4);
    assert.equal(textWidth('e\u0301'), 1);
    const wide = wrapPieces([{ text: '日本語日本語', sgr: '1' }], 10, 0);
    assert.deepEqual(wide.map((l) => l[0]!.text), ['日本語日本', '語']);
    // The lines of a multiline message each start a terminal line, with the hanging indent.
    assert.deepEqual(text(wrapPieces([{ text: '12:00 <al> one\ntwo\n\nthree', sgr: '' }], 40, 11)), ['12:00 <al> one', '           two', '           ', '           three']);
  });
});

describe('chat windows', () => {
  it('counts unread messages out of view and switches', () => {
    const windows = new Windows();
    const lobby = windows.open('#lobby', true);
    const dev = windows.open('#dev', true);
    const entry = { pieces: [], indent: 0 };
    assert.equal(windows.add(lobby, entry, { counts: true, highlight: false }), true);
    assert.equal(windows.add(dev, entry, { counts: true, highlight: true }), false);
    assert.deepEqual([lobby.unread, dev.unread, dev.highlighted], [0, 1, true]);
    assert.equal(windows.resolve('2'), dev);
    assert.equal(windows.resolve('DE'), dev);
    assert.equal(windows.resolve('#lobby'), lobby);
    windows.switchTo(dev);
    assert.deepEqual([windows.current, dev.unread, dev.highlighted], [dev, 0, false]);
    windows.close('#dev');
    assert.equal(windows.current, lobby);
  });
});
