import type { z } from 'zod';
import { KEY_PATHS } from './walk.js';

/** Any problem with the configuration. `message` has one line per problem. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
  }
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const p of path) v = v == null ? undefined : (v as Record<PropertyKey, unknown>)[p];
  return v;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a section';
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a section (mapping of keys)',
};

/** Turns a zod issue into readable problems (one per unknown key, else one). */
export function explain(issue: z.core.$ZodIssue, root: unknown): { path: PropertyKey[]; text: string }[] {
  const path = issue.path;
  const got = valueAt(root, path);
  const text = ((): string => {
    switch (issue.code) {
      case 'invalid_type':
        return `expected ${EXPECTED[issue.expected] ?? issue.expected}, got ${describe(got)}`;
      case 'too_small':
      case 'too_big': {
        const small = issue.code === 'too_small';
        const bound = small ? issue.minimum : issue.maximum;
        if (issue.origin === 'string') {
          return small && bound === 1 ? 'must not be empty' : `must be ${small ? 'at least' : 'at most'} ${bound} characters`;
        }
        if (issue.origin === 'array') return `must have ${small ? 'at least' : 'at most'} ${bound} entries`;
        const cmp = issue.inclusive === false ? (small ? 'greater than' : 'less than') : small ? 'at least' : 'at most';
        return `must be ${cmp} ${bound} (got ${describe(got)})`;
      }
      case 'invalid_value':
        return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')} (got ${describe(got)})`;
      case 'invalid_format':
        return `${issue.message} (got ${describe(got)})`;
      default:
        return issue.message;
    }
  })();
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => {
      const elsewhere = KEY_PATHS.filter((p) => p.at(-1) === key).map((p) => p.join('.'));
      return { path: [...path, key], text: `unknown key${elsewhere.length ? ` (did you mean ${elsewhere.join(' or ')}?)` : ''}` };
    });
  }
  return [{ path, text }];
}
