import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { ROOT } from '../helpers/cli-server.js';

// .github/workflows: parsed as YAML and checked for what they must do, since GitHub is the only
// place they really run. ci.yml must keep doing what .ci/run does.

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  'runs-on'?: string;
  uses?: string;
  needs?: string | string[];
  container?: { image: string };
  services?: Record<string, { image: string; env?: Record<string, string> }>;
  env?: Record<string, string>;
  steps?: Step[];
}
interface Workflow {
  name: string;
  on: Record<string, unknown>;
  jobs: Record<string, Job>;
}

const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const workflow = (name: string) => parse(read(`.github/workflows/${name}`)) as Workflow;
const ci = workflow('ci.yml');
const release = workflow('release.yml');
const runs = (job: Job) => (job.steps ?? []).flatMap((s) => (s.run ? [s.run] : []));

describe('.github/workflows/ci.yml', () => {
  const job = ci.jobs.test!;

  it('runs on push and pull request, and can be called by the release', () => {
    for (const event of ['push', 'pull_request', 'workflow_call']) assert.ok(event in ci.on, `on: ${event}`);
  });

  it('starts Redis and PostgreSQL as services and points the tests at them', () => {
    const services = job.services ?? {};
    const byImage = (image: string) => Object.entries(services).find(([, s]) => s.image.startsWith(image));
    const redis = byImage('redis:');
    const postgres = byImage('postgres:');
    assert.ok(redis, 'a Redis service');
    assert.ok(postgres, 'a PostgreSQL service');
    // The URLs test/helpers use, with the services' hostnames.
    assert.match(job.env?.PARLEY_TEST_REDIS_URL ?? '', new RegExp(`^redis://${redis[0]}:6379/`));
    const pg = new URL(job.env?.PARLEY_TEST_PG_URL ?? 'invalid:');
    assert.equal(pg.hostname, postgres[0]);
    assert.equal(pg.pathname, `/${postgres[1].env?.POSTGRES_DB}`);
    assert.equal(postgres[1].env?.POSTGRES_HOST_AUTH_METHOD, 'trust'); // the helper sends no password
  });

  it('runs npm ci, then npm test', () => {
    const commands = runs(job);
    const install = commands.findIndex((r) => /^npm ci\b/m.test(r));
    const test = commands.findIndex((r) => /^npm test\b/m.test(r));
    assert.ok(install !== -1, 'npm ci');
    assert.ok(test > install, 'npm test after npm ci');
  });

  it('installs every package .ci/run installs (chromium for the browser tests among them)', () => {
    const ciRun = read('.ci/run');
    const wanted = new Set([...ciRun.matchAll(/missing="\$missing ([a-z0-9-]+)"/g)].map((m) => m[1]!));
    for (const m of ciRun.matchAll(/apt-get install -y ([a-z0-9 -]+)\)/g)) for (const p of m[1]!.split(' ')) if (p && !p.startsWith('-')) wanted.add(p);
    assert.ok(wanted.has('chromium') && wanted.has('haproxy'), `read from .ci/run: ${[...wanted].join(' ')}`);
    const apt = runs(job).find((r) => r.includes('apt-get install')) ?? '';
    for (const pkg of wanted) assert.match(apt, new RegExp(`\\b${pkg}\\b`), `ci.yml does not install ${pkg}`);
    for (const pkg of ['redis-server', 'systemd', 'tmux', 'openssl']) assert.match(apt, new RegExp(`\\b${pkg}\\b`), `ci.yml does not install ${pkg}`);
  });

  it('runs on Debian bookworm with Node 20, as the project does', () => {
    assert.match(job.container?.image ?? '', /^node:20-bookworm/);
  });
});

describe('.github/workflows/release.yml', () => {
  it('runs on a version tag, after the CI tests', () => {
    const tags = (release.on.push as { tags?: string[] } | undefined)?.tags ?? [];
    assert.ok(tags.some((t) => t.startsWith('v')), `tags: ${tags}`);
    assert.equal(release.jobs.test?.uses, './.github/workflows/ci.yml');
    for (const job of ['image', 'npm']) assert.equal(release.jobs[job]?.needs, 'test');
  });

  it('builds and pushes the container image from the Dockerfile', () => {
    const steps = release.jobs.image!.steps!;
    const build = steps.find((s) => s.uses?.startsWith('docker/build-push-action@'));
    assert.ok(build, 'docker/build-push-action');
    assert.equal(build.with?.push, true);
    assert.equal(build.with?.context, '.');
    assert.ok(steps.some((s) => s.uses?.startsWith('docker/login-action@')));
  });

  it('builds and publishes the npm package', () => {
    const commands = runs(release.jobs.npm!);
    const build = commands.findIndex((r) => /npm run build/.test(r));
    const publish = commands.findIndex((r) => /npm publish/.test(r));
    assert.ok(build !== -1 && publish > build, 'npm run build, then npm publish');
    // The tag names the version published.
    assert.ok(commands.some((r) => r.includes('GITHUB_REF_NAME') && r.includes('package.json')));
  });

  it('every action is pinned to a version', () => {
    for (const wf of [ci, release]) {
      for (const job of Object.values(wf.jobs)) for (const step of job.steps ?? []) if (step.uses) assert.match(step.uses, /^[\w.-]+\/[\w.-]+@v\d+/, step.uses);
    }
  });
});

describe('the npm package', () => {
  it('ships the built server and web client, not the sources or tests', () => {
    // --ignore-scripts: list what `files` selects without building.
    const pack = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    assert.equal(pack.status, 0, pack.stderr);
    const [info] = JSON.parse(pack.stdout) as [{ files: { path: string }[] }];
    const files = info.files.map((f) => f.path);
    for (const needed of ['bin/parley.js', 'dist/cli/main.js', 'web/dist/index.html', 'package.json', 'deploy/systemd/parley.service']) {
      assert.ok(files.includes(needed), `${needed} is not in the package (run npm run build first)`);
    }
    for (const path of files) assert.doesNotMatch(path, /^(src|test|bench|\.github)\//);
  });
});
