import type { ArchiveEntry } from '../postgres/archive-toc.js';
import type { CatalogSnapshot } from '../postgres/catalog.js';

/** Entries that can be an inheritance child of a table (pg_dump's descriptions). */
const CHILD_KINDS = new Set(['TABLE', 'FOREIGN TABLE']);

/**
 * The rows of an inheritance parent itself, from the backup's catalog. The catalog counts a
 * table with `count(*)`, which reads every table that inherits from it too (each once, however
 * many paths lead to it), while its restored copy holds only its own rows. So a table's own
 * rows are its count minus the own rows of each of its descendants; pg_dump makes a child's
 * TABLE entry depend on each of its parents. undefined: the table has no children, its count
 * is its own. null: not known (a descendant the catalog did not count, such as a foreign
 * table). Pure.
 */
export function ownRows(
  entries: ArchiveEntry[],
  catalog: Pick<CatalogSnapshot, 'tables'>,
  table: ArchiveEntry,
): number | null | undefined {
  const children = new Map<number, ArchiveEntry[]>();
  for (const e of entries) {
    if (!CHILD_KINDS.has(e.desc)) continue;
    for (const parent of e.deps) children.set(parent, [...(children.get(parent) ?? []), e]);
  }
  if (!children.get(table.id)?.length) return undefined;
  const descendants = (root: ArchiveEntry): ArchiveEntry[] => {
    const found = new Map<number, ArchiveEntry>();
    for (const queue = [...(children.get(root.id) ?? [])]; queue.length;) {
      const at = queue.pop()!;
      if (found.has(at.id)) continue;
      found.set(at.id, at);
      queue.push(...(children.get(at.id) ?? []));
    }
    return [...found.values()];
  };
  const counted = (e: ArchiveEntry) =>
    catalog.tables.find((t) => t.schema === e.namespace && t.name === e.tag)?.rows ?? null;
  const memo = new Map<number, number | null>();
  const own = (e: ArchiveEntry): number | null => {
    if (memo.has(e.id)) return memo.get(e.id)!;
    let rows = counted(e);
    for (const d of descendants(e)) {
      const theirs = own(d);
      rows = rows === null || theirs === null ? null : rows - theirs;
    }
    memo.set(e.id, rows);
    return rows;
  };
  const rows = own(table);
  return rows !== null && rows >= 0 ? rows : null;
}
