/**
 * Issue 16, `parley chat` for a new user: the prompt after a login offer, first connections that
 * fail (certificate, plain port, refused, unknown host) end with a reason and a hint, piped input
 * with a bad name fails, and /register refuses a short password before asking for it twice.
 * Real servers on port 0, the real command as a child process or in tmux; every wait is bounded.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { registerAccount } from '../helpers/accounts.js';
import { runParleyAsync } from '../helpers/cli.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { makeCertificate } from '../helpers/tls-cert.js';
import { hasTmux, killTmuxServer, TmuxChat } from '../helpers/tmux.js';

/** `parley chat ARGS` with `input` piped in (not a terminal). */
const chatPiped = (args: string[], input: string) => runParleyAsync(['chat', ...args], input);

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe('parley chat: the first connection', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-chat-first-'));
  const { cert, key } = makeCertificate(dir);
  let server: TestServer;
  let port: number;
  let tlsPort: number;
  before(async () => {
    server = await startTestServer({ tls: { listen: ['127.0.0.1:0'], cert, key } });
    port = server.port;
    tlsPort = server.listeners.find((l) => l.kind === 'tls')!.port;
  });
  after(() => server.stop());

  it('a self-signed certificate ends the chat with the reason and the --insecure and --ca hints', async () => {
    const refused = await chatPiped([`127.0.0.1:${tlsPort}`, '--tls', '--nick', 'tess'], 'hello\n.\n');
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(refused.stderr, /could not connect to 127\.0\.0\.1:\d+ \(TLS\): certificate not trusted \(self-signed certificate\)/);
    assert.match(refused.stderr, /--insecure/);
    assert.match(refused.stderr, /--ca FILE/);
    assert.doesNotMatch(refused.stdout + refused.stderr, /trying again/);

    const insecure = await chatPiped([`127.0.0.1:${tlsPort}`, '--tls', '--insecure', '--nick', 'tess'], 'hello\n.\n');
    assert.equal(insecure.status, 0, insecure.stderr);
    assert.match(insecure.stdout, /You joined #lobby/);

    // The certificate is for "localhost": trusted as its own CA when connecting by that name.
    const trusted = await chatPiped([`localhost:${tlsPort}`, '--tls', '--ca', cert, '--nick', 'tess'], 'hello\n.\n');
    assert.equal(trusted.status, 0, trusted.stderr);
    assert.match(trusted.stdout, /You joined #lobby/);

    const missing = await chatPiped([`localhost:${tlsPort}`, '--tls', '--ca', join(dir, 'no-such.pem')], '');
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /--ca .*no-such\.pem: no such file/);
  });

  it('TLS to a plain port, a refused port and an unknown host each say what to check', async () => {
    const plain = await chatPiped([`127.0.0.1:${port}`, '--tls', '--nick', 'tess'], '');
    assert.equal(plain.status, 1, plain.stderr);
    assert.match(plain.stderr, /no TLS on that port/);
    assert.match(plain.stderr, /Leave out --tls/);

    const nobody = await closedPort();
    const refused = await chatPiped([`127.0.0.1:${nobody}`, '--nick', 'tess'], '');
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(refused.stderr, new RegExp(`could not connect to 127\\.0\\.0\\.1:${nobody}: connection refused`));
    assert.match(refused.stderr, /Is the server running/);

    // .invalid never resolves (RFC 6761).
    const unknown = await chatPiped(['no-such-host.invalid', '--nick', 'tess'], '');
    assert.equal(unknown.status, 1, unknown.stderr);
    assert.match(unknown.stderr, /unknown host/);
  });

  it('piped input: a name that is not valid is an error (exit 2) with the rules, before connecting', async () => {
    const result = await chatPiped([`127.0.0.1:${port}`], 'José García\nhello\n.\n');
    assert.equal(result.status, 2);
    assert.match(result.stderr, /"José García" cannot be a name: use up to 30 ASCII letters/);
    assert.doesNotMatch(result.stdout, /Connecting/);

    const valid = await chatPiped([`127.0.0.1:${port}`], 'piper\nhello\n.\n');
    assert.equal(valid.status, 0, valid.stderr);
    assert.match(valid.stdout, /<piper> hello/);
  });
});

describe('parley chat: accounts in a terminal', { skip: !hasTmux && 'tmux is not installed' }, () => {
  const socket = `parley-first-${process.pid}`;
  let server: TestServer;
  before(async () => {
    // timeout mode: the nick is granted and NickServ asks for the password once connected, so
    // the room is joined while the password question is on the input line.
    server = await startTestServer({ accounts: { scrypt_log_n: 10, nick_protection: 'timeout', password_min_length: 10 } });
  });
  after(async () => {
    killTmuxServer(socket);
    await server.stop();
  });

  it('the prompt shows the room joined while the login question was open, right or wrong password', async () => {
    await registerAccount(server.port, 'hana', 'hana-password');
    // Lines wait while a password is typed, so the join is seen from another member.
    const watcher = await RawClient.register(server.port, 'watcher');
    watcher.send('JOIN #lobby');
    await watcher.expectCommand('366');
    for (const [name, password, outcome] of [
      ['hana-wrong', 'not-hanas', 'Login failed'],
      ['hana-right', 'hana-password', 'You are logged in as hana.'],
    ] as const) {
      const hana = TmuxChat.start(socket, name, [`127.0.0.1:${server.port}`, '--nick', 'hana']);
      await hana.waitFor(/hana is a registered name\. Password to log in \(Enter to skip\):\s*$/m);
      await watcher.expect((m) => m.command === 'JOIN' && m.source?.startsWith('hana!') === true);
      hana.type(password);
      await hana.waitFor(outcome);
      await hana.waitFor(/^\[#lobby\] hana›\s*$/m);
      hana.type('.');
      await hana.waitFor(() => hana.exitCode() !== null);
      assert.equal(hana.exitCode(), '0');
      await watcher.expect((m) => m.command === 'QUIT' && m.source?.startsWith('hana!') === true);
    }
    watcher.close();
  });

  it('/register refuses a password shorter than the server minimum before asking for it again', async () => {
    const ivan = TmuxChat.start(socket, 'ivan', [`127.0.0.1:${server.port}`, '--nick', 'ivan']);
    await ivan.waitFor(/^\[#lobby\] ivan›\s*$/m);
    ivan.type('/register');
    await ivan.waitFor('Choose a password for ivan:');
    ivan.type('short');
    await ivan.waitFor('Password too short: use at least 10 characters. Nothing was registered');
    assert.ok(!ivan.screen().includes('Type it again'), ivan.screen());
    ivan.type('/register');
    await ivan.waitFor((s) => (s.match(/Choose a password for ivan:/g) ?? []).length === 2);
    ivan.type('long-enough-password');
    await ivan.waitFor('Type it again:');
    ivan.type('long-enough-password');
    await ivan.waitFor('Registered: ivan is yours.');
    ivan.type('.');
    await ivan.waitFor(() => ivan.exitCode() !== null);
  });
});
