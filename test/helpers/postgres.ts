import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL the tests use (`.ci/run` starts one there); PARLEY_TEST_PG_URL overrides it. */
export const TEST_PG_URL = process.env.PARLEY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Why PostgreSQL tests must be skipped, or null when a server answers. Checked once per file
 * with top-level await: `describe(name, { skip: await pgSkipReason() }, ...)`.
 */
export async function pgSkipReason(): Promise<string | false> {
  const client = new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 3000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return false;
  } catch (err) {
    const e = err as { code?: string; message?: string; errors?: { message: string }[] };
    return `no PostgreSQL answers at ${TEST_PG_URL}: ${e.message || e.errors?.[0]?.message || e.code}`;
  } finally {
    await client.end().catch(() => {});
  }
}

/** A schema name no other run uses. */
export function randomSchema(label = 'test'): string {
  return `parley_${label}_${randomBytes(6).toString('hex')}`;
}

/** Runs SQL on a short-lived connection of its own (schema set-up and clean-up). */
export async function pgAdmin<R extends object = Record<string, unknown>>(sql: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  client.on('error', () => {});
  await client.connect();
  try {
    return (await client.query<R>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

export async function dropSchema(schema: string): Promise<void> {
  await pgAdmin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
}
