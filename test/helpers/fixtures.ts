/**
 * The shared fixture databases (test/fixtures/*.sql), and what a database holds, to compare
 * it before and after a backup round trip: exact row counts, every table's content
 * fingerprint, the catalog.
 */
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { inspectDatabase } from '../../src/postgres/inspect.js';
import type { Cluster } from './cluster.js';

export type FixtureName = 'supabase' | 'awkward' | 'storage' | 'pii';

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

/**
 * Makes `database` a fresh copy of `template` (dropping it first), database-level settings
 * included, which CREATE DATABASE … TEMPLATE leaves behind: tests that change a database
 * start each from the state they need, whatever ran before them.
 */
export async function copyDatabase(cluster: Cluster, template: string, database: string): Promise<void> {
  await cluster.exec(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(database)} WITH (FORCE)`);
  await cluster.exec(
    `CREATE DATABASE ${pg.escapeIdentifier(database)} TEMPLATE ${pg.escapeIdentifier(template)}`,
  );
  const settings = await cluster.query<{ setting: string }>(
    `SELECT unnest(setconfig) AS setting FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
      WHERE d.datname = $1 AND s.setrole = 0`,
    [template],
  );
  for (const { setting } of settings) {
    const at = setting.indexOf('=');
    const name = setting.slice(0, at);
    await cluster.exec(
      `SELECT set_config(${pg.escapeLiteral(name)}, ${pg.escapeLiteral(setting.slice(at + 1))}, false);
       ALTER DATABASE ${pg.escapeIdentifier(database)} SET ${pg.escapeIdentifier(name)} FROM CURRENT;`,
    );
  }
}

/** Every user table of a database: `schema.name` → rows and content fingerprint. */
export async function tableContents(cluster: Cluster, database: string): Promise<Record<string, string>> {
  const client = new pg.Client({ connectionString: cluster.url({ database }) });
  await client.connect();
  try {
    const { tables } = await inspectDatabase(client, { fingerprints: true });
    return Object.fromEntries(
      tables
        .filter((t) => t.kind === 'r')
        .map((t) => [`${t.schema}.${t.name}`, `${t.rows}:${t.fingerprint}`]),
    );
  } finally {
    await client.end();
  }
}

/**
 * A database's catalog with a content fingerprint of every table, minus when it was taken:
 * what "unchanged" and "restored exactly" mean in the restore tests.
 */
export async function databaseState(url: string): Promise<unknown> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { takenAt: _, ...rest } = await inspectDatabase(client, { fingerprints: true });
    return rest;
  } finally {
    await client.end();
  }
}
