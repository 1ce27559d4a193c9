import os from 'node:os';
import { describeEntry, parseErrorEntry } from './toc.js';
import { isLifeboatError, LifeboatError } from '../errors.js';
import { startChild } from '../process.js';
import { libpqEnv, type PgTarget } from './connection.js';
import type { ResolvedProfile } from './profile.js';
import type { PgTool, PgToolFinder } from './tools.js';

/**
 * pg_restore behind a small interface: the right binary for the archive, a parallel
 * restore that stops at the first error, and that error turned into the object that
 * failed and what to do about it.
 */

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

/** The table of contents of an archive file, as `pg_restore --list` prints it. */
export async function listArchive(tool: PgTool, file: string): Promise<string> {
  const child = startChild(tool.path, ['--list', file], {
    label: `pg_restore ${tool.version} --list`,
    code: 'integrity',
    stdio: ['ignore', 'pipe', 'pipe'],
    hint: 'The archive decrypted and decompressed but pg_restore cannot read its table of contents.',
  });
  let listing = '';
  child.process.stdout!.setEncoding('utf8');
  child.process.stdout!.on('data', (text: string) => (listing += text));
  await child.done;
  return listing;
}

export interface RestoreOptions {
  tool: PgTool;
  /** Server and database to restore into; the password reaches pg_restore through its environment. */
  target: PgTarget;
  file: string;
  jobs: number;
  /** A `--list` file with entries commented out, when some must be skipped. */
  listFile?: string;
  /** Only these sections of the archive (a parallel backup is restored section by section). */
  sections?: DumpSection[];
  /** Leave out owners, privileges, comments, security labels and publications (a scratch copy). */
  definitionsOnly?: boolean;
  profile: ResolvedProfile;
  mask: (text: string) => string;
}

export type DumpSection = 'pre-data' | 'data' | 'post-data';

export function pgRestoreArgs(
  options: Pick<RestoreOptions, 'target' | 'file' | 'jobs' | 'listFile' | 'sections' | 'definitionsOnly'>,
): string[] {
  const args = [
    `--dbname=${options.target.database}`,
    // "errors ignored on restore" means lost objects; a drill must stop at the first.
    '--exit-on-error',
    `--jobs=${options.jobs}`,
    '--no-password',
  ];
  if (options.listFile) args.push(`--use-list=${options.listFile}`);
  if (options.definitionsOnly) {
    args.push('--no-owner', '--no-privileges', '--no-comments', '--no-security-labels', '--no-publications');
  }
  for (const section of options.sections ?? []) args.push(`--section=${section}`);
  args.push(options.file);
  return args;
}

export async function runPgRestore(options: RestoreOptions): Promise<void> {
  const { tool, mask } = options;
  const child = startChild(tool.path, pgRestoreArgs(options), {
    label: `pg_restore ${tool.version}`,
    code: 'restore',
    env: libpqEnv(options.target),
    stdio: ['ignore', 'ignore', 'pipe'],
    mask,
  });
  try {
    await child.done;
  } catch (error) {
    const stderr = child.stderr();
    throw stderr ? explainRestoreFailure(stderr, options.profile) : error;
  }
}

/**
 * Reads pg_restore's stderr for the statement that failed and why. pg_restore names the TOC
 * entry only in verbose mode, so the object usually comes from the failed command. The
 * message names the object; the hint says what to change.
 */
