import { z } from 'zod';
import { configSchema } from './schema.js';

// Helpers that read the schema's structure, so env var mapping and error
// hints follow the schema instead of a hand-kept list of keys.

export function unwrap(schema: z.ZodType): { schema: z.ZodType; nullable: boolean } {
  let nullable = false;
  for (;;) {
    if (schema instanceof z.ZodNullable) nullable = true;
    else if (!(schema instanceof z.ZodDefault || schema instanceof z.ZodPrefault || schema instanceof z.ZodOptional)) {
      return { schema, nullable };
    }
    schema = (schema as z.ZodNullable<z.ZodType>).unwrap();
  }
}

export function schemaAt(path: readonly string[]): { schema: z.ZodType; nullable: boolean } | undefined {
  let current = unwrap(configSchema);
  for (const key of path) {
    if (!(current.schema instanceof z.ZodObject)) return undefined;
    const shape = current.schema.shape as Record<string, z.ZodType>;
    if (!Object.hasOwn(shape, key)) return undefined;
    current = unwrap(shape[key]!);
  }
  return current;
}

/** Every key path in the schema, sections included, for "did you mean" hints. */
export const KEY_PATHS: string[][] = (() => {
  const out: string[][] = [];
  const walk = (schema: z.ZodType, prefix: string[]) => {
    const { schema: inner } = unwrap(schema);
    if (!(inner instanceof z.ZodObject)) return;
    for (const [key, child] of Object.entries(inner.shape as Record<string, z.ZodType>)) {
      out.push([...prefix, key]);
      walk(child, [...prefix, key]);
    }
  };
  walk(configSchema, []);
  return out;
})();
