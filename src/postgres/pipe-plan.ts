import type { ArchiveContents, ArchiveEntry } from './archive-toc.js';
import { directoryToc, type AddedEntry } from './directory-toc.js';
import { pipeLanes, tableKey } from './restore-shares.js';

/** One stream of an archive and the rows it feeds, in its archive's order. */
export interface PipeLane {
  /** 1 the main archive, 2… the data parts of a parallel backup. */
  part: number;
  /** The entries whose rows it feeds, by their dump id in its own archive. */
  ids: number[];
  /** The same entries in the merged table of contents: `<id>.dat` is each one's pipe. */
  pipes: number[];
  /** Reads its archive to the end, so the archive's SHA-256 is checked. */
  whole: boolean;
}

export interface PipePlan {
  /** toc.dat of the directory archive. */
  toc: Buffer;
  /** Every entry of the merged table of contents pg_restore is to restore, for --use-list. */
  wanted: ArchiveEntry[];
  /** Every pipe to create: one per entry holding rows, restored or not. */
  pipes: number[];
  lanes: PipeLane[];
}

/**
 * Why the archives cannot be restored through pipes (see piped-restore.ts), or undefined.
 * A directory archive stores large objects differently; an archive compressed by pg_dump
 * itself is restored the other way (restore-phases.ts).
 */
export function pipePlanRefusal(archives: ArchiveContents[]): string | undefined {
  const main = archives[0]!;
  if (archives.some((a) => a.compressed || !a.head)) return 'the archive compresses its own rows';
  if (archives.some((a) => a.intSize !== main.intSize)) return 'its archives were written differently';
  const tables = new Set(
    main.entries.filter((e) => e.desc === 'TABLE').map((e) => tableKey(e.namespace, e.tag)),
  );
  for (const [i, archive] of archives.entries()) {
    const byId = new Map(archive.entries.map((e) => [e.id, e]));
    for (const span of archive.spans) {
      if (!span.hasData) continue;
      const entry = byId.get(span.id)!;
      if (entry.desc !== 'TABLE DATA') return 'the archive holds large objects';
      if (i > 0 && !tables.has(tableKey(entry.namespace, entry.tag)))
        return 'a part holds rows of a table the main archive does not define';
    }
  }
  if (!archives.some((a) => a.spans.some((s) => s.hasData))) return 'the archive holds no rows';
  return undefined;
}

/**
 * The directory archive and its lanes: each data part of a parallel backup is a lane of its
 * own (it holds only rows); the main archive's rows are shared out between the jobs left,
 * largest first (pipeLanes). Within a lane each entry depends on the one before it, so
 * pg_restore asks for a lane's rows in the order its stream reaches them. Each archive is
 * read to its end by one lane: the one holding its last data block, else a lane of its own
 * that feeds nothing. Pure.
 */
export function planPipes(
  archives: ArchiveContents[],
  skip: Set<number>,
  jobs: number,
  sizeOf: (schema: string | null, table: string) => number,
): PipePlan {
  const main = archives[0]!;
  const wanted = main.entries.filter((e) => !skip.has(e.id));
  const added: AddedEntry[] = [];
  const lanes: PipeLane[] = [];
  const tables = new Map(
    main.entries.filter((e) => e.desc === 'TABLE').map((e) => [tableKey(e.namespace, e.tag), e]),
  );
  let nextId = main.entries.reduce((max, e) => Math.max(max, e.id), 0) + 1;
  for (const [i, part] of archives.entries()) {
    if (i === 0) continue;
    const ids: number[] = [];
    const pipes: number[] = [];
    for (const [k, span] of part.spans.entries()) {
      const entry = part.entries[k]!;
      const table = span.hasData ? tables.get(tableKey(entry.namespace, entry.tag)) : undefined;
      // Rows of a table the profile leaves out stay out (parts hold none today: dump-split keeps
      // the tables of extensions' schemas in part 1); the lane still reads past them to the end.
      if (!table || skip.has(table.id)) continue;
      const id = nextId++;
      added.push({ from: { ...part, head: part.head! }, span, id, deps: [table.id] });
      wanted.push({ ...entry, id, deps: [] });
      ids.push(entry.id);
      pipes.push(id);
    }
    lanes.push({ part: i + 1, ids, pipes, whole: true });
  }
  const mainData = main.spans.filter((s) => s.hasData).map((s) => s.id);
  const shared = pipeLanes(
    main.entries,
    mainData.filter((id) => !skip.has(id)),
    Math.max(1, jobs - lanes.length),
    sizeOf,
  );
  const last = mainData.at(-1);
  const mainLanes = shared.map((ids) => ({
    part: 1,
    ids,
    pipes: ids,
    whole: last !== undefined && ids.includes(last),
  }));
  if (!mainLanes.some((l) => l.whole)) mainLanes.push({ part: 1, ids: [], pipes: [], whole: true });
  lanes.unshift(...mainLanes);

  const after = new Map<number, number[]>();
  for (const lane of lanes) lane.pipes.forEach((id, i) => i > 0 && after.set(id, [lane.pipes[i - 1]!]));
  return {
    toc: directoryToc({ ...main, head: main.head! }, after, added),
    wanted,
    pipes: [...mainData, ...added.map((a) => a.id)],
    lanes,
  };
}
