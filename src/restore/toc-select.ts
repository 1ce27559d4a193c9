import { LifeboatError } from '../errors.js';
import type { TocEntry } from '../drill/toc.js';

/**
 * Picks a table's definition (TABLE) and rows (TABLE DATA) out of `pg_restore --list`.
 * Names in the listing are printed unquoted, so `Mixed Case Lignes postgres` could be read
 * several ways; the backup's catalog knows schema, name and owner, and the line must be
 * exactly those. The rows entry carries the same object id as the definition.
 */
export interface TableEntries {
  schema: string;
  name: string;
  /** The table's object id, which its rows entry carries in every archive of the backup. */
  oid: string;
  lines: string[];
}

const LINE = /^(\d+); (\d+) (\d+) (TABLE DATA|TABLE) (.*)$/;

export function selectTableEntries(
  listing: string,
  tables: { schema: string; name: string; owner: string }[],
): TableEntries[] {
  const parsed = listing
    .split('\n')
    .map((line) => ({ line, m: LINE.exec(line) }))
    .filter((x): x is { line: string; m: RegExpExecArray } => x.m !== null);
  return tables.map((t) => {
    const wanted = `${t.schema} ${t.name} ${t.owner}`.trimEnd();
    const defs = parsed.filter((x) => x.m[4] === 'TABLE' && x.m[5]!.trimEnd() === wanted);
    if (defs.length !== 1) {
      throw new LifeboatError(
        'restore',
        defs.length
          ? `The archive's table of contents has ${defs.length} tables that read as ${t.schema}.${t.name}; refusing to guess which. Nothing was changed.`
          : `The archive holds no definition of table ${t.schema}.${t.name}, though the backup's catalog lists it. Nothing was changed.`,
        { hint: 'Restore this backup in full into a scratch database and copy the table from there.' },
      );
    }
    const oid = defs[0]!.m[3];
    const data = parsed.filter((x) => x.m[4] === 'TABLE DATA' && x.m[3] === oid);
    return { schema: t.schema, name: t.name, oid: oid!, lines: [defs[0]!.line, ...data.map((x) => x.line)] };
  });
}

/** The rows entries (TABLE DATA) of the given tables in a data part's listing. */
export function selectDataLines(listing: string, tables: TableEntries[]): string[] {
  const oids = new Set(tables.map((t) => t.oid));
  return listing.split('\n').filter((line) => {
    const m = LINE.exec(line);
    return m !== null && m[4] === 'TABLE DATA' && oids.has(m[3]!);
  });
}

/** A `--use-list` file naming only the given entries: everything else is left out. */
export function useList(entries: TableEntries[]): string {
  return `${entries.flatMap((e) => e.lines).join('\n')}\n`;
}

/**
 * A full restore over a live database keeps the schemas and extensions the target already
 * has: `DROP SCHEMA` fails while the target holds objects the backup does not know, and
 * dropping an extension would take every column of its types with it.
 */
export function keepExisting(
  toc: TocEntry[],
  existing: { schemas: Set<string>; extensions: Set<string> },
): { ids: Set<number>; kept: string[] } {
  const ids = new Set<number>();
  const kept: string[] = [];
  for (const e of toc) {
    const schema = e.desc === 'SCHEMA' && e.namespace === null && existing.schemas.has(e.tag);
    const extension = e.desc === 'EXTENSION' && existing.extensions.has(e.tag);
    if (!schema && !extension) continue;
    ids.add(e.id);
    kept.push(`${e.desc.toLowerCase()} ${e.tag}`);
  }
  return { ids, kept };
}
