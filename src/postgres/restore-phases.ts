import { formatDuration } from '../duration.js';
import { Bell, runScheduled, type ScheduledTask } from '../schedule.js';
import type { Log } from '../log.js';
import { writePrivateFile } from '../tempfiles.js';
import { SECTION, type ArchiveEntry } from './archive-toc.js';
import { runPgRestore, type ArchiveFeed, type DumpSection, type RestoreOptions } from './pg-restore.js';
import { foreignKeyTasks, shareEntries, tableKey, useListOf } from './restore-shares.js';
import { tablesInShares } from './share-tables.js';

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
  /** Locks the target's lock table holds for all sessions (see share-tables.ts). */
  lockSlots: number;
  /**
   * A stream of archive `part` (1 the main one) for one pg_restore. `whole`: read to the end
   * and checked against the manifest; otherwise only its table of contents is wanted.
   */
  open: (part: number, whole: boolean, first: boolean) => ArchiveFeed;
  /**
   * Archive `part`'s table of contents alone (pg-restore.ts, headFeed): what a step that
   * restores no rows and need not read the archive to its end is fed instead of a stream.
   */
  schemaOnly: (part: number) => ArchiveFeed;
  /** A path for a `--use-list` file of this name, in a private temporary directory. */
  listFile: (name: string) => string;
  log?: Log;
}

/**
 * A restore into an empty database with every archive read from a stream, never from a
 * file: the schema (pre-data) from the main archive's table of contents; then the rows,
 * shared out between up to `jobs` processes, each reading its own stream of its archive
 * (the parts of a parallel backup each on their own), each building the indexes and key
 * constraints of the tables it filled right after their rows (see restore-shares.ts). A
 * process loading the main archive's rows creates the tables it can in the same transaction
 * (share-tables.ts), and what of the schema depends on them follows once every row is in; then
 * those of tables whose rows another archive held, shared out the same way. The largest
 * foreign keys are added in processes of their own as soon as both their tables are
 * complete, beside the loads still running, never two on one table at once (schedule.ts);
 * the rest of post-data (other foreign keys, triggers, policies) comes last.
 * Every archive is read to its end by at least one process, which checks its SHA-256.
 */
