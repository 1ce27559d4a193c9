import { SECTION, type ArchiveEntry } from './archive-toc.js';

/**
 * Which tables a streamed restore's shares (restore-shares.ts) create themselves, each in one
 * transaction with its rows and indexes, instead of in the schema step before them.
 *
 * `pg_restore --jobs` creates every table in the run that loads it and wraps each COPY in a
 * transaction that first truncates the table; on a server with `wal_level = minimal` the
 * rows then skip the write-ahead log. Rows loaded by another process than the one that
 * created the table lose that, which measured 2.0 s of 7.4 s for `pg_restore -j 2` itself at
 * 1 GB (docs/performance.md). A share run with `--single-transaction` that creates its
 * tables gets it back. Elsewhere there is no log to skip; a COPY into a table its own
 * transaction created still skips the free-space map.
 *
 * A table moves into its share only when nothing else needs it before the rows are in: it
 * depends on no other table (no partition, inheritance child or use of another table's row
 * type), and everything of the schema that depends on it, directly or not, is of a kind that
 * can wait until every share committed (`LATER_KINDS`); those wait. A serial column's
 * sequence depends on its table only through `OWNED BY`, a separate entry: the sequence is
 * still created in the schema step (its value is set among the rows), its `OWNED BY` waits.
 * Anything else (a function, a type, an identity column's sequence, another table) keeps
 * the table in the schema step.
 *
 * A transaction holds its locks until it commits: on every table it loads, every index it
 * builds and every table it creates (with its TOAST table and index). The server's lock table
 * holds `lockSlots` for all sessions together (max_locks_per_transaction x max_connections,
 * 6400 by default, far fewer on some servers): a share runs as one transaction only while
 * its locks fit in a quarter of that shared out between the shares, and creates its
 * `MAX_TABLES_PER_SHARE` largest tables at most, where the rows that skip the log are. Pure.
 */
export interface TablesInShares {
  /** For each share (by index), the TABLE entries it creates before its rows, in archive order. */
  tables: number[][];
  /** Schema entries (pre-data, or of no section) that depend on a moved table: run once every share committed. */
  later: number[];
}

/** Schema objects a load never needs: created after the rows without changing what they hold. */
const LATER_KINDS = new Set([
  'VIEW',
  'MATERIALIZED VIEW',
  'DEFAULT',
  'SEQUENCE OWNED BY',
  'COMMENT',
  'ACL',
  'SECURITY LABEL',
]);

const SCHEMA_SECTIONS = new Set<number>([SECTION.preData, SECTION.none]);

export const MAX_TABLES_PER_SHARE = 16;

/**
 * Locks a share's transaction holds at most: two per entry it restores (a table and its
 * TOAST table, or an index and its table) and three per table it creates.
 */
function locksOf(share: number[], created: number): number {
  return 2 * share.length + 3 * created;
}

export function tablesInShares(
  entries: ArchiveEntry[],
  skip: Set<number>,
  shares: number[][],
  sizeOf: (schema: string | null, table: string) => number,
  lockSlots: number,
): TablesInShares {
  const budget = lockSlots / 4 / Math.max(1, shares.length);
  const byId = new Map(entries.map((e) => [e.id, e]));
  const dependents = new Map<number, ArchiveEntry[]>();
  for (const e of entries) {
    for (const d of e.deps) {
      const list = dependents.get(d);
      if (list) list.push(e);
      else dependents.set(d, [e]);
    }
  }
  const position = new Map(entries.map((e, i) => [e.id, i]));
  // A sequence with an OWNED BY entry is a plain CREATE SEQUENCE; an identity column's is
  // an ALTER TABLE and has none.
  const standalone = new Set(entries.filter((e) => e.desc === 'SEQUENCE OWNED BY').flatMap((e) => e.deps));
  const later = new Set<number>();
  const size = (e: ArchiveEntry) => sizeOf(e.namespace, e.tag);
  const tables = shares.map((share) => {
    const moved: number[] = [];
    const largestFirst = share
      .map((id) => byId.get(id)!)
      .filter((e) => e.desc === 'TABLE DATA')
      .sort((a, b) => size(b) - size(a));
    for (const rows of largestFirst) {
      if (moved.length === MAX_TABLES_PER_SHARE || locksOf(share, moved.length + 1) > budget) break;
      const table = rows.deps.map((d) => byId.get(d)).find((d) => d?.desc === 'TABLE');
      if (table?.desc !== 'TABLE' || table.section !== SECTION.preData || skip.has(table.id)) continue;
      if (table.deps.some((d) => byId.get(d)?.desc === 'TABLE')) continue;
      const waiting = schemaDependents(table.id, dependents, standalone);
      if ([...waiting].some((w) => !LATER_KINDS.has(byId.get(w)!.desc))) continue;
      moved.push(table.id);
      for (const w of waiting) later.add(w);
    }
    return moved.sort((a, b) => position.get(a)! - position.get(b)!);
  });
  return { tables, later: [...later].sort((a, b) => position.get(a)! - position.get(b)!) };
}

/**
 * Every schema entry that depends on `id`, directly or through other schema entries, but
 * the `standalone` sequences (created before the table, their dependents found through
 * them). Indexes, triggers and the like (post-data) come after every share anyway.
 */
function schemaDependents(
  id: number,
  dependents: Map<number, ArchiveEntry[]>,
  standalone: Set<number>,
): Set<number> {
  const found = new Set<number>();
  const seen = new Set<number>();
  const queue = [id];
  while (queue.length) {
    for (const e of dependents.get(queue.pop()!) ?? []) {
      if (!SCHEMA_SECTIONS.has(e.section) || seen.has(e.id)) continue;
      seen.add(e.id);
      queue.push(e.id);
      if (!(e.desc === 'SEQUENCE' && standalone.has(e.id))) found.add(e.id);
    }
  }
  return found;
}