export function explainRestoreFailure(
  stderr: string,
  profile: ResolvedProfile,
  /** The object that failed, when the caller knows it better than the failed command tells. */
  known?: string,
): LifeboatError {
  const lines = stderr.split('\n');
  const entryLine = lines.find((l) => /from TOC entry \d+;/.test(l));
  const entry = entryLine ? parseErrorEntry(entryLine.replace(/^.*from TOC entry /, '')) : undefined;
  const errorAt = lines.findIndex((l) => /error:/.test(l) && !/worker process died/.test(l));
  const errorLine = errorAt >= 0 ? lines[errorAt]! : (lines.find((l) => l.trim()) ?? stderr);
  const reason = (
    /ERROR:\s+(.*)$/.exec(errorLine)?.[1] ?? errorLine.replace(/^pg_restore:\s*(error:\s*)?/, '')
  )
    .trim()
    .replace(/\.$/, '');
  const commandAt = lines.findIndex((l) => l.startsWith('Command was: '));
  const commandEnd = lines.findIndex((l, i) => i > commandAt && (!l.trim() || l.startsWith('pg_restore:')));
  const command =
    commandAt >= 0
      ? lines
          .slice(commandAt, commandEnd < 0 ? undefined : commandEnd)
          .join(' ')
          .replace(/^Command was: /, '')
          .replace(/\s+/g, ' ')
          .trim()
      : '';
  const object = known ?? (entry ? describeEntry(entry) : objectOfCommand(command));
  const where = object ? ` at ${object}` : '';
  const shown = command
    ? `\nCommand was: ${command.length > 300 ? `${command.slice(0, 300)}…` : command}`
    : '';
  const fail = (hint: string) =>
    new LifeboatError('restore', `pg_restore stopped${where}: ${reason}.${shown}`, { hint });

  const role = /role "([^"]+)" does not exist/.exec(reason)?.[1];
  if (role) {
    return fail(
      profile === 'postgres'
        ? `The backup needs role "${role}", which this server lacks (a dump never carries roles). Use profile \`supabase\` or \`auto\` (the default), which creates the roles a Supabase database expects, or create the role on the target server first.`
        : `The backup needs role "${role}", which this server lacks. Create it on the target server first.`,
    );
  }
  const extension =
    /extension "([^"]+)" is not available/.exec(reason)?.[1] ??
    /extension control file "[^"]*\/([^/"]+)\.control"/.exec(reason)?.[1];
  if (extension) {
    return fail(
      `Extension ${extension} is not installed on the target server. Restore into a server that has it (for Supabase, the supabase/postgres image of the same major version), or use profile \`supabase\`, which skips platform-only extensions with a warning.`,
    );
  }
  if (/violates foreign key constraint/.test(reason)) {
    return fail(
      'The backup holds rows whose referenced row is missing (FK orphans), so the constraint cannot be added. Find them in the source with a NOT EXISTS query and fix the data; this backup cannot be restored as it is.',
    );
  }
  if (/(schema|function|type|relation) .* does not exist/.test(reason)) {
    return fail(
      'The backup refers to an object it does not contain: usually one a platform schema or an extension provides. Restore into a server that has it (supabase/postgres for Supabase), or use profile `supabase`.',
    );
  }
  if (/already exists/.test(reason)) {
    return fail('The database restored into was not empty; restore into a fresh database.');
  }
  if (/permission denied|must be (superuser|owner)|must be member of role/.test(reason)) {
    return fail(
      'The target-url user lacks a privilege the restore needs. Use a superuser of the target server (a `services: postgres` container gives you one).',
    );
  }
  if (/No space left on device|could not extend file/.test(reason)) {
    return fail('The target server ran out of disk space; give it more room.');
  }
  return fail(
    'Nothing of the backup can be trusted to restore until this is fixed; the message above names the cause.',
  );
}

/** `CREATE POLICY "p" ON public.t …` → `policy "p" on public.t`; the first words otherwise. */
function objectOfCommand(command: string): string {
  if (!command) return '';
  const policy = /^CREATE POLICY (".+?"|\S+) ON (\S+)/i.exec(command);
  if (policy) return `policy ${policy[1]} on ${policy[2]}`;
  const grant = /^(GRANT|REVOKE) .*? ON (.+?) (TO|FROM) /i.exec(command);
  if (grant) return `${grant[1]!.toUpperCase()} on ${grant[2]}`;
  const owner = /^ALTER (.+?) OWNER TO /i.exec(command);
  if (owner) return `owner of ${owner[1]}`;
  const made =
    /^(?:CREATE|ALTER|DROP|COMMENT ON) (?:OR REPLACE |UNIQUE |UNLOGGED )*((?:MATERIALIZED |FOREIGN )?\w+) (?:IF (?:NOT )?EXISTS )?(?:ONLY )?([^\s(]+)/i.exec(
      command,
    );
  if (made) return `${made[1]!.toLowerCase()} ${made[2]}`;
  return command.split(' ').slice(0, 6).join(' ');
}
