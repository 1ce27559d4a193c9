import type { RestoreSettings } from '../config.js';
import { Inputs } from '../constants.js';
import { LifeboatError } from '../errors.js';
import { describeTarget } from '../postgres/connection.js';

export type Prompt = (question: string) => Promise<string>;

/**
 * The guard in front of every restore that writes: the person must type the name of the
 * database they are about to change. A `confirm` input is checked before anything connects
 * to the target. At a terminal with no `confirm`, the person is asked once the plan has
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
  const given = (await prompt(`Type the database name (${settings.target.database}) to ${action}: `)).trim();
  checkConfirmation(settings, given);
  return given;
}

/** Pure: throws unless `given` is exactly the target database's name. */
export function checkConfirmation(settings: RestoreSettings, given: string): void {
  const needed = settings.target.database;
  if (given === needed) return;
  const where = describeTarget(settings.target);
  const what = settings.tables.length
    ? `restores ${settings.tables.length === 1 ? 'a table' : `${settings.tables.length} tables`} into a side schema of ${where}`
    : `replaces every object of the backup in ${where}`;
  const got = given
    ? `is "${given}", but the target database is "${needed}"`
    : `is empty; it must be the target database's name, "${needed}"`;
  throw new LifeboatError(
    'confirm',
    `Refusing to restore: input \`${Inputs.Confirm}\` ${got}. This restore ${what}. Nothing was changed.`,
    {
      hint: `Type the name of the database you restore into: \`${Inputs.Confirm}: ${needed}\` in the workflow, or \`--${Inputs.Confirm} ${needed}\` on the command line. Run with \`${Inputs.DryRun}: true\` first to see what would change.`,
    },
  );
}
