import { randomBytes } from 'node:crypto';
import { Readable, type Transform } from 'node:stream';
import type pg from 'pg';
import { LifeboatError } from '../errors.js';
import type { Log } from '../log.js';
import type { PgTarget } from '../postgres/connection.js';
import type { ResolvedProfile } from '../postgres/profile.js';
import type { TocEntry } from '../postgres/toc.js';
import { describeEntry } from '../postgres/toc.js';
import {
  explainRestoreFailure,
  scriptArgs,
  startScript,
  type ArchiveSource,
} from '../postgres/pg-restore.js';
import type { PgTool } from '../postgres/tools.js';
import { dropPrelude } from './extras.js';
import { watchLocks } from '../postgres/lock-watch.js';
import { CountedLines, OneTransactionScript } from './one-transaction.js';
import {
  asPgRestoreError,
  concatScripts,
  pieceOf,
  runScriptInTransaction,
  type ScriptPiece,
} from '../postgres/psql.js';

export interface CleanRestoreOptions {
  tool: PgTool;
  psql: string;
  target: PgTarget;
  /**
   * Archive `part` (1 the main one, 2… the data parts of a parallel backup): a file, or a
   * stream; `whole` when the run reads its data, so the stream is read to its end and checked.
   */
  archive: (part: number, whole: boolean) => ArchiveSource;
  /** How many data parts the backup has besides its main archive. */
  parts: number;
  listFile?: string;
  /** Everything the restore replaces, dropped first in the same transaction (see clear.ts). */
  drops: { label: string; sql: string }[];
  /** Statements the profile needs (roles, schemas, stand-in functions), run after the drops. */
  preparation?: string[];
  /** The table of contents of the main archive and of each part, to name the entry an error stopped at. */
  tocs?: TocEntry[][];
  profile: ResolvedProfile;
  /** A connection to the target that watches the restore's lock waits. */
  admin: pg.ClientBase;
  log: Log;
  lockWaitSeconds?: number;
  /**
   * The caller's own SQL in the same transaction (a refresh's masking and its checks):
   * `beforePostData` once every row is in and before any index, constraint or trigger is
   * created (so the rows are rewritten without index upkeep, and the constraints check
   * the masked values when they are created), `atEnd` just before COMMIT; and how to
   * explain an error psql reports inside either.
   */
  own?: OwnSql;
}

export interface OwnSql {
  beforePostData: string;
  atEnd: string;
  explain: (psqlStderr: string) => LifeboatError;
}

export interface CleanRestoreRun {
  /** pg_restore's arguments, but for the archive (a file appended, or a stream on stdin). */
  args: string[];
  part: number;
  /** The run reads the archive's data, so its stream is read to the end. */
  whole: boolean;
}

/**
 * The pg_restore runs whose scripts make up the restore: one, or for a parallel backup the
 * main archive's pre-data and data, each part's rows, then the main archive's post-data.
 * `splitPostData` splits a single archive the same way, so SQL can run between its rows and
 * its post-data.
 */
export function cleanRestoreRuns(
  options: Pick<CleanRestoreOptions, 'listFile' | 'parts'> & { splitPostData?: boolean },
): CleanRestoreRun[] {
  const { listFile } = options;
  if (!options.parts && !options.splitPostData)
    return [{ args: scriptArgs({ listFile }), part: 1, whole: true }];
  return [
    { args: scriptArgs({ listFile, sections: ['pre-data', 'data'] }), part: 1, whole: true },
    ...Array.from({ length: options.parts }, (_, i) => ({
      args: scriptArgs({ sections: ['data'] }),
      part: i + 2,
      whole: true,
    })),
    { args: scriptArgs({ listFile, sections: ['post-data'] }), part: 1, whole: false },
  ];
}

/**
 * The drops and the archive's SQL in one transaction, through psql, which stops at the
 * first error: the target ends up either as the backup or untouched, never half of each.
 * (pg_restore connecting by itself could not put the drops in its transaction.) psql runs
 * the archive's SQL only between pg_restore's `\restrict` and `\unrestrict`, where it
 * refuses every meta-command; a script without them is never committed.
 */
