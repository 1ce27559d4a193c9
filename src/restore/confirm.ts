import type { RestoreSettings } from '../settings/settings.js';
import { Inputs } from '../settings/constants.js';
import { LifeboatError } from '../errors.js';
import { describeTarget, type PgTarget } from '../postgres/connection.js';

export type Prompt = (question: string) => Promise<string>;

/**
 * The guard in front of every restore that writes: the person must type a value that names
 * the target uniquely. Every Supabase database is called `postgres`, so the database name
 * alone would let a confirmation meant for staging go through on production: for Supabase
 * the value is the project ref (from the direct host `db.<ref>.supabase.co`, or the pooler
 * user `postgres.<ref>`), for any other server `host:port/database` exactly as the plan
 * prints it. A `confirm` input is checked before anything connects to the target. At a terminal with no `confirm`, the person is asked once the plan has
 * been printed, so they type the name knowing what it will replace; either way nothing has
 * changed until it matches. A dry run changes nothing and needs no confirmation.
 *
 * Returns the accepted confirmation, or undefined when it is to be asked after the plan.
 */
export function confirmFromInput(settings: RestoreSettings, canAsk: boolean): string | undefined {
  if (settings.dryRun) return settings.confirm;
  if (!settings.confirm && canAsk) return undefined;
  checkConfirmation(settings, settings.confirm);
  return settings.confirm;
}

export async function askConfirmation(settings: RestoreSettings, prompt: Prompt): Promise<string> {
  const action = settings.tables.length ? 'restore tables into it' : 'restore over it';
  const needed = confirmationFor(settings.target);
  const what = supabaseRef(settings.target) ? 'the Supabase project ref' : 'the target';
  const given = (await prompt(`Type ${what} (${needed}) to ${action}: `)).trim();
  checkConfirmation(settings, given);
  return given;
}

/** Supabase's project ref, from the direct host or the pooler's `postgres.<ref>` user. */
export function supabaseRef(target: Pick<PgTarget, 'host' | 'user'>): string | undefined {
  const direct = /^db\.([a-z0-9]+)\.supabase\.co$/i.exec(target.host)?.[1];
  if (direct) return direct.toLowerCase();
  if (!/\.supabase\.(co|com)$/i.test(target.host)) return undefined;
  return /^[^.]+\.([a-z0-9]+)$/i.exec(target.user)?.[1]?.toLowerCase();
}

/** Pure: what `confirm` must be for this target. */
export function confirmationFor(target: PgTarget): string {
  return supabaseRef(target) ?? describeTarget(target);
}

/** Pure: throws unless `given` is exactly the value that names the target. */
export function checkConfirmation(settings: RestoreSettings, given: string): void {
  const needed = confirmationFor(settings.target);
  if (given === needed) return;
  const where = describeTarget(settings.target);
  const what = settings.restoreStorage
    ? `puts Storage objects back into the buckets of the project at ${where}`
    : settings.tables.length
      ? `restores ${settings.tables.length === 1 ? 'a table' : `${settings.tables.length} tables`} into a side schema of ${where}`
      : `replaces every object of the backup in ${where}`;
  const names = supabaseRef(settings.target)
    ? "the target's Supabase project ref"
    : 'the target, host:port/database,';
  const got = given
    ? `is "${given}", but it must name ${names} "${needed}"`
    : `is empty; it must name ${names} "${needed}"`;
  throw new LifeboatError(
    'confirm',
    `Refusing to restore: input \`${Inputs.Confirm}\` ${got}. This restore ${what}. Nothing was changed.`,
    {
      hint: `Set \`${Inputs.Confirm}: ${needed}\` in the workflow, or \`--${Inputs.Confirm} ${needed}\` on the command line. A dry run (\`${Inputs.DryRun}: true\`) prints this value and sets the output \`confirm-with\`.`,
    },
  );
}
