import { LifeboatError } from '../errors.js';
import type { ResolvedProfile } from './profile.js';
import { describeEntry, parseErrorEntry } from './toc.js';

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
