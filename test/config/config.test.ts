import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, loadConfig, parseHostPort } from '../../src/config/load.js';
import { defaultConfig } from '../../src/config/schema.js';
import { parseServeArgs, SERVE_HELP, UsageError } from '../../src/cli/serve-args.js';

const dir = mkdtempSync(join(tmpdir(), 'parley-config-'));
let fileCount = 0;
function yamlFile(text: string): string {
  const file = join(dir, `c${fileCount++}.yaml`);
  writeFileSync(file, text);
  return file;
}

/** Asserts loadConfig throws a ConfigError whose message matches every pattern. */
function assertInvalid(options: Parameters<typeof loadConfig>[0], ...patterns: RegExp[]): ConfigError {
  let caught: unknown;
  try {
    loadConfig(options);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ConfigError, `expected ConfigError, got ${String(caught)}`);
  for (const p of patterns) assert.match(caught.message, p);
  return caught;
}

test('defaults with no file', () => {
  const config = loadConfig({ env: {} });
  assert.deepEqual(config, defaultConfig());
  assert.equal(config.server.name, 'parley.local');
  assert.deepEqual(config.listen, ['127.0.0.1:6667']);
  assert.equal(config.limits.sendq_bytes, 1048576);
  assert.equal(config.http.listen, '127.0.0.1:8080');
  assert.equal(config.log.level, 'info');
});

test('defaultConfig returns fresh objects', () => {
  defaultConfig().listen.push('0.0.0.0:1');
  assert.deepEqual(defaultConfig().listen, ['127.0.0.1:6667']);
});

test('a YAML file overrides some keys and keeps other defaults', () => {
  const file = yamlFile(`
server:
  name: irc.example.org
  motd_file: motd.txt
listen: ['0.0.0.0:6667', '[::]:6667']
limits:
  nick_length: 20
  ping_interval_seconds: 0.5
log:          # every key commented out: still means defaults
`);
  const config = loadConfig({ file, env: {} });
  assert.equal(config.server.name, 'irc.example.org');
  assert.equal(config.server.network, 'Parley');
  assert.deepEqual(config.listen, ['0.0.0.0:6667', '[::]:6667']);
  assert.equal(config.limits.nick_length, 20);
  assert.equal(config.limits.ping_interval_seconds, 0.5);
  assert.equal(config.limits.topic_length, 390);
  assert.equal(config.log.level, 'info');
  // Relative paths in a file are relative to the file, not to cwd.
  assert.equal(config.server.motd_file, join(dir, 'motd.txt'));
});

test('an empty file means all defaults', () => {
  assert.deepEqual(loadConfig({ file: yamlFile(''), env: {} }), defaultConfig());
});

test('environment overrides the file', () => {
  const file = yamlFile('server:\n  name: from.file\n  network: FileNet\nlimits:\n  sendq_bytes: 8192\ndata_dir: filedata\n');
  const config = loadConfig({
    file,
    env: {
      PARLEY_SERVER__NAME: 'from.env',
      PARLEY_LIMITS__SENDQ_BYTES: '16384',
      PARLEY_LISTEN: '127.0.0.1:6667, 127.0.0.1:6668',
      PARLEY_DATA_DIR: 'envdata',
      PARLEY_SERVER__PASSWORD: 'hunter2',
      PATH: '/usr/bin', // non-PARLEY variables are ignored
    },
  });
  assert.equal(config.server.name, 'from.env');
  assert.equal(config.server.network, 'FileNet');
  assert.equal(config.limits.sendq_bytes, 16384);
  assert.deepEqual(config.listen, ['127.0.0.1:6667', '127.0.0.1:6668']);
  assert.equal(config.server.password, 'hunter2');
  // From the environment, so it stays relative to cwd.
  assert.equal(config.data_dir, 'envdata');
});

test('empty env values mean null for nullable keys and [] for lists', () => {
  const file = yamlFile('server:\n  password: secret\n');
  const config = loadConfig({ file, env: { PARLEY_SERVER__PASSWORD: '', PARLEY_LISTEN: '' } });
  assert.equal(config.server.password, null);
  assert.deepEqual(config.listen, []);
});

test('flags override the environment', () => {
  const { overrides } = parseServeArgs(['--listen', '127.0.0.1:7000', '--data=/srv/parley', '--http', '127.0.0.1:8080']);
  const config = loadConfig({
    env: { PARLEY_LISTEN: '127.0.0.1:6667', PARLEY_DATA_DIR: '/env', PARLEY_HTTP__LISTEN: '127.0.0.1:9090' },
    overrides,
  });
  assert.deepEqual(config.listen, ['127.0.0.1:7000']);
  assert.equal(config.data_dir, '/srv/parley');
  assert.equal(config.http.listen, '127.0.0.1:8080');
});

