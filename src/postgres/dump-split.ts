import type pg from 'pg';

/**
 * How a parallel backup shares the data out between several pg_dump processes. Each
 * process reads the same exported snapshot, so together they hold one consistent copy.
 * Part 1, the main part, holds the whole schema and the data of every table not given
 * to another part; parts 2…N hold nothing but the rows of the tables they were given.
 */
export interface TableSize {
  schema: string;
  name: string;
  bytes: number;
}

export interface DumpSplit {
  /** Tables whose rows go to parts 2…N, one list per part, none empty. */
  parts: TableSize[][];
  /** Bytes on disk each part is expected to carry, the main part first. */
  bytes: number[];
}

/** The most tables one part names on pg_dump's command line: the largest ones carry the time. */
export const MAX_TABLES_PER_PART = 200;

/**
 * Greedy longest-first packing: every table, largest first, joins the part with the fewest
 * bytes so far. The main part starts with the tables that stay in it (not eligible) and the
 * catalog, so it gets fewer of the big ones. Parts that receive nothing are left out.
 */
export function splitTables(eligible: TableSize[], stayBytes: number, jobs: number): DumpSplit {
  const bins = Array.from({ length: Math.max(1, jobs) }, (_, i) => ({
    bytes: i === 0 ? stayBytes : 0,
    tables: [] as TableSize[],
  }));
  const sorted = [...eligible].sort(
    (a, b) => b.bytes - a.bytes || a.schema.localeCompare(b.schema) || a.name.localeCompare(b.name),
  );
  const cap = MAX_TABLES_PER_PART * Math.max(1, jobs - 1);
  sorted.forEach((table, index) => {
    const open = bins.filter((b, i) => i === 0 || (index < cap && b.tables.length < MAX_TABLES_PER_PART));
    const bin = open.reduce((min, b) => (b.bytes < min.bytes ? b : min));
    bin.bytes += table.bytes;
    bin.tables.push(table);
  });
  const others = bins.slice(1).filter((b) => b.tables.length > 0);
  return { parts: others.map((b) => b.tables), bytes: [bins[0]!.bytes, ...others.map((b) => b.bytes)] };
}

/**
 * A pg_dump `--table` pattern that matches exactly this table: inside double quotes every
 * character is literal (pattern characters included), and a double quote is doubled.
 */
export function exactTablePattern(schema: string, name: string): string {
  const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;
  return `${quote(schema)}.${quote(name)}`;
}

/** pg_dump arguments of the main part: everything, except the rows the other parts carry. */
export function mainPartArgs(split: DumpSplit): string[] {
  return split.parts.flat().map((t) => `--exclude-table-data=${exactTablePattern(t.schema, t.name)}`);
}

/** pg_dump arguments of a data part: only the rows of its tables. */
export function dataPartArgs(tables: TableSize[]): string[] {
  return ['--data-only', ...tables.map((t) => `--table=${exactTablePattern(t.schema, t.name)}`)];
}

/**
 * Ordinary tables that may go to another part, with their size on disk (heap and TOAST),
 * read inside the backup's snapshot transaction. Left in the main part: tables of
 * extensions and of schemas an extension created (a drill may skip those by schema), and
 * anything but plain tables (partitioned parents hold no rows; their partitions do).
 */
export async function readTableSizes(
  client: pg.ClientBase,
): Promise<{ eligible: TableSize[]; stayBytes: number }> {
  const { rows } = await client.query(`SELECT n.nspname AS schema, c.relname AS name,
      pg_table_size(c.oid)::bigint AS bytes,
      (c.relkind = 'r'
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
          AND d.objid = c.oid AND d.deptype = 'e')
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass
          AND d.objid = n.oid AND d.deptype = 'e')) AS eligible
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'm')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'`);
  const eligible: TableSize[] = [];
  let stayBytes = 0;
  for (const row of rows as { schema: string; name: string; bytes: string; eligible: boolean }[]) {
    const bytes = Number(row.bytes);
    if (row.eligible && bytes > 0) eligible.push({ schema: row.schema, name: row.name, bytes });
    else stayBytes += bytes;
  }
  return { eligible, stayBytes };
}
