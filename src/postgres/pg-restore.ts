import os from 'node:os';
import { isLifeboatError, LifeboatError } from '../errors.js';
import { startChild, type Child } from '../process.js';
import { explainRestoreFailure } from './restore-failure.js';
import { libpqEnv, type PgTarget } from './connection.js';
import type { ResolvedProfile } from './profile.js';
import type { PgTool, PgToolFinder } from './tools.js';

/**
 * pg_restore behind a small interface, one function per use: the right binary for the
 * archive, a parallel restore into a database that stops at the first error (its error
 * explained in restore-failure.ts), the table of contents of a file or of a stream, and the
 * archive's SQL for psql. No other module starts pg_restore or builds its arguments.
 */
export { explainRestoreFailure };

/** `15.18` → 15; the major a pg_restore must reach to read the archive. */
export function dumpMajor(pgDumpVersion: string): number {
  return Number(/^(\d+)/.exec(pgDumpVersion)?.[1] ?? 0);
}

export async function findPgRestore(finder: PgToolFinder, pgDumpVersion: string): Promise<PgTool> {
  try {
    return await finder.forServer('pg_restore', dumpMajor(pgDumpVersion), pgDumpVersion);
  } catch (error) {
    if (!isLifeboatError(error, 'tools')) throw error;
    throw new LifeboatError(
      'tools',
      `This backup was written by pg_dump ${pgDumpVersion}; reading it needs pg_restore ${dumpMajor(pgDumpVersion)} or newer. ${error.message}`,
      { hint: error.hint, cause: error },
    );
  }
}

/**
 * The first release of each major whose pg_restore starts the SQL it prints with
 * `\restrict` (CVE-2025-8714): psql then refuses every meta-command until the matching
 * `\unrestrict`, so text inside a backup (a default, a function body, a row) that looks like
 * `\! command` can never run as one. 18 and later always have it.
 */
const RESTRICT_SINCE: Record<number, number> = { 13: 22, 14: 19, 15: 14, 16: 10, 17: 6 };

/** Refuses a pg_restore whose SQL output psql would run without `\restrict`. */
export function requireRestrict(tool: PgTool): void {
  const [major, minor] = tool.version.split('.').map(Number) as [number, number | undefined];
  if (major >= 18) return;
  const since = RESTRICT_SINCE[major];
  if (since !== undefined && (minor ?? 0) >= since) return;
  const needed = since === undefined ? '17.6' : `${major}.${since}`;
  throw new LifeboatError(
    'tools',
    `pg_restore ${tool.version} (${tool.path}) prints SQL without \\restrict, so psql could run a meta-command hidden in the backup's text. Lifeboat needs pg_restore ${needed} or newer for this restore. Nothing was changed.`,
    {
      hint: `Update the PostgreSQL client: on Debian or Ubuntu \`sudo apt-get update && sudo apt-get install -y postgresql-client-${major >= 13 ? major : 17}\` (from the PostgreSQL apt repository when the distribution's is older), on macOS \`brew upgrade postgresql@${major >= 13 ? major : 17}\`; or set pg-bin-dir to a newer client's bin directory.`,
    },
  );
}

/** One job per core: pg_restore's workers each load a table or build an index. */
export function restoreJobs(): number {
  return Math.max(1, os.availableParallelism());
}

/**
 * `pg_restore --list` reading the archive from its standard input, for a caller that pipes
 * it in (the read-back feeds it from zstd). Its stdout, the listing, is the caller's to read.
 */
export function startListing(tool: PgTool): Child {
  return startChild(tool.path, ['--list'], {
    label: `pg_restore ${tool.version} --list`,
    code: 'integrity',
    stdio: ['pipe', 'pipe', 'pipe'],
    hint: 'The archive decrypted and decompressed but is not a pg_dump custom-format archive this pg_restore can read.',
  });
}

/**
 * Feeds an archive to a pg_restore reading its standard input and settles once both are
 * through (see archive/plain-stream.ts): no plaintext file of the dump is ever needed.
 */
export type ArchiveFeed = (child: Child) => Promise<void>;

/**
 * Feeds a pg_restore an archive's head alone (its header and table of contents), from memory:
 * all a run that restores no rows reads, since pg_restore reads a data block only for an
 * entry that has one. A step that builds schema then costs no store read, no decryption and
 * no zstd (restore-phases.ts). Given an entry with rows by mistake, pg_restore fails at the
 * end of its input rather than restore less.
 */
export function headFeed(head: Buffer): ArchiveFeed {
  return async (child) => {
    const stdin = child.process.stdin!;
    // EPIPE when pg_restore exits before reading it all (it failed): its exit status says why.
    stdin.on('error', () => undefined);
    stdin.end(head);
    await child.done;
  };
}

/** An archive file, or a stream of one fed on stdin. */
export type ArchiveSource = string | ArchiveFeed;

