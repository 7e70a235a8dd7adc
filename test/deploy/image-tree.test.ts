import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT } from '../helpers/cli-server.js';
import { RawClient } from '../helpers/raw-client.js';
import { all, copies, envOf, execForm, last, readDockerfile, type Stage } from './dockerfile.js';

// The container image without a container: the runtime stage's file tree is put together the way
// the Dockerfile does it (its COPY lines, read from the Dockerfile itself; node_modules from a
// production-only `npm ci --omit=dev` in a clean directory, as the deps stage does), then its
// ENTRYPOINT + CMD run with its ENV, the /data volume as a fresh directory and, when the test runs
// as root, an unprivileged uid as USER does. CI has no container daemon; where one exists,
// deploy/docker/smoke-test.sh checks the real image the same way.
//
// Needs `npm run build` first (npm test does it) and the npm registry; the install compiles
// better-sqlite3 from source when its prebuilt binary cannot be downloaded (2-3 minutes here).

const stages = readDockerfile(join(ROOT, 'Dockerfile'));
const runtime = stages.at(-1)!;
const stage = (name: string): Stage => {
  const found = stages.find((s) => s.name === name);
  assert.ok(found, `Dockerfile has a stage named ${name}`);
  return found;
};
const NOBODY = 65534;

describe('Dockerfile', () => {
  it('installs production dependencies only, with npm ci from the lock file', () => {
    assert.ok(all(stage('deps'), 'RUN').some((run) => /\bnpm ci\b.*--omit=dev/.test(run)));
    const nodeModules = copies(runtime).filter((c) => c.dest.replace(/^\.\//, '').startsWith('node_modules'));
    assert.deepEqual(nodeModules.map((c) => c.from), ['deps'], 'node_modules of the runtime come from the deps stage alone');
  });

  it('runs as a non-root user with its state in a /data volume', () => {
    const user = last(runtime, 'USER');
    assert.ok(user && !/^(root|0)(:|$)/.test(user), `USER ${user}`);
    assert.match(last(runtime, 'VOLUME') ?? '', /"\/data"/);
    assert.equal(envOf(runtime).PARLEY_DATA_DIR, '/data');
  });

  it('checks readiness, not mere liveness, and stops on SIGTERM in exec form', () => {
    const check = last(runtime, 'HEALTHCHECK') ?? '';
    const script = /"(\/app\/[^"]+\.mjs)"/.exec(check)?.[1];
    assert.ok(script, `HEALTHCHECK runs a script of the image: ${check}`);
    assert.match(readFileSync(join(ROOT, script.slice('/app/'.length)), 'utf8'), /path: '\/readyz'/);
    assert.deepEqual(execForm(last(runtime, 'ENTRYPOINT')!).slice(0, 1), ['node']);
    assert.deepEqual(execForm(last(runtime, 'CMD')!), ['serve']);
    assert.equal(last(runtime, 'STOPSIGNAL'), 'SIGTERM');
  });
});

