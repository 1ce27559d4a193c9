import { SECTION, type ArchiveEntry } from './archive-toc.js';

/**
 * How a restore read from streams is shared out between pg_restore processes. pg_restore
 * cannot run `--jobs` on an archive it reads from a pipe, so parallelism comes from several
 * processes, each reading its own stream of the archive and given its share of the entries
 * with `--use-list`: the rows (data section) and, right after them, the indexes and key
 * constraints (the slow part of post-data) of the tables whose rows it loaded, while the
 * others still load theirs. Everything else runs in one process before or after them.
 *
 * Each share keeps its data entries in archive order: a process reading a pipe can only skip
 * forward to the next data block it wants. Pure.
 */
export interface Shares {
  /**
   * Dump ids each process restores, none empty: its data entries in archive order, each
   * followed by the indexes and key constraints of its table.
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
  // Rows in archive order (a pipe is read forward only), each table's indexes and key
  // constraints right after its rows: the table is then complete, and a foreign key on it can
  // be added, while the process goes on to the next table's rows.
  const position = new Map(entries.map((e, i) => [e.id, i]));
  const rowsAt = new Map(data.map((e) => [tableOf(e), position.get(e.id)!]));
  const order = (id: number) => {
    const e = byId.get(id)!;
    const at = position.get(id)!;
    return e.section === SECTION.data ? [at, 0, 0] : [rowsAt.get(tableOf(e)) ?? at, 1, at];
  };
  for (const share of shares) {
    share.sort((x, y) => {
      const [a, b] = [order(x), order(y)];
      return a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!;
    });
  }
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

/** A `--use-list` file naming the entries `ids` in that order (pg_restore follows the list's order). */
export function useListOf(entries: ArchiveEntry[], ids: number[]): string {
  const byId = new Map(entries.map((e) => [e.id, e]));
  return listLines(ids.map((id) => byId.get(id)!));
}

/**
 * A `--use-list` file naming the given entries in archive order. pg_restore reads only the
 * dump id before each `;`; the rest of the line is there for a person reading it.
 */
export function useList(entries: ArchiveEntry[], wanted: (entry: ArchiveEntry) => boolean): string {
  return listLines(entries.filter(wanted));
}

function listLines(entries: ArchiveEntry[]): string {
  return (
    entries
      .map((e) => `${e.id}; ${e.desc} ${e.namespace ?? '-'} ${e.tag}`.replace(/[\r\n]/g, ' '))
      .join('\n') + '\n'
  );
}

/** A foreign key worth a process of its own: added once its tables are complete, beside others. */
export interface ForeignKeyTask {
  /** Dump id of the FK CONSTRAINT entry. */
  id: number;
  /** The tables it locks (referencing and referenced), as tableKey names them. */
  tables: string[];
  /** Post-data entries it needs built first (the referenced key's index or constraint). */
  needs: number[];
  /**
   * A table of an inheritance or partition family: adding the key also locks tables the
   * archive does not name beside it, so it runs alone, after every load.
   */
  alone: boolean;
}

/** How one table is named across the archives of a backup (dump ids differ between parts). */
export function tableKey(schema: string | null, table: string): string {
  return JSON.stringify([schema, table]);
}

/** At most this many foreign keys get processes of their own; the rest join the last step. */
const MAX_FOREIGN_KEY_TASKS = 32;

/**
 * The foreign keys a restore adds side by side, the way `pg_restore --jobs` does, instead of
 * one after another in its last step: validating one reads both its tables, which takes
 * seconds on large ones. Only keys whose tables hold at least 1% of the data are worth a
 * process (about 50 ms to start); the rest stay in the last step. `ready` says whether a
 * post-data entry the key depends on is built before the last step. Largest first. Pure.
 */
export function foreignKeyTasks(
  entries: ArchiveEntry[],
  wanted: (entry: ArchiveEntry) => boolean,
  ready: (id: number) => boolean,
  sizeOf: (schema: string | null, table: string) => number,
): ForeignKeyTask[] {
  const byId = new Map(entries.map((e) => [e.id, e]));
  const tables = entries.filter((e) => e.desc === 'TABLE');
  const total = tables.reduce((n, t) => n + Math.max(0, sizeOf(t.namespace, t.tag)), 0);
  // Tables of a family: an inheritance child or a partition depends on its parent, an ATTACH on both.
  const family = new Set<number>();
  for (const e of entries) {
    const parents = e.deps.filter((d) => byId.get(d)?.desc === 'TABLE');
    if (e.desc === 'TABLE' && parents.length) family.add(e.id);
    if (e.desc === 'TABLE' || e.desc === 'TABLE ATTACH') for (const d of parents) family.add(d);
  }
  const tablesOf = (e: ArchiveEntry): ArchiveEntry[] =>
    e.deps.flatMap((d) => {
      const dep = byId.get(d);
      if (!dep) return [];
      if (dep.desc === 'TABLE') return [dep];
      if (dep.section === SECTION.postData)
        return dep.deps.map((x) => byId.get(x)).filter((x): x is ArchiveEntry => x?.desc === 'TABLE');
      return [];
    });
  const keys = entries.flatMap((e) => {
    if (e.desc !== 'FK CONSTRAINT' || !wanted(e)) return [];
    const needs = e.deps.filter((d) => byId.get(d)?.section === SECTION.postData);
    const locked = [...new Map(tablesOf(e).map((t) => [t.id, t])).values()];
    // A key whose tables the archive does not name, or that needs what is built last, stays last.
    if (!locked.length || !needs.every(ready)) return [];
    const weight = locked.reduce((n, t) => n + Math.max(0, sizeOf(t.namespace, t.tag)), 0);
    if (total > 0 ? weight < total / 100 : true) return [];
    return [
      {
        weight,
        task: {
          id: e.id,
          tables: locked.map((t) => tableKey(t.namespace, t.tag)),
          needs,
          alone: locked.some((t) => family.has(t.id)),
        },
      },
    ];
  });
  keys.sort((a, b) => b.weight - a.weight || a.task.id - b.task.id);
  return keys.slice(0, MAX_FOREIGN_KEY_TASKS).map((k) => k.task);
}

/**
 * The lanes of a restore whose rows reach one `pg_restore --jobs` through pipes (see
 * piped-restore.ts): each lane is one stream of the archive feeding its data entries, in
 * archive order, one after another; the entries are given out largest first to the lane with
 * the least so far. `ids` are the entries holding a data block, in archive order. Pure.
 */
export function pipeLanes(
  entries: ArchiveEntry[],
  ids: number[],
  lanes: number,
  sizeOf: (schema: string | null, table: string) => number,
): number[][] {
  const byId = new Map(entries.map((e) => [e.id, e]));
  const size = (id: number) => {
    const e = byId.get(id);
    return Math.max(1, e ? sizeOf(e.namespace, e.tag) : 0);
  };
  const load = new Array<number>(Math.max(1, Math.min(lanes, ids.length))).fill(0);
  const laneOf = new Map<number, number>();
  // A stable sort: equal sizes keep archive order, so small tables spread round the lanes.
  for (const id of [...ids].sort((a, b) => size(b) - size(a))) {
    const lane = load.indexOf(Math.min(...load));
    load[lane]! += size(id);
    laneOf.set(id, lane);
  }
  const out = load.map(() => [] as number[]);
  for (const id of ids) out[laneOf.get(id)!]!.push(id);
  return out.filter((lane) => lane.length > 0);
}