/** The table of contents of an archive, as `pg_restore --list` prints it. */
export async function listArchive(tool: PgTool, source: ArchiveSource): Promise<string> {
  const child = startChild(tool.path, ['--list', ...(typeof source === 'string' ? [source] : [])], {
    label: `pg_restore ${tool.version} --list`,
    code: 'integrity',
    stdio: [typeof source === 'string' ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    hint: 'The archive decrypted and decompressed but pg_restore cannot read its table of contents.',
  });
  let listing = '';
  child.process.stdout!.setEncoding('utf8');
  child.process.stdout!.on('data', (text: string) => (listing += text));
  await (typeof source === 'string' ? child.done : source(child));
  return listing;
}

export interface RestoreOptions {
  tool: PgTool;
  /** Server and database to restore into; the password reaches pg_restore through its environment. */
  target: PgTarget;
  /** The archive: a file, or a stream fed on stdin (then `jobs` must be 1). */
  file: ArchiveSource;
  jobs: number;
  /** A `--list` file with entries commented out, when some must be skipped. */
  listFile?: string;
  /** Only these sections of the archive (a parallel backup is restored section by section). */
  sections?: DumpSection[];
  /** Leave out owners, privileges, comments, security labels and publications (a scratch copy). */
  definitionsOnly?: boolean;
  /** One transaction around everything (`jobs` must be 1): nothing of it is seen until it commits. */
  singleTransaction?: boolean;
  profile: ResolvedProfile;
  mask: (text: string) => string;
  /**
   * Told each entry pg_restore starts, as its verbose log names it (`creating INDEX
   * "public.orders_pkey"`, `processing data for table "public.orders"`): the entries before
   * it are done. Turns on --verbose; those lines are left out of error messages.
   */
  started?: (what: string) => void;
  /**
   * Work that runs beside a pg_restore reading a `file` (the pipes of a directory archive fed
   * from streams, see piped-restore.ts): given the child, it settles once both are through.
   */
  beside?: (child: Child) => Promise<void>;
}

export type DumpSection = 'pre-data' | 'data' | 'post-data';

export function pgRestoreArgs(
  options: Pick<
    RestoreOptions,
    'target' | 'file' | 'jobs' | 'listFile' | 'sections' | 'definitionsOnly' | 'started' | 'singleTransaction'
  >,
): string[] {
  const args = [
    `--dbname=${options.target.database}`,
    // "errors ignored on restore" means lost objects; a drill must stop at the first.
    '--exit-on-error',
    `--jobs=${options.jobs}`,
    '--no-password',
  ];
  if (options.started) args.push('--verbose');
  if (options.singleTransaction) args.push('--single-transaction');
  if (options.listFile) args.push(`--use-list=${options.listFile}`);
  if (options.definitionsOnly) {
    args.push('--no-owner', '--no-privileges', '--no-comments', '--no-security-labels', '--no-publications');
  }
  for (const section of options.sections ?? []) args.push(`--section=${section}`);
  if (typeof options.file === 'string') args.push(options.file);
  return args;
}

/**
 * The SQL that creates an archive's objects, written to stdout (`--file=-`) for psql to run.
 * --verbose adds a `-- TOC entry N` header before each entry, which names the object when one
 * fails; --single-transaction puts one BEGIN and one COMMIT around everything and none around
 * large objects (see restore/one-transaction.ts).
 */
export function scriptArgs(options: {
  file?: string;
  listFile?: string;
  sections?: DumpSection[];
}): string[] {
  return [
    '--verbose',
    '--single-transaction',
    '--file=-',
    ...(options.listFile ? [`--use-list=${options.listFile}`] : []),
    ...(options.sections ?? []).map((s) => `--section=${s}`),
    ...(options.file ? [options.file] : []),
  ];
}

/**
 * pg_restore printing an archive's SQL (arguments from scriptArgs); it connects to no server.
 * Without a file among the arguments it reads the archive from `feed`.
 */
export function startScript(
  tool: PgTool,
  args: string[],
  mask: (text: string) => string,
  feed?: ArchiveFeed,
): { child: Child; done: Promise<void> } {
  const child = startChild(tool.path, args, {
    label: `pg_restore ${tool.version}`,
    code: 'restore',
    stdio: [feed ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    mask,
  });
  const done = feed ? feed(child) : child.done;
  done.catch(() => undefined); // the caller awaits it
  return { child, done };
}

/** What --verbose adds for every entry: progress, not part of an error. */
const PROGRESS_LINE = /^pg_restore: (creating |processing data for table |executing |connecting to database)/;

export async function runPgRestore(options: RestoreOptions): Promise<void> {
  const { tool, started } = options;
  const fed = typeof options.file !== 'string';
  const mask = started
    ? (text: string) =>
        options.mask(
          text
            .split('\n')
            .filter((line) => !PROGRESS_LINE.test(line))
            .join('\n'),
        )
    : options.mask;
  const child = startChild(tool.path, pgRestoreArgs(options), {
    label: `pg_restore ${tool.version}`,
    code: 'restore',
    env: libpqEnv(options.target),
    stdio: [fed ? 'pipe' : 'ignore', 'ignore', 'pipe'],
    mask,
  });
  if (started) {
    let partial = '';
    child.process.stderr!.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      for (const line of lines)
        if (line.startsWith('pg_restore: ')) started(line.slice('pg_restore: '.length));
    });
  }
  try {
    const file = options.file;
    await (typeof file !== 'string' ? file(child) : options.beside ? options.beside(child) : child.done);
  } catch (error) {
    // A stream that failed its check (hash, decryption) is the cause; pg_restore only saw its end.
    if (isLifeboatError(error, 'integrity')) throw error;
    const stderr = child.stderr();
    throw stderr ? explainRestoreFailure(stderr, options.profile) : error;
  }
}
