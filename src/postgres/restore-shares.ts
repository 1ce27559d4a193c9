import { SECTION, type ArchiveEntry } from './archive-toc.js';

/**
 * How a restore read from streams is shared out between pg_restore processes. pg_restore
 * cannot run `--jobs` on an archive it reads from a pipe, so parallelism comes from several
 * processes, each reading its own stream of the archive and given its share of the entries
 * with `--use-list`: the rows (data section) and, right after them, the indexes and key
 * constraints (the slow part of post-data) of the tables whose rows it loaded, while the
 * others still load theirs. Everything else runs in one process before or after them.
 *
 * Each share keeps archive order: a process reading a pipe can only skip forward to the
 * next data block it wants. Pure.
 */
export interface Shares {
  /**
   * Dump ids each process restores, archive order, none empty: its data entries, then the
   * indexes and key constraints of the tables they fill.
   */
  data: number[][];
  /**
   * Indexes and key constraints of tables whose rows this archive does not hold (a part of a
   * parallel backup loads them, or there are none): built once every row is in.
   */
  indexes: number[][];
}

/** Post-data kinds that depend only on their table and its rows: safe to build side by side. */
const INDEX_KINDS = new Set(['INDEX', 'CONSTRAINT']);

/**
 * `sizeOf` says how large a table is (bytes or rows, from the backup's catalog), which is
 * what an entry's time grows with; rows are given out largest first to the process with the
 * least so far. Indexes and constraints of one table stay in one process, so no two
 * processes lock the same table against each other; those left for after the rows are
 * shared out between `laterProcesses`.
 */
export function shareEntries(
  entries: ArchiveEntry[],
  skip: Set<number>,
  processes: number,
  sizeOf: (schema: string | null, table: string) => number,
  laterProcesses = processes,
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
    return table ? sizeOf(table.namespace, table.tag) : 1;
  };
  const groups = new Map<number, ArchiveEntry[]>();
  for (const e of indexes) groups.set(tableOf(e), [...(groups.get(tableOf(e)) ?? []), e]);
  const shares = pack(
    data.map((e) => [e]),
    processes,
    weight,
    entries,
  );
  const shareOf = new Map<number, number>(); // table dump id → the share loading its rows
  shares.forEach((ids, k) => ids.forEach((id) => shareOf.set(tableOf(byId.get(id)!), k)));
  const later: ArchiveEntry[][] = [];
  for (const [table, group] of groups) {
    const k = shareOf.get(table);
    if (k === undefined) later.push(group);
    else shares[k]!.push(...group.map((e) => e.id));
  }
  const position = new Map(entries.map((e, i) => [e.id, i]));
  for (const share of shares) share.sort((x, y) => position.get(x)! - position.get(y)!);
  return { data: shares, indexes: pack(later, laterProcesses, weight, entries) };
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
