import type pg from 'pg';
import { tableRef } from '../postgres/catalog.js';
import { diffCountSql, type SideTable, type TableDiff, type TableShape } from './copy-back.js';

/**
 * What the copy-back SQL needs to know about a table as it is now: its columns (which are
 * generated, which are identities), its primary key, the tables it references and its triggers.
 */
export async function readTableShape(
  client: pg.ClientBase,
  schema: string,
  name: string,
): Promise<TableShape | null> {
  const { rows } = await client.query(`SELECT to_regclass($1)::oid AS oid`, [tableRef(schema, name)]);
  const oid = (rows[0] as { oid: number | null } | undefined)?.oid;
  if (oid == null) return null;
  const columns = await client.query(
    `SELECT a.attname AS name, a.attgenerated <> '' AS generated, a.attidentity = 'a' AS identity_always
       FROM pg_attribute a WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [oid],
  );
  const key = await client.query(
    `SELECT ARRAY(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY k(attnum, i)
        JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum ORDER BY k.i)::text[] AS columns
       FROM pg_index x WHERE x.indrelid = $1 AND x.indisprimary`,
    [oid],
  );
  const references = await client.query(
    `SELECT DISTINCT n.nspname || '.' || f.relname AS name
       FROM pg_constraint c JOIN pg_class f ON f.oid = c.confrelid JOIN pg_namespace n ON n.oid = f.relnamespace
      WHERE c.conrelid = $1 AND c.contype = 'f'`,
    [oid],
  );
  const triggers = await client.query(
    `SELECT tgname AS name FROM pg_trigger WHERE tgrelid = $1 AND NOT tgisinternal AND tgenabled <> 'D' ORDER BY 1`,
    [oid],
  );
  return {
    columns: (columns.rows as { name: string; generated: boolean; identity_always: boolean }[]).map((c) => ({
      name: c.name,
      generated: c.generated,
      identityAlways: c.identity_always,
    })),
    primaryKey: ((key.rows[0] as { columns?: string[] } | undefined)?.columns ?? []).map(String),
    references: (references.rows as { name: string }[]).map((r) => r.name),
    triggers: (triggers.rows as { name: string }[]).map((r) => r.name),
  };
}

/** Row counts and differences between the restored copy and the live table, read-only. */
export async function countDifferences(client: pg.ClientBase, table: SideTable): Promise<TableDiff> {
  const { rows } = await client.query(diffCountSql(table));
  const row = (rows[0] ?? {}) as Record<string, string | null>;
  const n = (value: string | null | undefined) => (value == null ? null : Number(value));
  return {
    backupRows: n(row.backup_rows) ?? 0,
    liveRows: n(row.live_rows),
    onlyInBackup: n(row.only_in_backup),
    onlyInLive: n(row.only_in_live),
    changed: n(row.changed),
  };
}
