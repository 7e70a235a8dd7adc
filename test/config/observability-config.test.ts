import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseServeArgs, SERVE_HELP, UsageError } from '../../src/cli/serve-args.js';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { defaultConfig } from '../../src/config/schema.js';

test('metrics and log keys: defaults', () => {
  const config = defaultConfig();
  assert.deepEqual(config.metrics, { enabled: true, listen: null });
  assert.deepEqual(config.log, { level: 'info', format: 'auto', max_lines_per_second: 20 });
});

test('metrics and log keys: from the file layer and the environment', () => {
  const config = loadConfig({
    env: { PARLEY_METRICS__LISTEN: '127.0.0.1:9464', PARLEY_LOG__FORMAT: 'pretty' },
    overrides: { metrics: { enabled: false }, log: { max_lines_per_second: 5 } },
  });
  assert.deepEqual(config.metrics, { enabled: false, listen: '127.0.0.1:9464' });
  assert.equal(config.log.format, 'pretty');
  assert.equal(config.log.max_lines_per_second, 5);
  // An empty value is null for a nullable key: back on the HTTP port.
  assert.equal(loadConfig({ env: { PARLEY_METRICS__LISTEN: '' } }).metrics.listen, null);
});

test('metrics and log keys: bad values name the key', () => {
  const invalid = (options: Parameters<typeof loadConfig>[0], pattern: RegExp) => {
    assert.throws(() => loadConfig(options), (err: unknown) => err instanceof ConfigError && pattern.test(err.message));
  };
  invalid({ env: {}, overrides: { metrics: { listen: 'nowhere' } } }, /metrics\.listen/);
  invalid({ env: { PARLEY_LOG__FORMAT: 'xml' } }, /log\.format/);
  invalid({ env: {}, overrides: { log: { max_lines_per_second: 0 } } }, /log\.max_lines_per_second/);
  invalid({ env: {}, overrides: { metrics: { port: 1 } as never } }, /metrics/);
});

test('parley serve --log-format', () => {
  assert.deepEqual(parseServeArgs(['--log-format', 'pretty']).overrides, { log: { format: 'pretty' } });
  assert.deepEqual(parseServeArgs(['--log-format=json']).overrides, { log: { format: 'json' } });
  assert.throws(() => parseServeArgs(['--log-format', 'xml']), UsageError);
  assert.match(SERVE_HELP, /--log-format FORMAT/);
});