export async function restoreStreamed(o: StreamedRestoreOptions): Promise<void> {
  const { archives, skip, log } = o;
  const main = archives[0]!;
  const common = { tool: o.tool, target: o.target, profile: o.profile, mask: o.mask, jobs: 1 };
  /** What a pg_restore reads: the head alone when it restores no rows and need not check the archive. */
  const feed = (part: number, whole: boolean, first: boolean, rows: boolean) =>
    whole || rows ? o.open(part, whole, first) : o.schemaOnly(part);
  /** One pg_restore of `entries` of the main archive, in that order. */
  const run = async (
    name: string,
    whole: boolean,
    entries: ArchiveEntry[],
    sections?: DumpSection[],
    first = false,
  ) => {
    const listFile = o.listFile(`${name}.list`);
    const rows = restoresRows(entries, sections);
    const ids = entries.map((e) => e.id);
    await writePrivateFile(listFile, useListOf(main, ids));
    await runPgRestore({ ...common, file: feed(1, whole, first, rows), listFile, sections });
  };
  const wanted = (e: ArchiveEntry) => !skip.has(e.id);
  if (o.jobs <= 1 && archives.length === 1) {
    await step(log, 'Restoring schema, rows and indexes', () =>
      run('all', true, main.filter(wanted), [], true),
    );
    return;
  }
  const per = Math.max(1, Math.floor(o.jobs / archives.length));
  const shares = archives.map((entries, i) =>
    shareEntries(entries, i === 0 ? skip : new Set(), per, o.sizeOf, o.jobs),
  );
  const indexShares = shares[0]!.indexes;
  const created = tablesInShares(main, skip, shares[0]!.data, o.sizeOf, o.lockSlots);
  const createdTables = created.tables.flat();
  const held = new Set([...createdTables, ...created.later]);
  // An archive without rows is still read to its end once, so its SHA-256 is checked.
  const mainHasRows = shares[0]!.data.length > 0;
  await step(log, 'Restoring the schema (pre-data)', () =>
    run(
      'pre-data',
      !mainHasRows,
      main.filter((e) => wanted(e) && !held.has(e.id)),
      ['pre-data'],
    ),
  );
  const loads = shares.flatMap((s, i) =>
    s.data.map((order, k) => ({
      part: i + 1,
      order,
      ids: new Set(order),
      creates: i === 0 ? created.tables[k]! : [],
    })),
  );
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
  // What is complete, so a foreign key can be added while the loads go on: a table once its
  // rows, indexes and key constraints are in (the post-data entries built in this phase).
  const bell = new Bell();
  const pending = new Map<string, number>(); // table → its entries not done yet, in any share
  const built = new Set<number>(); // post-data entries of the main archive done
  const byIds = archives.map((a) => new Map(a.map((e) => [e.id, e])));
  const tableOf = (part: number, e: ArchiveEntry) => tableOfEntry(byIds[part - 1]!, e);
  const note = (part: number, e: ArchiveEntry) => {
    const table = tableOf(part, e);
    if (table) pending.set(table, (pending.get(table) ?? 0) + 1);
  };
  const finish = (part: number, e: ArchiveEntry, locks: Set<string>) => {
    if (part === 1 && e.section === SECTION.postData) built.add(e.id);
    const table = tableOf(part, e);
    if (!table) return;
    const left = pending.get(table)! - 1;
    pending.set(table, left);
    if (left === 0) locks.delete(table);
  };
  const tasks: ScheduledTask[] = [];
  /** One pg_restore doing `ids` of archive `part` in that order, telling each entry done as it goes. */
  const shareTask = (
    name: string,
    part: number,
    ids: number[],
    whole: boolean,
    sections: DumpSection[],
    first = false,
    creates: number[] = [],
  ) => {
    const archive = archives[part - 1]!;
    const entries = ids.map((id) => byIds[part - 1]!.get(id)!);
    for (const e of entries) note(part, e);
    const locks = new Set(entries.map((e) => tableOf(part, e)).filter((t): t is string => !!t));
    const expected = entries.map(progressLine);
    let next = 0;
    const doneUpTo = (end: number) => {
      for (; next < end; next++) finish(part, entries[next]!, locks);
      bell.ring();
    };
    return {
      locks,
      run: async () => {
        const listFile = o.listFile(`${name}.list`);
        await writePrivateFile(listFile, useListOf(archive, [...creates, ...ids]));
        await runPgRestore({
          ...common,
          file: feed(part, whole, first, restoresRows(entries, sections)),
          listFile,
          sections: creates.length ? ['pre-data', ...sections] : sections,
          // Tables created here exist for others only once it commits, at its end.
          singleTransaction: creates.length > 0,
          // An entry started: the ones before it are done.
          started: creates.length
            ? undefined
            : (what) => {
                const at = expected.indexOf(what, next);
                if (at > next) doneUpTo(at);
              },
        });
        doneUpTo(entries.length);
      },
    };
  };
  let loaded = 0;
  for (const [k, load] of loads.entries()) {
    const share = shareTask(
      `data-${k + 1}`,
      load.part,
      load.order,
      checker.get(load.part) === load,
      ['data', 'post-data'],
      k === 0,
      load.creates,
    );
    tasks.push({
      locks: share.locks,
      ready: () => true,
      run: async () => {
        await share.run();
        loaded++;
      },
    });
  }
  // What of the schema waited for the tables the loads created (views, defaults, comments).
  const later = created.later.filter((id) => !skip.has(id));
  const lateEntries = later.map((id) => byIds[0]!.get(id)!);
  let schemaDone = later.length === 0;
  if (!schemaDone) {
    const tables = createdTables.map((id) => {
      const table = byIds[0]!.get(id)!;
      return tableKey(table.namespace, table.tag);
    });
    tasks.push({
      locks: new Set(tables),
      ready: () => loaded === loads.length,
      run: async () => {
        // No --section: pg_restore leaves out a comment or grant of a section's table not in its run.
        await run('schema-after-rows', false, lateEntries);
        schemaDone = true;
      },
    });
  }
  // Indexes of tables whose rows another archive held (or of a view the schema made late): once every row is in.
  for (const [k, ids] of indexShares.entries()) {
    tasks.push({
      ready: () => loaded === loads.length && schemaDone,
      ...shareTask(`indexes-${k + 1}`, 1, ids, false, ['post-data']),
    });
  }
  // Built already, by the processes that loaded the rows or after them.
  const building = new Set([...indexShares.flat(), ...shares[0]!.data.flat()]);
  // The largest foreign keys are added side by side as soon as both their tables are complete.
  const keys = foreignKeyTasks(
    main,
    (e) => wanted(e) && !building.has(e.id),
    (id) => building.has(id),
    o.sizeOf,
  );
  const allDone = () => [...pending.values()].every((n) => n === 0);
  for (const key of keys) {
    tasks.push({
      locks: key.alone ? 'all' : new Set(key.tables),
      ready: key.alone
        ? allDone
        : () => key.tables.every((t) => !pending.get(t)) && key.needs.every((id) => built.has(id)),
      run: () => run(`foreign-key-${key.id}`, false, [byIds[0]!.get(key.id)!], ['post-data']),
    });
  }
  const added = new Set(keys.map((k) => k.id));
  const moved = createdTables.length;
  const what = [
    `Loading the rows (and their tables' indexes) in ${loads.length} streams at once` +
      (moved
        ? `, ${moved} ${moved === 1 ? 'table' : 'tables'} created in the transaction of ${moved === 1 ? 'its' : 'their'} rows`
        : ''),
    ...(indexShares.length
      ? [
          `then the other indexes in ${indexShares.length === 1 ? 'one stream' : `${indexShares.length} streams`}`,
        ]
      : []),
    ...(keys.length ? [`adding ${keys.length} foreign keys as their tables complete`] : []),
  ].join('; ');
  await step(log, what, () => runScheduled(Math.max(1, o.jobs), tasks, bell));
  await step(log, 'Foreign keys, triggers, policies and the rest of post-data', () =>
    run(
      'post-data',
      false,
      main.filter((e) => wanted(e) && !building.has(e.id) && !added.has(e.id) && !held.has(e.id)),
      ['post-data'],
    ),
  );
}

