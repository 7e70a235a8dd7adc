/**
 * Issue 16: the example configuration is complete and true. config/parley.example.yaml has
 * every key of the schema, parses with the real loader, and holds the defaults except where
 * its comments say "default: ..."; docs/configuration.md's "complete example" is the same text.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { KEY_PATHS } from '../../src/config/walk.js';

const ROOT = resolve(import.meta.dirname, '../..');
const EXAMPLE = join(ROOT, 'config', 'parley.example.yaml');
const DOCS = join(ROOT, 'docs', 'configuration.md');

/** The YAML block after "A complete example" in docs/configuration.md. */
function docsExample(): string {
  const text = readFileSync(DOCS, 'utf8');
  const start = text.indexOf('```yaml\n', text.indexOf('A complete example'));
  assert.ok(start !== -1, 'docs/configuration.md has a complete example');
  const body = start + '```yaml\n'.length;
  return text.slice(body, text.indexOf('\n```', body) + 1);
}

const at = (value: unknown, path: readonly string[]): { found: boolean; value: unknown } => {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, key)) return { found: false, value: undefined };
    current = (current as Record<string, unknown>)[key];
  }
  return { found: true, value: current };
};

test('the example file has every key of the schema', () => {
  const example = parse(readFileSync(EXAMPLE, 'utf8')) as unknown;
  const missing = KEY_PATHS.filter((path) => !at(example, path).found).map((path) => path.join('.'));
  assert.deepEqual(missing, [], `keys missing from config/parley.example.yaml: ${missing.join(', ')}`);
  assert.ok(KEY_PATHS.length > 80, 'the schema walk sees the keys');
});

test('docs/configuration.md shows the example file, word for word', () => {
  assert.equal(docsExample(), readFileSync(EXAMPLE, 'utf8'));
});

test('the example parses with the real loader and holds the defaults, except where it says', () => {
  const example = loadConfig({ file: EXAMPLE, env: {} });
  const defaults = loadConfig({ env: {} });
  const differ = KEY_PATHS.filter((path) => {
    const a = at(example, path).value;
    const b = at(defaults, path).value;
    return (a === null || typeof a !== 'object' || Array.isArray(a)) && JSON.stringify(a) !== JSON.stringify(b);
  }).map((path) => path.join('.'));
  // Each of these has a "default: ..." comment in the file.
  assert.deepEqual(differ, ['server.name', 'server.network', 'listen', 'data_dir']);
  // data_dir is relative to the file: the repository's data/, as with npm start.
  assert.equal(example.data_dir, join(dirname(EXAMPLE), '..', 'data'));
  assert.equal(example.http.listen, '127.0.0.1:8080');
});
