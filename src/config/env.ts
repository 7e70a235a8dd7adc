import { z } from 'zod';
import { schemaAt, unwrap } from './walk.js';

// Environment: PARLEY_<SECTION>__<KEY>, values coerced by the schema's type.

const ENV_PREFIX = 'PARLEY_';
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

export interface EnvLayer {
  data: Record<string, unknown>;
  where(path: readonly PropertyKey[]): string;
  /** Variables that do not map to a key; reported alongside schema problems. */
  problems: string[];
}

export function envLayer(env: NodeJS.ProcessEnv): EnvLayer {
  const data: Record<string, unknown> = {};
  const vars = new Map<string, string>(); // key path -> variable that set it
  const problems: string[] = [];

  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || raw === undefined) continue;
    const path = name.slice(ENV_PREFIX.length).toLowerCase().split('__');
    const leaf = schemaAt(path);
    if (!leaf || leaf.schema instanceof z.ZodObject) {
      problems.push(`invalid configuration: ${name}: ${envHint(name, leaf?.schema)}`);
      continue;
    }
    let target = data;
    for (const seg of path.slice(0, -1)) target = (target[seg] ??= {}) as Record<string, unknown>;
    target[path.at(-1)!] = coerce(raw, leaf.schema, leaf.nullable);
    vars.set(path.join('.'), name);
  }

  return {
    data,
    problems,
    where(path) {
      const keys = path.filter((p): p is string => typeof p === 'string');
      for (let n = keys.length; n > 0; n--) {
        const name = vars.get(keys.slice(0, n).join('.'));
        if (name) return `env ${name}`;
      }
      return 'environment';
    },
  };
}

function envHint(name: string, section: z.ZodType | undefined): string {
  if (section instanceof z.ZodObject) {
    const first = Object.keys(section.shape)[0]!.toUpperCase();
    return `is a section, not a key; set its keys individually, e.g. ${name}__${first}`;
  }
  // Catch the easy mistake of a single underscore between section and key.
  const rest = name.slice(ENV_PREFIX.length);
  for (let i = rest.indexOf('_'); i !== -1; i = rest.indexOf('_', i + 1)) {
    const candidate = `${rest.slice(0, i)}__${rest.slice(i + 1)}`;
    const leaf = schemaAt(candidate.toLowerCase().split('__'));
    if (leaf && !(leaf.schema instanceof z.ZodObject)) return `not a configuration key; did you mean ${ENV_PREFIX}${candidate}?`;
  }
  return `not a configuration key (expected ${ENV_PREFIX}<SECTION>__<KEY>, see docs/configuration.md)`;
}

function coerce(raw: string, schema: z.ZodType, nullable: boolean): unknown {
  if (nullable && raw === '') return null;
  if (schema instanceof z.ZodArray) {
    const element = unwrap(schema.element as z.ZodType);
    return raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
      .map((s) => coerce(s, element.schema, element.nullable));
  }
  const text = raw.trim();
  if (schema instanceof z.ZodNumber && NUMBER.test(text)) return Number(text);
  if (schema instanceof z.ZodBoolean) {
    if (/^(true|yes|on|1)$/i.test(text)) return true;
    if (/^(false|no|off|0)$/i.test(text)) return false;
  }
  return raw; // left as-is so the schema reports it with its usual message
}
