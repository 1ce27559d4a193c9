import { quoteIdent, tableRef } from '../postgres/catalog.js';

/**
 * The SQL a person reviews and runs to copy rows from the side schema back into live
 * tables: the "restore to a side database and upsert" path of incident runbooks, written
 * out for the exact tables and columns at hand. Pure text; nothing here runs it.
 *
 * Rows are matched on the live table's primary key. Values are compared as text, which
 * every type has (json, point and others lack an equality operator).
 */
export interface ColumnShape {
  name: string;
  /** A generated column: computed, never written. */
  generated: boolean;
  /** GENERATED ALWAYS AS IDENTITY: writing it needs OVERRIDING SYSTEM VALUE. */
  identityAlways: boolean;
}

export interface TableShape {
  columns: ColumnShape[];
  primaryKey: string[];
  /** `schema.table` of the tables its foreign keys point at. */
  references: string[];
  /** Its own enabled triggers, which fire on the rows copied back. */
  triggers: string[];
}

export interface SideTable {
  schema: string;
  name: string;
  sideSchema: string;
  sideName: string;
  side: TableShape;
  /** Null when the live table does not exist. */
  live: TableShape | null;
}

export interface TableDiff {
  backupRows: number;
  liveRows: number | null;
  onlyInBackup: number | null;
  onlyInLive: number | null;
  /** Rows under the same key with other values; null when there is no key to match on. */
  changed: number | null;
}

const liveRef = (t: SideTable) => tableRef(t.schema, t.name);
/**
 * The live table where it is read or deleted from: ONLY that table. A query on an inheritance
 * parent reads its children's rows too, and the restored copy holds the parent's own rows.
 */
const liveRows = (t: SideTable) => `ONLY ${liveRef(t)}`;
const sideRef = (t: SideTable) => tableRef(t.sideSchema, t.sideName);

/** Columns both tables have and the live one accepts writes to, in the backup's order. */
export function copyColumns(t: SideTable): string[] {
  if (!t.live) return t.side.columns.filter((c) => !c.generated).map((c) => c.name);
  const live = new Map(t.live.columns.map((c) => [c.name, c]));
  return t.side.columns
    .filter((c) => !c.generated && live.has(c.name) && !live.get(c.name)!.generated)
    .map((c) => c.name);
}

/** The live primary key, when the restored copy has every column of it. */
export function matchKey(t: SideTable): string[] | null {
  const pk = t.live?.primaryKey ?? [];
  const copied = new Set(copyColumns(t));
  return pk.length && pk.every((c) => copied.has(c)) ? pk : null;
}

const col = (alias: string, name: string) => `${alias}.${quoteIdent(name)}`;
const asText = (alias: string, names: string[]) =>
  `ROW(${names.map((n) => `${col(alias, n)}::text`).join(', ')})`;
const keyJoin = (keyCols: string[], a: string, b: string) =>
  keyCols.map((k) => `${col(a, k)} = ${col(b, k)}`).join(' AND ');