test('invalid: wrong type', () => {
  const file = yamlFile('limits:\n  topic_length: long\n');
  const err = assertInvalid({ file, env: {} }, /limits\.topic_length: expected a number, got "long"/);
  assert.match(err.message, new RegExp(`${file.replace(/[.\\]/g, '\\$&')}:2`)); // names file and line
  assertInvalid({ env: {}, overrides: { listen: '0.0.0.0:1' as unknown as string[] } }, /listen: expected a list/);
  assertInvalid({ file: yamlFile('limits:\n  nick_length: 1.5\n'), env: {} }, /limits\.nick_length: expected a whole number, got 1\.5/);
});

test('invalid: out of range', () => {
  assertInvalid(
    { env: { PARLEY_LIMITS__SENDQ_BYTES: '12' } },
    /^invalid configuration: limits\.sendq_bytes: must be at least 4096 \(got 12\) \[env PARLEY_LIMITS__SENDQ_BYTES\]$/,
  );
  assertInvalid({ file: yamlFile('limits:\n  nick_length: 65\n'), env: {} }, /limits\.nick_length: must be at most 64 \(got 65\)/);
  assertInvalid({ file: yamlFile('shutdown_timeout_seconds: 0\n'), env: {} }, /shutdown_timeout_seconds: must be greater than 0/);
  assertInvalid({ file: yamlFile('log:\n  level: loud\n'), env: {} }, /log\.level: must be one of "debug", "info", "warn", "error"/);
  assertInvalid({ file: yamlFile('server:\n  name: bad name\n'), env: {} }, /server\.name: must be a host name/);
});

test('invalid: several problems give one line each', () => {
  const err = assertInvalid({ file: yamlFile('limits:\n  sendq_bytes: 1\n  nick_length: 0\n'), env: {} });
  assert.equal(err.problems.length, 2);
  assert.equal(err.message.split('\n').length, 2);
});

test('invalid: unknown keys', () => {
  assertInvalid({ file: yamlFile('limits:\n  sendq: 5000\n'), env: {} }, /limits\.sendq: unknown key/);
  assertInvalid({ file: yamlFile('motd_file: motd.txt\n'), env: {} }, /motd_file: unknown key \(did you mean server\.motd_file\?\)/);
  assertInvalid({ env: { PARLEY_LIMITS__SENDQ: '5000' } }, /PARLEY_LIMITS__SENDQ: not a configuration key/);
  assertInvalid({ env: { PARLEY_LIMITS_SENDQ_BYTES: '5000' } }, /did you mean PARLEY_LIMITS__SENDQ_BYTES\?/);
  assertInvalid({ env: { PARLEY_SERVER: 'x' } }, /PARLEY_SERVER: is a section/);
});

test('invalid: bad HOST:PORT', () => {
  assertInvalid({ file: yamlFile('listen: [nonsense]\n'), env: {} }, /listen\[0\]: expected HOST:PORT, got "nonsense"/);
  assertInvalid({ env: { PARLEY_LISTEN: '127.0.0.1:6667,127.0.0.1:70000' } }, /listen\[1\]: port must be 0\.\.65535/);
  assertInvalid({ env: {}, overrides: { http: { listen: '::1:80' } } }, /http\.listen: expected HOST:PORT.*\[command line\]/);
  assertInvalid({ env: {}, overrides: { tls: { listen: [':6697'], cert: 'c.pem', key: 'k.pem' } } }, /tls\.listen\[0\]: missing host/);
});

test('invalid: tls.listen without cert and key', () => {
  const err = assertInvalid({ file: yamlFile('tls:\n  listen: ["0.0.0.0:6697"]\n'), env: {} }, /tls\.cert: is required/, /tls\.key: is required/);
  assert.equal(err.problems.length, 2);
  const ok = loadConfig({ file: yamlFile('tls:\n  listen: ["0.0.0.0:6697"]\n  cert: c.pem\n  key: /abs/k.pem\n'), env: {} });
  assert.equal(ok.tls.cert, join(dir, 'c.pem'));
  assert.equal(ok.tls.key, '/abs/k.pem');
});

test('missing file', () => {
  const file = join(dir, 'does-not-exist.yaml');
  assertInvalid({ file, env: {} }, /cannot read config file .*does-not-exist\.yaml: file not found/);
});

test('YAML syntax error', () => {
  assertInvalid({ file: yamlFile('limits:\n  sendq_bytes: [1\n'), env: {} }, /YAML syntax error at line \d+, column \d+/);
  assertInvalid({ file: yamlFile('a: 1\na: 2\n'), env: {} }, /line 2.*Map keys must be unique/);
  assertInvalid({ file: yamlFile('- 1\n- 2\n'), env: {} }, /top level must be a mapping/);
});

test('the example config file loads', () => {
  const file = resolve(import.meta.dirname, '../../config/parley.example.yaml');
  const config = loadConfig({ file, env: {} });
  assert.equal(config.server.name, 'irc.example.org');
  assert.deepEqual(config.listen, ['127.0.0.1:6667', '[::1]:6667']);
});

