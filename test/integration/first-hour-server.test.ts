/**
 * Issue 16, the server for a new operator: the start-up banner says what each address is for
 * and where the data is (relative data_dir in a config file: relative to that file), `serve
 * --help` describes --http, and the creator of an unregistered room is told what it forgets.
 * The real `parley serve` from the sources and real servers on 127.0.0.1 port 0.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { registerAccount, loginClient } from '../helpers/accounts.js';
import { runParleyAsync } from '../helpers/cli.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { makeCertificate } from '../helpers/tls-cert.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
// By its full address: the server may be started from a directory without node_modules.
const TSX = import.meta.resolve('tsx');
const children = new Set<ReturnType<typeof spawn>>();

/** `parley serve ARGS` until its banner ends ("Press Ctrl+C"), then SIGTERM; resolves with stdout. */
function banner(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const script = `const { main } = await import(${JSON.stringify(MAIN)}); const code = await main(process.argv.slice(1)); if (typeof code === 'number') process.exitCode = code;`;
  const child = spawn(process.execPath, ['--import', TSX, '--input-type=module', '-e', script, '--', 'serve', ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  let err = '';
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no banner in 20 s: ${out}${err}`));
    }, 20_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Press Ctrl+C to stop.')) {
        clearTimeout(timer);
        child.kill('SIGTERM');
        resolve(out);
      }
    });
    child.once('exit', () => {
      clearTimeout(timer);
      reject(new Error(`parley serve exited before its banner: ${out}${err}`));
    });
  });
}

describe('parley serve start-up banner', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-banner-'));
  after(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  });

  it('names the web client, WebSocket and health addresses, and the data directory', async () => {
    const out = await banner(['--listen', '127.0.0.1:0', '--http', '127.0.0.1:0', '--data', join(dir, 'plain')]);
    assert.match(out, /IRC on 127\.0\.0\.1:\d+ \(irssi: \/connect 127\.0\.0\.1 \d+; parley chat 127\.0\.0\.1:\d+\)/);
    assert.match(out, /Web client: http:\/\/127\.0\.0\.1:\d+\//);
    assert.match(out, /IRC over WebSocket: ws:\/\/127\.0\.0\.1:\d+\//);
    assert.match(out, /Health: http:\/\/127\.0\.0\.1:\d+\/healthz, \/readyz, \/metrics/);
    assert.ok(out.includes(`Data in ${join(dir, 'plain')} (SQLite)`), out);
  });

  it('says https and wss when http.tls is on', async () => {
    const { cert, key } = makeCertificate(dir);
    const out = await banner(['--listen', '127.0.0.1:0', '--http', '127.0.0.1:0', '--data', join(dir, 'tls')], {
      env: { PARLEY_HTTP__TLS: 'true', PARLEY_TLS__CERT: cert, PARLEY_TLS__KEY: key },
    });
    assert.match(out, /Web client: https:\/\/127\.0\.0\.1:\d+\//);
    assert.match(out, /IRC over WebSocket: wss:\/\/127\.0\.0\.1:\d+\//);
  });

  it('a relative data_dir in a config file is relative to the file, and the banner says where', async () => {
    const configDir = join(dir, 'etc');
    const elsewhere = join(dir, 'elsewhere');
    mkdirSync(configDir, { recursive: true });
    mkdirSync(elsewhere, { recursive: true });
    writeFileSync(join(configDir, 'parley.yaml'), 'data_dir: ./state\n');
    const out = await banner(['--config', join(configDir, 'parley.yaml'), '--listen', '127.0.0.1:0', '--http', '127.0.0.1:0'], { cwd: elsewhere });
    assert.ok(out.includes(`Data in ${join(configDir, 'state')} (SQLite)`), out);
  });

  it('serve --help describes --http as the web client, WebSocket and health listener', async () => {
    const help = await runParleyAsync(['serve', '--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /--http HOST:PORT\s+the web client's address \(http\.listen, default 127\.0\.0\.1:8080\):\s+the browser client, IRC over WebSocket, \/healthz, \/readyz and\s+\/metrics; https and wss with http\.tls/);
  });
});

describe('an unregistered room forgotten by a restart tells the first to come back', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-unregistered-'));
  let server: TestServer;
  after(() => server?.stop());

  const isNotice = (m: { command: string; source?: string; params: string[] }) => m.command === 'NOTICE' && m.source?.startsWith('ChanServ!') === true;

  it('once, to the first to join it after the restart; not new rooms, not registered ones', async () => {
    server = await startTestServer({ data_dir: dataDir, accounts: { scrypt_log_n: 10 } });
    await registerAccount(server.port, 'owner', 'owner-password');
    const owner = await loginClient(server.port, 'owner', 'owner', 'owner-password');
    owner.send('JOIN #kept,#fleeting');
    owner.send('TOPIC #fleeting :plans for friday');
    owner.send('PRIVMSG #fleeting :see you there');
    owner.send('PRIVMSG ChanServ :REGISTER #kept');
    await owner.expect((m) => isNotice(m) && /now registered/.test(m.params[1]!));
    const before = await owner.sync();
    assert.ok(!before.some((m) => isNotice(m) && /not registered/.test(m.params[1]!)), 'rooms new since the start say nothing');
    owner.close();

    await server.stop();
    server = await startTestServer({ data_dir: dataDir, accounts: { scrypt_log_n: 10 } });
    const first = await RawClient.register(server.port, 'first');
    first.send('JOIN #fleeting');
    const told = await first.expect(isNotice);
    assert.equal(
      told.params[1],
      '#fleeting is not registered, so the restart forgot its topic, modes and operators (they last only while someone is in it). To keep them, log in and /msg ChanServ REGISTER #fleeting',
    );
    const second = await RawClient.register(server.port, 'second');
    second.send('JOIN #fleeting');
    second.send('JOIN #kept');
    second.send('JOIN #brand-new');
    const lines = await second.sync();
    // Emptied and made again: the same room, told once already.
    second.send('PART #fleeting');
    await second.sync();
    first.send('PART #fleeting');
    first.send('JOIN #fleeting');
    lines.push(...(await first.sync()));
    assert.deepEqual(lines.filter(isNotice), [], 'no notice for an existing, a registered or a new room, nor a second time');
    first.close();
    second.close();
  });
});