/** SELECTs that show the differences, for review; each returns the rows themselves. */
export function reviewQueries(t: SideTable): { label: string; sql: string }[] {
  if (!t.live) return [];
  const cols = copyColumns(t);
  const keyCols = matchKey(t);
  if (!keyCols) {
    const rows = (alias: string, ref: string) =>
      `SELECT ${asText(alias, cols)}::text AS row FROM ${ref} AS ${alias}`;
    return [
      {
        label: 'rows only in the backup',
        sql: `${rows('b', sideRef(t))}\nEXCEPT ALL\n${rows('l', liveRows(t))}`,
      },
      {
        label: 'rows only in the target',
        sql: `${rows('l', liveRows(t))}\nEXCEPT ALL\n${rows('b', sideRef(t))}`,
      },
    ];
  }
  const values = cols.filter((c) => !keyCols.includes(c));
  const pairs = values.map(
    (c) => `${col('b', c)} AS ${quoteIdent(`backup ${c}`)}, ${col('l', c)} AS ${quoteIdent(`live ${c}`)}`,
  );
  return [
    {
      label: 'rows only in the backup',
      sql: `SELECT b.* FROM ${sideRef(t)} AS b\nWHERE NOT EXISTS (SELECT 1 FROM ${liveRows(t)} AS l WHERE ${keyJoin(keyCols, 'l', 'b')})`,
    },
    {
      label: 'rows only in the target',
      sql: `SELECT l.* FROM ${liveRows(t)} AS l\nWHERE NOT EXISTS (SELECT 1 FROM ${sideRef(t)} AS b WHERE ${keyJoin(keyCols, 'b', 'l')})`,
    },
    {
      label: 'rows changed since the backup',
      sql: `SELECT ${[...keyCols.map((k) => col('b', k)), ...pairs].join(', ')}\nFROM ${sideRef(t)} AS b JOIN ${liveRows(t)} AS l ON ${keyJoin(keyCols, 'l', 'b')}\nWHERE ${values.length ? `${asText('b', values)} IS DISTINCT FROM ${asText('l', values)}` : 'false'}`,
    },
  ];
}

/** One query returning backup_rows, live_rows, only_in_backup, only_in_live and changed. */
export function diffCountSql(t: SideTable): string {
  const backup = `(SELECT count(*) FROM ${sideRef(t)})`;
  if (!t.live)
    return `SELECT ${backup} AS backup_rows, NULL AS live_rows, NULL AS only_in_backup, NULL AS only_in_live, NULL AS changed`;
  const counts = reviewQueries(t).map((q) => `(SELECT count(*) FROM (${q.sql}) AS d)`);
  return `SELECT ${backup} AS backup_rows, (SELECT count(*) FROM ${liveRows(t)}) AS live_rows,
  ${counts[0]} AS only_in_backup,
  ${counts[1]} AS only_in_live,
  ${counts[2] ?? 'NULL'} AS changed`;
}

/** The upsert script, parents before the tables that reference them, in one transaction. */
export function copyBackSql(tables: SideTable[], diffs: Map<SideTable, TableDiff>, backupId: string): string {
  const sideSchema = tables[0]?.sideSchema ?? `lifeboat_restore_${backupId}`;
  const out = [
    `-- Copy rows back from Lifeboat's selective restore of backup ${backupId}.`,
    `-- The backup's rows are in schema ${quoteIdent(sideSchema)}; no live table has been changed.`,
    '-- Review every statement (and the review queries), then run this file, for example with psql -f.',
    'BEGIN;',
  ];
  for (const t of orderByReferences(tables)) out.push('', ...tableBlock(t, diffs.get(t)));
  out.push(
    '',
    'COMMIT;',
    '',
    `-- When you are done with the restored rows: DROP SCHEMA ${quoteIdent(sideSchema)} CASCADE;`,
  );
  return out.join('\n');
}