test('parseHostPort', () => {
  assert.deepEqual(parseHostPort('127.0.0.1:6667'), { host: '127.0.0.1', port: 6667 });
  assert.deepEqual(parseHostPort('[::1]:6697'), { host: '::1', port: 6697 });
  assert.deepEqual(parseHostPort('localhost:0'), { host: 'localhost', port: 0 });
  for (const bad of ['nonsense', '::1:6667', '[::1]', 'host:', ':6667', 'host:65536', 'host:-1', '[zz]:1', 'a b:1']) {
    assert.throws(() => parseHostPort(bad), ConfigError, bad);
  }
});

test('parseServeArgs: no arguments', () => {
  assert.deepEqual(parseServeArgs([]), { help: false, overrides: {} });
});

test('parseServeArgs: all options, both spellings', () => {
  const args = parseServeArgs([
    '--config=parley.yaml',
    '--listen', '127.0.0.1:6667',
    '--listen=[::1]:6667',
    '--tls-listen', '0.0.0.0:6697',
    '--http=127.0.0.1:8080',
    '--data', '/var/lib/parley',
  ]);
  assert.deepEqual(args, {
    help: false,
    configFile: 'parley.yaml',
    overrides: {
      listen: ['127.0.0.1:6667', '[::1]:6667'],
      tls: { listen: ['0.0.0.0:6697'] },
      http: { listen: '127.0.0.1:8080' },
      data_dir: '/var/lib/parley',
    },
  });
});

test("parseServeArgs: repeated --listen replaces the file's list", () => {
  const file = yamlFile('listen: ["127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"]\n');
  const { overrides } = parseServeArgs(['--listen', '127.0.0.1:7001', '--listen', '127.0.0.1:7002']);
  assert.deepEqual(loadConfig({ file, env: {}, overrides }).listen, ['127.0.0.1:7001', '127.0.0.1:7002']);
});

test('parseServeArgs: help', () => {
  assert.equal(parseServeArgs(['--help']).help, true);
  assert.equal(parseServeArgs(['-h']).help, true);
  for (const option of ['--config', '--listen', '--tls-listen', '--http', '--data', '--help', 'PARLEY_', 'docs/configuration.md']) {
    assert.ok(SERVE_HELP.includes(option), `help mentions ${option}`);
  }
});

test('parseServeArgs: usage errors', () => {
  assert.throws(() => parseServeArgs(['--bogus']), { name: 'UsageError', message: /unknown option --bogus/ });
  assert.throws(() => parseServeArgs(['--bogus=1']), /unknown option --bogus/);
  assert.throws(() => parseServeArgs(['--config']), /option --config needs a value/);
  assert.throws(() => parseServeArgs(['--listen', '--data', 'x']), /option --listen needs a value/);
  assert.throws(() => parseServeArgs(['--data=']), /option --data needs a value/);
  assert.throws(() => parseServeArgs(['--data', 'a', '--data', 'b']), /--data given more than once/);
  assert.throws(() => parseServeArgs(['extra']), /unexpected argument "extra"/);
  assert.throws(() => parseServeArgs(['--bogus']), UsageError);
});

test('abuse limits: defaults protect, addresses are checked, proxy and STS need their companions', () => {
  const config = loadConfig({ env: {} });
  assert.deepEqual(config.limits.exempt_addresses, []);
  assert.equal(config.limits.command_burst, 16);
  assert.equal(config.limits.max_connections_per_address, 16);
  assert.equal(config.accounts.max_registrations_per_address_per_hour, 5);
  assert.equal(config.tls.sts_duration_seconds, null);
  assert.deepEqual(config.proxy, { listen: [], tls_listen: [], trusted: [] });

  const fromEnv = loadConfig({ env: { PARLEY_LIMITS__EXEMPT_ADDRESSES: '127.0.0.1, 10.0.0.0/8,2001:db8::/32', PARLEY_PROXY__TRUSTED: '192.0.2.1' } });
  assert.deepEqual(fromEnv.limits.exempt_addresses, ['127.0.0.1', '10.0.0.0/8', '2001:db8::/32']);
  assert.deepEqual(fromEnv.proxy.trusted, ['192.0.2.1']);

  assertInvalid({ env: { PARLEY_LIMITS__EXEMPT_ADDRESSES: '10.0.0.0/33' } }, /limits\.exempt_addresses\[0\]: must be an IP address or a CIDR network/);
  assertInvalid({ env: {}, overrides: { proxy: { listen: ['0.0.0.0:6668'] } } }, /proxy\.trusted: must name the load balancers/);
  assertInvalid({ env: {}, overrides: { proxy: { tls_listen: ['0.0.0.0:6698'], trusted: ['10.0.0.1'] } } }, /tls\.cert: is required/);
  assertInvalid({ env: {}, overrides: { tls: { sts_duration_seconds: 60 } } }, /tls\.sts_duration_seconds: needs a TLS listener/);
  assert.equal(loadConfig({ env: {}, overrides: { tls: { sts_duration_seconds: 60, sts_port: 6697 } } }).tls.sts_port, 6697);
  assertInvalid({ env: {}, overrides: { limits: { recvq_bytes: 100 } } }, /limits\.recvq_bytes: must be at least 8704/);
});
