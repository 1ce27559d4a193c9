/**
 * The shared fixture databases (test/fixtures/*.sql) and an exact, catalog-wide
 * row count to compare a database before and after a backup round trip.
 */
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import type { Cluster } from './cluster.js';

export type FixtureName = 'supabase' | 'awkward';

/** Loads a fixture into an existing, empty database through psql, as the superuser. */
export async function loadFixture(cluster: Cluster, database: string, name: FixtureName): Promise<void> {
  const sql = await readFile(new URL(`../fixtures/${name}.sql`, import.meta.url), 'utf8');
  await cluster.exec(sql, database);
}

/**
 * Exact count(*) of every user table, keyed `schema.table` with names as they
 * are (unquoted). Counted as the superuser, so row level security hides nothing;
 * statistics such as pg_stat_user_tables are estimates and would not do.
 */
export async function rowCounts(cluster: Cluster, database: string): Promise<Record<string, number>> {
  const tables = await cluster.query<{ schema: string; table: string }>(
    `SELECT n.nspname AS schema, c.relname AS table
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'r'
        AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        AND n.nspname !~ '^pg_(toast|temp_)'
      ORDER BY 1, 2`,
    [],
    database,
  );
  if (tables.length === 0) return {};
  // One round trip: a UNION of counts, names quoted by the same rules the server uses.
  const union = tables
    .map(
      ({ schema, table }, i) =>
        `SELECT ${i} AS i, count(*) AS n FROM ${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(table)}`,
    )
    .join('\nUNION ALL ');
  const counts = await cluster.query<{ i: number; n: string }>(union, [], database);
  const result: Record<string, number> = {};
  for (const { i, n } of counts) {
    const table = tables[i];
    if (table) result[`${table.schema}.${table.table}`] = Number(n);
  }
  return result;
}
