import type { Check } from '../postgres/verify/checks.js';
import { quoteIdent, tableRef, type CatalogSnapshot } from '../postgres/catalog.js';

/**
 * What a full restore does with objects the target has and the backup does not. Returning
 * the database to the backup means removing them, in the same transaction as the restore,
 * so that restoring the safety backup afterwards really is a way back. They are listed in
 * the plan before anything happens, and the safety backup keeps them.
 *
 * Kept: extensions (dropping one takes every column of its types with it, and a platform
 * may own it), the schemas that hold them, database settings, and Lifeboat's own side
 * schemas of earlier selective restores, which hold rows a person is still reviewing.
 * Objects that belong to a table (indexes, triggers, policies, owned sequences) go with it.
 */
export interface DropStep {
  /** `table public.audit (12 rows)`: what a person reads in the plan. */
  label: string;
  sql: string;
  /** Set on the drop of a whole schema the backup lacks; the rest are emptied by the restore. */
  schema?: string;
}

/** The schema of an earlier selective restore: rows a person is still reviewing. */
export const SIDE_SCHEMA = /^lifeboat_restore_\d{8}_\d{6}_\d{3}_[0-9a-f]{8}$/;

export function planDrops(
  expected: CatalogSnapshot,
  live: CatalogSnapshot,
): { drops: DropStep[]; kept: string[] } {
  const has = (list: { schema: string; name: string }[]) => {
    const names = new Set(list.map((o) => `${o.schema}\u0000${o.name}`));
    return (o: { schema: string; name: string }) => names.has(`${o.schema}\u0000${o.name}`);
  };
  const extensionSchemas = new Set(live.extensions.map((x) => x.schema));
  const backupSchemas = new Set(expected.schemas);
  const side = (schema: string) => SIDE_SCHEMA.test(schema);
  const drops: DropStep[] = [];
  const kept: string[] = [];

  // Schemas first: one CASCADE takes what they hold, and the drops after them say IF EXISTS.
  for (const schema of live.schemas.filter((s) => !backupSchemas.has(s))) {
    if (side(schema)) kept.push(`schema ${schema} (rows of an earlier selective restore)`);
    else if (extensionSchemas.has(schema)) kept.push(`schema ${schema} (holds an extension)`);
    else
      drops.push({
        label: `schema ${schema} and everything in it`,
        sql: `DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`,
        schema,
      });
  }
  const inBackupTables = has(expected.tables);
  for (const t of live.tables.filter((t) => !inBackupTables(t) && !side(t.schema))) {
    const rows = t.rows == null ? '' : ` (${t.rows} rows)`;
    drops.push({
      label: `table ${t.schema}.${t.name}${rows}`,
      sql: `DROP TABLE IF EXISTS ${tableRef(t.schema, t.name)} CASCADE`,
    });
  }
  const inBackupViews = has(expected.views);
  for (const v of live.views.filter((v) => !inBackupViews(v) && !side(v.schema))) {
    const kind = v.kind === 'm' ? 'MATERIALIZED VIEW' : 'VIEW';
    drops.push({
      label: `${kind.toLowerCase()} ${v.schema}.${v.name}`,
      sql: `DROP ${kind} IF EXISTS ${tableRef(v.schema, v.name)} CASCADE`,
    });
  }
  // A sequence owned by a column goes with its table; dropping it alone is refused.
  const inBackupSequences = has(expected.sequences);
  for (const s of live.sequences.filter((s) => !s.ownedBy && !inBackupSequences(s) && !side(s.schema))) {
    drops.push({
      label: `sequence ${s.schema}.${s.name}`,
      sql: `DROP SEQUENCE IF EXISTS ${tableRef(s.schema, s.name)} CASCADE`,
    });
  }
  const signature = (f: { schema: string; name: string; args: string }) =>
    `${f.schema}\u0000${f.name}(${f.args})`;
  const inBackupFunctions = new Set(expected.functions.map(signature));
  for (const f of live.functions.filter((f) => !inBackupFunctions.has(signature(f)) && !side(f.schema))) {
    const kind = f.kind === 'a' ? 'AGGREGATE' : 'ROUTINE';
    drops.push({
      label: `${f.kind === 'p' ? 'procedure' : f.kind === 'a' ? 'aggregate' : 'function'} ${f.schema}.${f.name}(${f.args})`,
      sql: `DROP ${kind} IF EXISTS ${tableRef(f.schema, f.name)}(${f.args}) CASCADE`,
    });
  }
  const backupExtensions = new Set(expected.extensions.map((x) => x.name));
  for (const x of live.extensions.filter((x) => !backupExtensions.has(x.name) && x.name !== 'plpgsql')) {
    kept.push(`extension ${x.name}`);
  }
  const backupSettings = new Set(
    expected.databaseSettings.map((d) => `${d.role}\u0000${d.setting.split('=')[0]}`),
  );
  for (const d of live.databaseSettings) {
    if (!backupSettings.has(`${d.role}\u0000${d.setting.split('=')[0]}`)) {
      kept.push(`setting ${d.setting}${d.role ? ` for role ${d.role}` : ''}`);
    }
  }
  return { drops, kept };
}

/** The statements that open the restore's transaction, remove what the backup lacks, and prepare. */
export function dropPrelude(drops: { sql: string }[], preparation: string[] = []): string {
  return ['BEGIN;', ...drops.map((d) => `${d.sql};`), ...preparation.map((sql) => `${sql};`), ''].join('\n');
}

/**
 * After the restore, what was kept on purpose still differs from the backup: reported as a
 * warning that says so, never as a failed restore.
 */
export function keptAsWarnings(checks: Check[]): Check[] {
  return checks.map((c) =>
    c.expected === 'absent' &&
    c.actual === 'present' &&
    /\blifeboat_restore_\d{8}_\d{6}_\d{3}_[0-9a-f]{8}\b/.test(c.object)
      ? {
          ...c,
          severity: 'warning',
          message: `${c.message} It holds rows of an earlier selective restore and was kept.`,
        }
      : c,
  );
}