function tableBlock(t: SideTable, diff: TableDiff | undefined): string[] {
  const name = `${t.schema}.${t.name}`;
  const cols = copyColumns(t);
  const list = cols.map(quoteIdent).join(', ');
  if (!t.live) {
    return [
      `-- ${name} does not exist in the target. Recreate it first (the migration that creates it), then:`,
      `-- INSERT INTO ${liveRef(t)} (${list})`,
      `--   SELECT ${list} FROM ${sideRef(t)};`,
      `-- Or move the restored copy in as it is (without its indexes, constraints, policies or grants):`,
      `-- ALTER TABLE ${sideRef(t)} SET SCHEMA ${quoteIdent(t.schema)};`,
    ];
  }
  const lines = [`-- ${name}: ${diffText(diff)}`];
  const liveCols = new Set(t.live.columns.map((c) => c.name));
  const sideOnly = t.side.columns.filter((c) => !c.generated && !liveCols.has(c.name)).map((c) => c.name);
  const sideCols = new Set(t.side.columns.map((c) => c.name));
  const liveOnly = t.live.columns.filter((c) => !c.generated && !sideCols.has(c.name)).map((c) => c.name);
  if (sideOnly.length) lines.push(`-- Columns only in the backup, not copied: ${sideOnly.join(', ')}.`);
  if (liveOnly.length) lines.push(`-- Columns only in the target, left as they are: ${liveOnly.join(', ')}.`);
  const overriding = t.live.columns.some((c) => c.identityAlways && cols.includes(c.name))
    ? '\nOVERRIDING SYSTEM VALUE'
    : '';
  const keyCols = matchKey(t);
  const triggers = t.live.triggers;
  if (triggers.length) {
    lines.push(
      `-- Its triggers fire on these writes (${triggers.join(', ')}). To write the backup's values exactly, uncomment both ALTER TABLE lines.`,
      `-- ALTER TABLE ${liveRef(t)} DISABLE TRIGGER USER;`,
    );
  }
  const enable = triggers.length ? [`-- ALTER TABLE ${liveRef(t)} ENABLE TRIGGER USER;`] : [];
  if (!keyCols) {
    lines.push(
      `-- ${name} has no primary key to match rows on: this inserts the backup's rows that have no identical row in the target.`,
      `INSERT INTO ${liveRef(t)} (${list})${overriding}`,
      `SELECT ${cols.map((c) => col('b', c)).join(', ')} FROM ${sideRef(t)} AS b`,
      `WHERE NOT EXISTS (SELECT 1 FROM ${liveRows(t)} AS l WHERE ${asText('l', cols)}::text = ${asText('b', cols)}::text);`,
      ...enable,
    );
    return lines;
  }
  const values = cols.filter((c) => !keyCols.includes(c));
  const conflict = values.length
    ? `ON CONFLICT (${keyCols.map(quoteIdent).join(', ')}) DO UPDATE SET\n  ${values.map((c) => `${quoteIdent(c)} = EXCLUDED.${quoteIdent(c)}`).join(',\n  ')}\nWHERE ${asText('l', values)} IS DISTINCT FROM ${asText('EXCLUDED', values)};`
    : `ON CONFLICT (${keyCols.map(quoteIdent).join(', ')}) DO NOTHING;`;
  lines.push(
    `INSERT INTO ${liveRef(t)} AS l (${list})${overriding}`,
    `SELECT ${cols.map((c) => col('b', c)).join(', ')} FROM ${sideRef(t)} AS b`,
    conflict,
    ...enable,
    '-- Rows only in the target are kept. To delete them too, uncomment:',
    `-- DELETE FROM ${liveRows(t)} AS l WHERE NOT EXISTS (SELECT 1 FROM ${sideRef(t)} AS b WHERE ${keyJoin(keyCols, 'b', 'l')});`,
  );
  return lines;
}

export function diffText(diff: TableDiff | undefined): string {
  if (!diff) return 'not compared';
  const parts = [`${diff.backupRows} rows in the backup`];
  if (diff.liveRows != null) parts.push(`${diff.liveRows} in the target`);
  const d = [
    diff.onlyInBackup != null && `${diff.onlyInBackup} only in the backup`,
    diff.onlyInLive != null && `${diff.onlyInLive} only in the target`,
    diff.changed != null && `${diff.changed} changed`,
  ].filter(Boolean);
  return `${parts.join(', ')}${d.length ? `; ${d.join(', ')}` : ''}.`;
}

/** Referenced tables first, so foreign keys between the chosen tables hold as rows arrive. */
export function orderByReferences<T extends SideTable>(tables: T[]): T[] {
  const byName = new Map(tables.map((t) => [`${t.schema}.${t.name}`, t]));
  const done = new Set<T>();
  const visiting = new Set<T>();
  const out: T[] = [];
  const visit = (t: T) => {
    if (done.has(t) || visiting.has(t)) return; // a cycle keeps the given order
    visiting.add(t);
    for (const ref of t.live?.references ?? []) {
      const parent = byName.get(ref);
      if (parent && parent !== t) visit(parent);
    }
    visiting.delete(t);
    done.add(t);
    out.push(t);
  };
  tables.forEach(visit);
  return out;
}
