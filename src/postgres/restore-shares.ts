import { SECTION, type ArchiveEntry } from './archive-toc.js';

/**
 * How a restore read from streams is shared out between pg_restore processes. pg_restore
 * cannot run `--jobs` on an archive it reads from a pipe, so parallelism comes from several
 * processes, each reading its own stream of the archive and given its share of the entries
 * with `--use-list`: the rows (data section), then the indexes and key constraints (the
 * slow part of post-data). Everything else runs in one process before or after them.
 *
 * Each share keeps archive order: a process reading a pipe can only skip forward to the
 * next data block it wants. Pure.
 */
export interface Shares {
  /** Dump ids of the data entries each process loads, archive order, none empty. */
  data: number[][];
  /** Dump ids of the indexes and key constraints each process builds, archive order. */
  indexes: number[][];
}

/** Post-data kinds that depend only on their table and its rows: safe to build side by side. */
const INDEX_KINDS = new Set(['INDEX', 'CONSTRAINT']);

/**
 * `rowsOf` says how many rows a table holds (the backup's catalog), which is what an
 * entry's time grows with; entries are given out largest first to the process with the
 * least so far. Indexes and constraints of one table stay in
 * one process, so no two processes lock the same table against each other.
 */
export function shareEntries(
  entries: ArchiveEntry[],
  skip: Set<number>,
  processes: number,
  rowsOf: (schema: string | null, table: string) => number,
): Shares {
  const byId = new Map(entries.map((e) => [e.id, e]));
  const data = entries.filter((e) => e.section === SECTION.data && !skip.has(e.id));
  const indexes = entries.filter(
    (e) =>
      e.section === SECTION.postData &&
      INDEX_KINDS.has(e.desc) &&
      !skip.has(e.id) &&
      e.deps.every((d) => byId.get(d)?.section !== SECTION.postData),
  );
  // An index or constraint goes with its table: the pre-data TABLE it depends on.
  const tableOf = (e: ArchiveEntry) =>
    e.deps.find((d) => byId.get(d)?.desc === 'TABLE') ?? e.deps[0] ?? -e.id;
  const weight = (e: ArchiveEntry) => {
    const table = e.section === SECTION.data ? e : byId.get(tableOf(e));
    return table ? rowsOf(table.namespace, table.tag) : 1;
  };
  const groups = new Map<number, ArchiveEntry[]>();
  for (const e of indexes) groups.set(tableOf(e), [...(groups.get(tableOf(e)) ?? []), e]);
  return {
    data: pack(
      data.map((e) => [e]),
      processes,
      weight,
      entries,
    ),
    indexes: pack([...groups.values()], processes, weight, entries),
  };
}

function pack(
  groups: ArchiveEntry[][],
  processes: number,
  weight: (entry: ArchiveEntry) => number,
  entries: ArchiveEntry[],
): number[][] {
  const bins = Array.from({ length: Math.max(1, processes) }, () => ({ load: 0, ids: [] as number[] }));
  const sized = groups.map((g) => ({ g, w: g.reduce((n, e) => n + Math.max(1, weight(e)), 0) }));
  sized.sort((a, b) => b.w - a.w || a.g[0]!.id - b.g[0]!.id);
  for (const { g, w } of sized) {
    const bin = bins.reduce((min, b) => (b.load < min.load ? b : min));
    bin.load += w;
    bin.ids.push(...g.map((e) => e.id));
  }
  const position = new Map(entries.map((e, i) => [e.id, i]));
  return bins
    .filter((b) => b.ids.length > 0)
    .map((b) => b.ids.sort((x, y) => position.get(x)! - position.get(y)!));
}

/**
 * A `--use-list` file naming the given entries in archive order. pg_restore reads only the
 * dump id before each `;`; the rest of the line is there for a person reading it.
 */
export function useList(entries: ArchiveEntry[], wanted: (entry: ArchiveEntry) => boolean): string {
  return (
    entries
      .filter(wanted)
      .map((e) => `${e.id}; ${e.desc} ${e.namespace ?? '-'} ${e.tag}`.replace(/[\r\n]/g, ' '))
      .join('\n') + '\n'
  );
}
