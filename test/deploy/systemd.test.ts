import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ROOT } from '../helpers/cli-server.js';

// deploy/systemd/parley.service, checked with systemd's own tools offline (no systemd runs as
// PID 1 here, so the unit cannot be started): `systemd-analyze verify` parses every directive,
// `systemd-analyze security --offline` scores the sandboxing.

const UNIT = readFileSync(join(ROOT, 'deploy/systemd/parley.service'), 'utf8');
const directives = (name: string) => [...UNIT.matchAll(new RegExp(`^${name}=(.*)$`, 'gm'))].map((m) => m[1]!);

describe('deploy/systemd/parley.service', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-unit-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  // verify checks that ExecStart's program exists: point it at this checkout's, nothing else changed.
  const unitFile = join(dir, 'parley.service');
  writeFileSync(unitFile, UNIT.replace(/^ExecStart=\/usr\/local\/bin\/parley /m, `ExecStart=${process.execPath} ${join(ROOT, 'bin/parley.js')} `));
  const analyze = (args: string[]) => {
    const run = spawnSync('systemd-analyze', args, { encoding: 'utf8', timeout: 60_000 });
    assert.ok(!run.error, `systemd-analyze could not run (Debian's systemd package): ${run.error?.message}`);
    return run;
  };

  it('runs parley serve as an unprivileged user, stopped by SIGTERM, with its state in StateDirectory', () => {
    assert.match(directives('ExecStart')[0] ?? '', /\bparley serve\b/);
    assert.deepEqual(directives('User'), ['parley']);
    assert.deepEqual(directives('KillSignal'), ['SIGTERM']);
    assert.deepEqual(directives('StateDirectory'), ['parley']);
    assert.ok(directives('Environment').includes('PARLEY_DATA_DIR=/var/lib/parley'));
  });

  it('has the hardening options', () => {
    for (const [name, value] of [
      ['NoNewPrivileges', 'yes'], ['ProtectSystem', 'strict'], ['ProtectHome', 'yes'], ['PrivateTmp', 'yes'], ['PrivateDevices', 'yes'],
      ['RestrictAddressFamilies', 'AF_INET AF_INET6 AF_UNIX'], ['CapabilityBoundingSet', ''], ['SystemCallFilter', '@system-service'],
    ] as const) {
      assert.ok(directives(name).includes(value), `${name}=${value}`);
    }
    // V8 needs W+X pages: this option would kill the process at its first JIT compile.
    assert.deepEqual(directives('MemoryDenyWriteExecute'), []);
  });

  it('systemd-analyze verify accepts it', () => {
    const run = analyze(['verify', unitFile]);
    assert.equal(run.status, 0, run.stdout + run.stderr);
  });

  it('systemd-analyze security scores it OK (exposure at most 2.0 of 10)', () => {
    const run = analyze(['security', '--offline=true', '--no-pager', unitFile]);
    const exposure = /Overall exposure level for parley\.service: ([\d.]+)/.exec(run.stdout)?.[1];
    assert.ok(exposure, run.stdout + run.stderr);
    assert.ok(Number(exposure) <= 2, `exposure ${exposure}`);
  });
});