export async function runCleanRestore(options: CleanRestoreOptions): Promise<void> {
  const { tool, log } = options;
  // A name of its own, so the lock watch finds this restore's session and no other.
  const applicationName = `lifeboat restore ${randomBytes(4).toString('hex')}`;
  const limitSeconds = options.lockWaitSeconds ?? 60;
  const watch = watchLocks(options.admin, applicationName, { limitSeconds, log });
  const mask = (text: string) => log.mask(text);
  // --verbose narrates every entry on stderr; an error quotes what went wrong, not that story.
  const quiet = (text: string) => mask(text.replace(VERBOSE_PROGRESS, ''));
  const runs = cleanRestoreRuns({ ...options, splitPostData: Boolean(options.own) }).map((run) => ({
    ...run,
    script: new OneTransactionScript(),
  }));
  const own = new CountedLines();
  const prelude = dropPrelude(options.drops, options.preparation ?? []);
  // What each line of the prelude does: BEGIN, a drop, or a step of the profile's preparation.
  const preludeLines = [
    'BEGIN',
    ...[
      ...options.drops,
      ...(options.preparation ?? []).map((sql) => ({ label: 'the profile', sql })),
    ].flatMap((d) => d.sql.split('\n').map(() => d.label)),
  ];
  // The caller's own piece goes in before the last run, the post-data section.
  const pieces: { script: Pick<OneTransactionScript, 'lines' | 'entries'>; toc: TocEntry[] }[] = runs.map(
    (r, i) => ({ script: r.script, toc: options.tocs?.[tocIndex(i, runs.length)] ?? [] }),
  );
  if (options.own) pieces.splice(pieces.length - 1, 0, { script: own, toc: [] });
  const inOwn = (stderr: string) => {
    const line = Number(/^psql:[^\n]*?:(\d+): (?:ERROR|FATAL|PANIC):/m.exec(stderr)?.[1] ?? 0);
    const before = preludeLines.length + runs.slice(0, -1).reduce((sum, r) => sum + r.script.lines, 0);
    const total = before + own.lines + runs.at(-1)!.script.lines;
    return (line > before && line <= before + own.lines) || line > total;
  };
  const locate = (line: number) => objectAtLine(line, { prelude: preludeLines, runs: pieces });
  const steps: { start: () => ScriptPiece; through?: Transform }[] = runs.map(
    ({ args, part, whole, script }) => ({
      start: () => {
        const source = options.archive(part, whole);
        const started =
          typeof source === 'string'
            ? startScript(tool, [...args, source], quiet)
            : startScript(tool, args, quiet, source);
        return { ...pieceOf(started.child), done: started.done };
      },
      through: script,
    }),
  );
  if (options.own) {
    const sql = options.own.beforePostData;
    steps.splice(steps.length - 1, 0, { start: () => textPiece(sql), through: own });
  }
  try {
    await runScriptInTransaction({
      source: concatScripts(steps),
      psql: options.psql,
      target: options.target,
      applicationName,
      prelude,
      beforeCommit: () => {
        if (!runs.every((r) => r.script.restricted)) {
          throw new LifeboatError(
            'restore',
            `pg_restore ${tool.version} printed its SQL without \\restrict, so psql could have run a meta-command hidden in the backup. ${ROLLED_BACK}`,
            { hint: 'Use pg_restore 17.6, 16.10, 15.14, 14.19, 13.22 or newer (set pg-bin-dir).' },
          );
        }
        if (runs.every((r) => r.script.complete)) return;
        throw new LifeboatError(
          'restore',
          `pg_restore ${tool.version} exited without printing the end of its script. ${ROLLED_BACK}`,
          { hint: 'Run `pg_restore --list` on the decrypted dump to check it, and report this.' },
        );
      },
      epilogue: options.own?.atEnd,
      explain: (stderr) =>
        options.own && inOwn(stderr)
          ? options.own.explain(stderr)
          : explainCleanRestoreFailure(stderr, options.profile, watch.blockedBy, limitSeconds, locate),
      mask,
    });
  } finally {
    watch.stop();
  }
}

/** SQL of Lifeboat's own as one piece of the script. */
function textPiece(sql: string): ScriptPiece {
  return { stdout: Readable.from([Buffer.from(sql)]), done: Promise.resolve(), kill: () => undefined };
}

const VERBOSE_PROGRESS =
  /^pg_restore: (creating|processing|executing|restoring|dropping|setting|connecting|implied data-only|entering|finished) .*\n?/gm;

const ROLLED_BACK =
  'The restore ran in one transaction, which was rolled back: the target is as it was before.';

/** Which run's table of contents: the main archive's, but for the parts' rows in between. */
function tocIndex(run: number, runs: number): number {
  return run === 0 || run === runs - 1 ? 0 : run;
}

/**
 * The object whose SQL stood at `line` of what psql read: one of Lifeboat's own statements
 * (`prelude` names the object of each of their lines), or the archive entry whose header
 * came last before it.
 */
export function objectAtLine(
  line: number,
  o: {
    prelude: string[];
    runs: { script: Pick<OneTransactionScript, 'lines' | 'entries'>; toc: TocEntry[] }[];
  },
): string | undefined {
  if (line <= o.prelude.length) return o.prelude[line - 1];
  let start = o.prelude.length;
  for (const { script, toc } of o.runs) {
    if (line <= start + script.lines) {
      const at = line - start;
      const entry = [...script.entries].reverse().find((e) => e.line <= at);
      const found = entry && toc.find((t) => t.id === entry.id);
      return found ? describeEntry(found) : undefined;
    }
    start += script.lines;
  }
  return undefined;
}

export function explainCleanRestoreFailure(
  psqlStderr: string,
  profile: ResolvedProfile,
  blockedBy?: string,
  limitSeconds = 60,
  locate?: (line: number) => string | undefined,
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
  const line = /^psql:[^\n]*?:(\d+): (?:ERROR|FATAL|PANIC):/m.exec(psqlStderr)?.[1];
  const object = line === undefined ? undefined : locate?.(Number(line));
  const base = explainRestoreFailure(asPgRestoreError(psqlStderr), profile, object);
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
