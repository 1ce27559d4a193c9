import { formatDuration } from '../duration.js';
import { pool } from '../pool.js';
import type { Log } from '../log.js';
import { writePrivateFile } from '../tempfiles.js';
import { SECTION, type ArchiveEntry } from './archive-toc.js';
import { runPgRestore, type ArchiveFeed, type DumpSection, type RestoreOptions } from './pg-restore.js';
import { shareEntries, useList } from './restore-shares.js';

export interface StreamedRestoreOptions extends Omit<
  RestoreOptions,
  'file' | 'listFile' | 'sections' | 'jobs'
> {
  /** How many pg_restore processes may run at once. */
  jobs: number;
  /** Each archive's table of contents: the main archive first, then the data parts. */
  archives: ArchiveEntry[][];
  /** Entries of the main archive left out (what the profile skips). */
  skip: Set<number>;
  /** Size of a table (bytes, or rows), as the backup recorded it: how the work is shared out. */
  sizeOf: (schema: string | null, table: string) => number;
  /**
   * A stream of archive `part` (1 the main one) for one pg_restore. `whole`: read to the end
   * and checked against the manifest; otherwise only its table of contents is wanted.
   */
  open: (part: number, whole: boolean, first: boolean) => ArchiveFeed;
  /** A path for a `--use-list` file of this name, in a private temporary directory. */
  listFile: (name: string) => string;
  log?: Log;
}

/**
 * A restore into an empty database with every archive read from a stream, never from a
 * file: the schema (pre-data) from the main archive's table of contents; then the rows,
 * shared out between up to `jobs` processes, each reading its own stream of its archive
 * (the parts of a parallel backup each on their own), each building the indexes and key
 * constraints of the tables it filled right after their rows (see restore-shares.ts); then
 * those of tables whose rows another archive held, shared out the same way; then the rest
 * of post-data (foreign keys, triggers, policies).
 * Every archive is read to its end by at least one process, which checks its SHA-256.
 */
export async function restoreStreamed(o: StreamedRestoreOptions): Promise<void> {
  const { archives, skip, log } = o;
  const main = archives[0]!;
  const common = { tool: o.tool, target: o.target, profile: o.profile, mask: o.mask, jobs: 1 };
  const run = async (
    name: string,
    part: number,
    whole: boolean,
    list: string,
    sections?: DumpSection[],
    first = false,
  ) => {
    const listFile = o.listFile(`${name}.list`);
    await writePrivateFile(listFile, list);
    await runPgRestore({ ...common, file: o.open(part, whole, first), listFile, sections });
  };
  const wanted = (e: ArchiveEntry) => !skip.has(e.id);
  if (o.jobs <= 1 && archives.length === 1) {
    await step(log, 'Restoring schema, rows and indexes', () =>
      run('all', 1, true, useList(main, wanted), [], true),
    );
    return;
  }
  const per = Math.max(1, Math.floor(o.jobs / archives.length));
  const shares = archives.map((entries, i) =>
    shareEntries(entries, i === 0 ? skip : new Set(), per, o.sizeOf, o.jobs),
  );
  const indexShares = shares[0]!.indexes;
  // An archive without rows is still read to its end once, so its SHA-256 is checked.
  const mainHasRows = shares[0]!.data.length > 0;
  await step(log, 'Restoring the schema (pre-data)', () =>
    run('pre-data', 1, !mainHasRows, useList(main, wanted), ['pre-data']),
  );
  const loads = shares.flatMap((s, i) => s.data.map((ids) => ({ part: i + 1, ids: new Set(ids) })));
  // One load per archive reads its stream to the end and checks the SHA-256: the one holding
  // the archive's last data entry, which reads nearly that far anyway. The others stop once
  // their pg_restore is done, instead of decompressing the rest of the archive for nothing
  // (age has authenticated every chunk they fed).
  const lastDataAt = (load: (typeof loads)[number]) =>
    archives[load.part - 1]!.findLastIndex((e) => e.section === SECTION.data && load.ids.has(e.id));
  const checker = new Map<number, (typeof loads)[number]>();
  for (const load of loads) {
    const held = checker.get(load.part);
    if (!held || lastDataAt(load) > lastDataAt(held)) checker.set(load.part, load);
  }
  await step(log, `Loading the rows (and their tables' indexes) in ${loads.length} streams at once`, () =>
    pool(
      Math.max(1, o.jobs),
      loads.map(
        (load, k) => () =>
          run(
            `data-${k + 1}`,
            load.part,
            checker.get(load.part) === load,
            useList(archives[load.part - 1]!, (e) => load.ids.has(e.id)),
            ['data', 'post-data'],
            k === 0,
          ),
      ),
    ),
  );
  // Built already, by the processes that loaded the rows or after them.
  const building = new Set([...indexShares.flat(), ...shares[0]!.data.flat()]);
  if (indexShares.length) {
    await step(log, `Building the other indexes and key constraints in ${indexShares.length} streams`, () =>
      pool(
        Math.max(1, o.jobs),
        indexShares.map((ids, k) => () => {
          const mine = new Set(ids);
          return run(
            `indexes-${k + 1}`,
            1,
            false,
            useList(main, (e) => mine.has(e.id)),
            ['post-data'],
          );
        }),
      ),
    );
  }
  await step(log, 'Foreign keys, triggers, policies and the rest of post-data', () =>
    run(
      'post-data',
      1,
      false,
      useList(main, (e) => wanted(e) && !building.has(e.id)),
      ['post-data'],
    ),
  );
}

/** Each step can take a long time on a large database: say when it starts and how long it took. */
async function step(log: Log | undefined, what: string, work: () => Promise<unknown>): Promise<void> {
  const started = performance.now();
  log?.info(`${what}…`);
  await work();
  log?.info(`${what}: done in ${formatDuration((performance.now() - started) / 1000)}.`);
}
