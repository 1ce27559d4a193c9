import { formatDuration } from '../duration.js';
import { pool } from '../pool.js';
import type { Log } from '../log.js';
import { runPgRestore, type RestoreOptions } from './pg-restore.js';

/**
 * A parallel backup into an empty database, the way `pg_dump --section` splits a restore:
 * the main archive's pre-data (tables, types, functions: everything the rows need), then
 * every archive's rows at once (no index or constraint yet to slow them), then the main
 * archive's post-data (indexes, constraints, triggers, policies), checked against all rows.
 * `jobs` is shared out among the archives loading rows, at least one each, and no more
 * than `jobs` pg_restore processes run at a time.
 */
export async function restoreInPhases(
  options: Omit<RestoreOptions, 'file'> & { main: string; parts: string[]; log?: Log },
): Promise<void> {
  const { main, parts, log, ...common } = options;
  const loads = [main, ...parts];
  const share = Math.max(1, Math.floor(options.jobs / loads.length));
  // Each step can take a long time on a large database: say when it starts and how long it took.
  const step = async (what: string, work: () => Promise<unknown>) => {
    const started = performance.now();
    log?.info(`${what}…`);
    await work();
    log?.info(`${what}: done in ${formatDuration((performance.now() - started) / 1000)}.`);
  };
  await step('Restoring the schema of part 1 (pre-data)', () =>
    runPgRestore({ ...common, file: main, sections: ['pre-data'] }),
  );
  await step(`Loading the rows of ${loads.length} parts at once`, () =>
    pool(
      Math.max(1, options.jobs),
      loads.map(
        (file, i) => () =>
          runPgRestore({
            ...common,
            file,
            jobs: share,
            sections: ['data'],
            // Only the main archive's entries are in the list of entries to skip.
            listFile: i === 0 ? common.listFile : undefined,
          }),
      ),
    ),
  );
  await step('Building indexes, constraints, triggers and policies (post-data)', () =>
    runPgRestore({ ...common, file: main, sections: ['post-data'] }),
  );
}
