import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { LifeboatError } from '../errors.js';
import type { Log } from '../log.js';
import type { PgTarget } from '../postgres/connection.js';
import type { ResolvedProfile } from '../postgres/profile.js';
import { explainRestoreFailure } from '../postgres/restore.js';
import type { PgTool } from '../postgres/tools.js';
import { startChild } from '../process.js';
import { dropPrelude, type DropStep } from './extras.js';
import { watchLocks } from './lock-watch.js';
import { OneTransactionScript } from './one-transaction.js';
import { asPgRestoreError, concatScripts, runScriptInTransaction } from './psql-run.js';

export interface CleanRestoreOptions {
  tool: PgTool;
  psql: string;
  target: PgTarget;
  file: string;
  /** The data parts of a parallel backup; the main archive is `file`. */
  parts?: string[];
  listFile?: string;
  /** What the target has and the backup lacks, dropped first in the same transaction. */
  drops: DropStep[];
  /** Statements the profile needs (roles, schemas, stand-in functions), run after the drops. */
  preparation?: string[];
  /** A parallel backup's foreign keys and policies to drop before its tables (see crossTableDrops). */
  unlink?: string[];
  profile: ResolvedProfile;
  /** A connection to the target that watches the restore's lock waits. */
  admin: pg.ClientBase;
  log: Log;
  lockWaitSeconds?: number;
}

/** The SQL of a restore over a database: drop each object of the backup (if it exists), then create it. */
export function cleanRestoreArgs(
  options: Pick<CleanRestoreOptions, 'file' | 'listFile'>,
  sections: string[] = [],
): string[] {
  return [
    '--clean',
    '--if-exists',
    // One BEGIN and one COMMIT around everything, and none around large objects: see OneTransactionScript.
    '--single-transaction',
    '--file=-',
    ...(options.listFile ? [`--use-list=${options.listFile}`] : []),
    ...sections.map((s) => `--section=${s}`),
    options.file,
  ];
}

/**
 * The pg_restore runs whose scripts make up the restore: one, or for a parallel backup the
 * main archive's pre-data and data, each part's rows, then the main archive's post-data.
 */
export function cleanRestoreRuns(
  options: Pick<CleanRestoreOptions, 'file' | 'listFile' | 'parts'>,
): string[][] {
  if (!options.parts?.length) return [cleanRestoreArgs(options)];
  return [
    cleanRestoreArgs(options, ['pre-data', 'data']),
    ...options.parts.map((file) => ['--single-transaction', '--file=-', '--section=data', file]),
    cleanRestoreArgs(options, ['post-data']),
  ];
}

/**
 * The drops and `pg_restore --clean --if-exists` in one transaction, through psql, which
 * stops at the first error: the target ends up either as the backup or untouched, never
 * half of each. (pg_restore connecting by itself could not put the drops in its transaction.)
 */
export async function runCleanRestore(options: CleanRestoreOptions): Promise<void> {
  const { tool, log } = options;
  // A name of its own, so the lock watch finds this restore's session and no other.
  const applicationName = `lifeboat restore ${randomBytes(4).toString('hex')}`;
  const limitSeconds = options.lockWaitSeconds ?? 60;
  const watch = watchLocks(options.admin, applicationName, { limitSeconds, log });
  const mask = (text: string) => log.mask(text);
  const runs = cleanRestoreRuns(options).map((args) => ({ args, script: new OneTransactionScript() }));
  try {
    await runScriptInTransaction({
      source: concatScripts(
        runs.map(({ args, script }) => ({
          start: () =>
            startChild(tool.path, args, {
              label: `pg_restore ${tool.version}`,
              code: 'restore',
              stdio: ['ignore', 'pipe', 'pipe'],
              mask,
            }),
          through: script,
        })),
      ),
      psql: options.psql,
      target: options.target,
      applicationName,
      prelude: dropPrelude(options.drops, [...(options.unlink ?? []), ...(options.preparation ?? [])]),
      beforeCommit: () => {
        if (runs.every((r) => r.script.complete)) return;
        throw new LifeboatError(
          'restore',
          `pg_restore ${tool.version} exited without printing the end of its script. ${ROLLED_BACK}`,
          { hint: 'Run `pg_restore --list` on the decrypted dump to check it, and report this.' },
        );
      },
      explain: (stderr) => explainCleanRestoreFailure(stderr, options.profile, watch.blockedBy, limitSeconds),
      mask,
    });
  } finally {
    watch.stop();
  }
}

const ROLLED_BACK =
  'The restore ran in one transaction, which was rolled back: the target is as it was before.';

export function explainCleanRestoreFailure(
  psqlStderr: string,
  profile: ResolvedProfile,
  blockedBy?: string,
  limitSeconds = 60,
): LifeboatError | undefined {
  if (blockedBy) {
    return new LifeboatError(
      'lock',
      `The restore waited more than ${limitSeconds}s for a lock held by ${blockedBy}, so Lifeboat cancelled it before the application's queries could pile up behind it. ${ROLLED_BACK}`,
      {
        hint: "Stop the application's connections (or put it in maintenance mode) so nothing holds locks on the tables being restored, then run the restore again. `SELECT pid, application_name, state, query FROM pg_stat_activity WHERE datname = current_database()` shows who is connected.",
      },
    );
  }
  if (!psqlStderr.trim()) return undefined;
  const base = explainRestoreFailure(asPgRestoreError(psqlStderr), profile);
  const details = psqlStderr
    .split('\n')
    .map((l) => /^DETAIL:\s+(.*)$/.exec(l.trim())?.[1])
    .filter(Boolean)
    .join(' ');
  const message = `${base.message}${details ? `\nDetail: ${details}` : ''}\n${ROLLED_BACK}`;
  return new LifeboatError('restore', message, { hint: hintFor(base.message, base.hint), cause: base });
}

function hintFor(reason: string, fallback: string | undefined): string | undefined {
  if (/depends? on/.test(reason)) {
    return 'Something the backup does not have depends on an object the restore replaces (see the detail above). Drop it or move it aside, then run the restore again; or restore only the tables you need with `tables`, which touches no live object.';
  }
  if (/already exists/.test(reason)) {
    return 'The target has an object of that name which the restore did not drop first (another kind of object, or one the backup does not know). Rename or drop it, then run the restore again.';
  }
  if (/must be owner|permission denied|must be superuser|must be member of role/.test(reason)) {
    return 'The target-url user must own every object the restore replaces. On Supabase use the postgres user; objects in platform schemas (auth, storage) belong to platform roles, so restore application tables with `tables` instead.';
  }
  if (/out of shared memory|max_locks_per_transaction/.test(reason)) {
    return 'A restore in one transaction takes a lock per object. Raise max_locks_per_transaction on the server (it needs a restart), or restore the tables you need with `tables`.';
  }
  if (/canceling statement due to user request/.test(reason)) {
    return 'Someone cancelled the restore while it ran; run it again when the database is quiet.';
  }
  const role = /role "([^"]+)" does not exist/.exec(reason)?.[1];
  if (role) {
    return `Create role "${role}" on the target server (roles are not part of a dump), or use profile \`auto\` or \`supabase\`, which creates the roles a Supabase database expects.`;
  }
  return fallback;
}
