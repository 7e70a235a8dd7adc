/**
 * The real `parley chat` in a pseudo-terminal (tmux) against a real server: what a person sees
 * and types. Every wait is bounded; every tmux session lives on a private tmux server.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { registerAccount } from '../helpers/accounts.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { hasTmux, killTmuxServer, TmuxChat } from '../helpers/tmux.js';

const ESC = '\x1b';

describe('parley chat in a terminal', { skip: !hasTmux && 'tmux is not installed' }, () => {
  const socket = `parley-test-${process.pid}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-chat-e2e-'));
  let server: TestServer;
  let port: number;
  before(async () => {
    server = await startTestServer({ data_dir: dataDir, accounts: { scrypt_log_n: 10 } });
    port = server.port;
  });
  after(async () => {
    killTmuxServer(socket);
    await server.stop();
  });

  it('two people chat: formatting, actions, direct messages, windows, mentions, and . to leave', async () => {
    const alice = TmuxChat.start(socket, 'alice', [`127.0.0.1:${port}`, '--nick', 'alice']);
    await alice.waitFor('You joined #lobby');
    await alice.waitFor(/\[#lobby\] alice›\s*$/m);

    // Bob is asked for his name.
    const bob = TmuxChat.start(socket, 'bob', [`127.0.0.1:${port}`]);
    await bob.waitFor('Your name:');
    bob.type('bob');
    await bob.waitFor('You joined #lobby');
    await alice.waitFor('bob joined');

    bob.type('hello *alice*, see _this_ and `code`');
    await alice.waitFor('hello alice, see this and code');
    const line = alice
      .screen(true)
      .split('\n')
      .find((l) => l.includes('see'))!;
    assert.ok(line.includes(`${ESC}[1malice`), `bold: ${JSON.stringify(line)}`);
    assert.ok(line.includes(`${ESC}[3mthis`), `italic: ${JSON.stringify(line)}`);
    assert.ok(/\x1b\[38;5;252m\x1b\[48;5;238mcode|\x1b\[38;5;252;48;5;238mcode/.test(line), `monospace: ${JSON.stringify(line)}`);
    // A mention: the sender is highlighted and the terminal bell rings.
    assert.ok(line.includes(`${ESC}[30m${ESC}[43mbob`) || line.includes(`${ESC}[30;43mbob`), `mention: ${JSON.stringify(line)}`);
    await alice.waitFor((out) => out.includes('\x07'), { read: () => alice.output() });

    bob.type('/me waves');
    await alice.waitFor('* bob waves');

    bob.type('/msg alice psst, just you');
    await alice.waitFor('bob (direct): psst, just you');
    await alice.waitFor(/\[#lobby\] 2:bob\(1\) alice›\s*$/m);
    alice.keys('M-2');
    await alice.waitFor('──── 2 bob ────');
    await alice.waitFor(/<bob> psst, just you/);
    await alice.waitFor(/\[bob\] alice›\s*$/m);
    alice.type('/switch 1');
    await alice.waitFor(/\[#lobby\] alice›\s*$/m);

    // Incoming lines never garble what is being typed.
    alice.type('half a thought', false);
    await alice.waitFor(/alice› half a thought$/m);
    for (let i = 1; i <= 3; i++) bob.type(`interruption ${i}`);
    await alice.waitFor('interruption 3');
    assert.match(alice.inputLine(), /^\[#lobby\] alice› half a thought$/);
    alice.keys('C-u');

    alice.type('.');
    await alice.waitFor('Server: Closing Link');
    await alice.waitFor(() => alice.exitCode() !== null);
    assert.equal(alice.exitCode(), '0');
    await bob.waitFor('alice quit (Quit: Leaving)');
    bob.type('.');
    await bob.waitFor(() => bob.exitCode() !== null);
    assert.equal(bob.exitCode(), '0');
  });

  it('says when the server goes away, reconnects, rejoins, and shows what was missed', async () => {
    const carol = TmuxChat.start(socket, 'carol', [`127.0.0.1:${port}`, '--nick', 'carol', '--room', 'ops']);
    await carol.waitFor('You joined #ops');
    await server.stop();
    await carol.waitFor('Disconnected: Closing Link');
    await carol.waitFor(/\[#ops\] offline carol›\s*$/m);
    // After a failed attempt the next one is at least a second away: time to say something she misses.
    await carol.waitFor('No connection (connection refused)');
    server = await startTestServer({ data_dir: dataDir, listen: [`127.0.0.1:${port}`], accounts: { scrypt_log_n: 10 } });
    const dave = await RawClient.register(port, 'dave');
    dave.send('JOIN #ops');
    dave.send('PRIVMSG #ops :said while carol was away');
    await dave.sync();
    await carol.waitFor('Reconnected as carol.', { timeoutMs: 15_000 });
    await carol.waitFor('Rejoined #ops');
    await carol.waitFor(/missed while disconnected ─+\n.*<dave> said while carol was away/);
    dave.send('PRIVMSG #ops :and now live');
    await carol.waitFor('<dave> and now live');
    dave.close();
    carol.type('/quit done here');
    await carol.waitFor(() => carol.exitCode() !== null);
    assert.equal(carol.exitCode(), '0');
  });

  it('asks for the password of a registered name (no echo); Enter picks another name', async () => {
    await registerAccount(port, 'gwen', 'gwen-password');
    const gwen = TmuxChat.start(socket, 'gwen', [`127.0.0.1:${port}`]);
    await gwen.waitFor('Your name:');
    gwen.type('gwen');
    await gwen.waitFor('gwen is a registered name: type its password, or just Enter to choose another name.');
    await gwen.waitFor(/Password for gwen:\s*$/m);
    gwen.type('not-gwens');
    await gwen.waitFor('Login as gwen failed');
    await gwen.waitFor((screen) => (screen.match(/Password for gwen:/g) ?? []).length === 2);
    gwen.type('gwen-password');
    await gwen.waitFor('as gwen, logged in as gwen.');
    await gwen.waitFor('You joined #lobby');
    for (const secret of ['not-gwens', 'gwen-password']) assert.ok(!gwen.screen().includes(secret), `${secret} is not shown`);
    gwen.type('.');
    await gwen.waitFor(() => gwen.exitCode() !== null);

    const guest = TmuxChat.start(socket, 'gwen-guest', [`127.0.0.1:${port}`]);
    await guest.waitFor('Your name:');
    guest.type('gwen');
    await guest.waitFor(/Password for gwen:\s*$/m);
    guest.type('');
    await guest.waitFor(/Your name:\s*$/m);
    guest.type('gwen_guest');
    await guest.waitFor('Connected to 127.0.0.1:');
    await guest.waitFor('You joined #lobby');
    assert.ok(!guest.screen().includes('logged in as'), 'a guest, not logged in');
    guest.type('.');
    await guest.waitFor(() => guest.exitCode() !== null);
    assert.equal(guest.exitCode(), '0');
  });

  it('offers to log in to a registered name, registers new ones, and wraps to a resized window', async () => {
    await registerAccount(port, 'erin', 'erin-password');
    // The server refuses a registered name to whoever has not logged in: the chat asks.
    const erin = TmuxChat.start(socket, 'erin', [`127.0.0.1:${port}`, '--nick', 'erin']);
    await erin.waitFor('Password for erin:');
    erin.type('erin-password');
    await erin.waitFor('as erin, logged in as erin.');
    assert.ok(!erin.screen().includes('erin-password'), 'the password is not shown');

    const frank = TmuxChat.start(socket, 'frank', [`127.0.0.1:${port}`, '--nick', 'frank']);
    await frank.waitFor('You joined #lobby');
    frank.type('/register');
    await frank.waitFor('Choose a password for frank:');
    frank.type('frank-password');
    await frank.waitFor('Type it again:');
    frank.type('frank-password');
    await frank.waitFor('Registered: frank is yours.');
    await frank.waitFor('You are logged in as frank.');
    assert.ok(!frank.screen().includes('frank-password'), 'the password is not shown');

    frank.resize(60, 20);
    erin.type(`${'word '.repeat(20)}end`);
    const screen = await frank.waitFor('end');
    const wrapped = screen.split('\n').filter((l) => l.includes('word') || l.trim() === 'end' || l.endsWith(' end'));
    assert.ok(wrapped.length >= 2, screen);
    assert.ok(wrapped.every((l) => l.length <= 60), screen);
    for (const chat of [erin, frank]) chat.type('.');
    await erin.waitFor(() => erin.exitCode() !== null);
    await frank.waitFor(() => frank.exitCode() !== null);

    // --login asks first and logs in while connecting (SASL), before NickServ can complain.
    const back = TmuxChat.start(socket, 'erin-again', [`127.0.0.1:${port}`, '--nick', 'erin', '--login']);
    await back.waitFor('Password for erin:');
    back.type('erin-password');
    await back.waitFor('as erin, logged in as erin.');
    assert.ok(!back.screen().includes('registered name'), 'no login offer when already logged in');
    back.type('.');
    await back.waitFor(() => back.exitCode() !== null);
  });
});