describe('the image file tree, run as the image runs it', { timeout: 600_000 }, () => {
  const work = mkdtempSync(join(tmpdir(), 'parley-image-'));
  const workdir = last(runtime, 'WORKDIR')!; // /app
  const app = join(work, 'app');
  const data = join(work, 'data');
  let child: ChildProcess | undefined;
  let stderr = '';
  let ircPort = 0;
  let httpPort = 0;
  let exited: Promise<number | null>;

  // The Dockerfile's paths inside the image, mapped onto this machine.
  const inImage = (path: string) => (path.startsWith(workdir + '/') ? join(app, path.slice(workdir.length + 1)) : path);

  before(async () => {
    chmodSync(work, 0o755); // mkdtemp makes it 0700; the unprivileged user must reach /app
    const deps = join(work, 'deps');
    mkdirSync(deps);
    mkdirSync(app);
    for (const copy of copies(runtime)) {
      const target = join(app, copy.dest.replace(/^\.\/?/, ''));
      // As docker: a destination ending in / (or several sources) is a directory to copy into.
      const intoDirectory = copy.dest.endsWith('/') || copy.sources.length > 1;
      for (const source of copy.sources) {
        const dest = intoDirectory ? join(target, basename(source)) : target;
        let from: string;
        if (copy.from === 'deps') {
          assert.equal(source, '/src/node_modules');
          for (const file of ['package.json', 'package-lock.json']) cpSync(join(ROOT, file), join(deps, file));
          const install = spawnSync('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: deps, encoding: 'utf8', timeout: 540_000 });
          assert.equal(install.status, 0, `npm ci --omit=dev failed:\n${install.stdout}\n${install.stderr}`);
          from = join(deps, 'node_modules');
        } else if (copy.from === 'build') {
          from = join(ROOT, source.replace(/^\/src\//, '')); // the build stage's output is npm run build's
          assert.ok(existsSync(from), `${from} is missing: run npm run build first`);
        } else {
          assert.equal(copy.from, undefined, `COPY --from=${copy.from} is not followed by this test`);
          from = join(ROOT, source);
        }
        mkdirSync(join(dest, '..'), { recursive: true });
        cpSync(from, dest, { recursive: true });
      }
    }
    // The volume: empty and owned by the user the server runs as; the tree itself stays root's.
    mkdirSync(data);
    const asRoot = process.getuid?.() === 0;
    if (asRoot) chownSync(data, NOBODY, NOBODY);

    const [command, ...args] = [...execForm(last(runtime, 'ENTRYPOINT')!), ...execForm(last(runtime, 'CMD')!)].map(inImage);
    child = spawn(command === 'node' ? process.execPath : command!, args, {
      cwd: app,
      // Only the image's environment plus what `docker run -e` would set: loopback, port 0.
      env: { PATH: process.env.PATH, ...envOf(runtime), PARLEY_DATA_DIR: data, PARLEY_LISTEN: '127.0.0.1:0', PARLEY_HTTP__LISTEN: '127.0.0.1:0' },
      stdio: ['ignore', 'ignore', 'pipe'],
      ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}),
    });
    exited = new Promise((resolve) => child!.once('exit', (code) => resolve(code)));
    child.stderr!.setEncoding('utf8');
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening lines within 30 s:\n${stderr}`)), 30_000);
      child!.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${stderr}`)));
      child!.stderr!.on('data', (chunk: string) => {
        stderr += chunk;
        for (const line of stderr.split('\n')) {
          if (!line.startsWith('{')) continue;
          const entry = JSON.parse(line) as { msg?: string; transport?: string; port?: number };
          if (entry.msg !== 'listening') continue;
          if (entry.transport === 'tcp') ircPort = entry.port!;
          if (entry.transport === 'http') httpPort = entry.port!;
        }
        if (ircPort && httpPort) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  });

  after(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  });

  it('has no dev dependencies, sources or tests in the tree', () => {
    for (const dev of ['typescript', 'tsx', 'vite', 'irc-framework', 'playwright-core']) {
      assert.ok(!existsSync(join(app, 'node_modules', dev)), `${dev} is a dev dependency`);
    }
    for (const dir of ['src', 'test', 'bench']) assert.ok(!existsSync(join(app, dir)), `${dir}/ is not in the image`);
    assert.ok(existsSync(join(app, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node')));
  });

  it('answers /readyz, and the HEALTHCHECK script says healthy', async () => {
    const res = await fetch(`http://127.0.0.1:${httpPort}/readyz`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { status: string; checks: Record<string, string> };
    assert.equal(body.status, 'ready');
    assert.equal(body.checks.store, 'ok');

    const [command, ...args] = execForm(/CMD (\[.*\])/.exec(last(runtime, 'HEALTHCHECK')!)![1]!).map(inImage);
    const check = spawnSync(command === 'node' ? process.execPath : command!, args, {
      env: { PATH: process.env.PATH, ...envOf(runtime), PARLEY_HTTP__LISTEN: `127.0.0.1:${httpPort}` },
      encoding: 'utf8',
      timeout: 10_000,
    });
    assert.equal(check.status, 0, check.stderr);
  });

  it('serves the built web client', async () => {
    const res = await fetch(`http://127.0.0.1:${httpPort}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
  });

  it('registers an IRC client and keeps its store in the volume', async () => {
    const client = await RawClient.register(ircPort, 'imagetest');
    client.send('QUIT :done');
    await client.closedByServer();
    assert.ok(existsSync(join(data, 'parley.sqlite3')), 'the SQLite store is in the data volume');
  });

  it('stops cleanly on SIGTERM (docker stop)', async () => {
    child!.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    assert.match(stderr, /"msg":"stopped"/);
  });
});