/** Whether pg_restore, given these entries and sections, reads a data block. */
function restoresRows(entries: ArchiveEntry[], sections?: DumpSection[]): boolean {
  return (!sections?.length || sections.includes('data')) && entries.some((e) => e.section === SECTION.data);
}

/**
 * The table (as tableKey names it) a data entry fills or an index or key constraint is built
 * on; undefined for entries of no one table (a sequence's value, large objects).
 */
function tableOfEntry(byId: Map<number, ArchiveEntry>, e: ArchiveEntry): string | undefined {
  if (e.section === SECTION.data) return e.desc === 'TABLE DATA' ? tableKey(e.namespace, e.tag) : undefined;
  const table = e.deps.map((d) => byId.get(d)).find((x) => x?.desc === 'TABLE');
  return table ? tableKey(table.namespace, table.tag) : undefined;
}

/** The line pg_restore --verbose logs as it starts an entry (pg_backup_archiver.c, 12 to 18). */
function progressLine(e: ArchiveEntry): string {
  const name = e.namespace ? `${e.namespace}.${e.tag}` : e.tag;
  return e.desc === 'TABLE DATA' ? `processing data for table "${name}"` : `creating ${e.desc} "${name}"`;
}

/** Each step can take a long time on a large database: say when it starts and how long it took. */
async function step(log: Log | undefined, what: string, work: () => Promise<unknown>): Promise<void> {
  const started = performance.now();
  log?.info(`${what}…`);
  await work();
  log?.info(`${what}: done in ${formatDuration((performance.now() - started) / 1000)}.`);
}
