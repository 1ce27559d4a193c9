import { Inputs, type Mode } from './constants.js';

type InputName = (typeof Inputs)[keyof typeof Inputs];

/**
 * Every input's default, in one table, as the text a person would type. The settings apply
 * them; test/unit/defaults.test.ts holds action.yml, the CLI help and the reusable workflows
 * to the same values, so a default changed here cannot silently differ there.
 * An input missing here has no default: empty means "not given".
 */
export const Defaults = {
  [Inputs.Store]: 'actions-cache',
  [Inputs.Name]: 'production',
  [Inputs.OrphanGrace]: '24h',
  [Inputs.Pin]: 'false',
  [Inputs.ObjectLockMode]: 'governance',
  [Inputs.VerifyContent]: 'false',
  [Inputs.DumpJobs]: '1',
  [Inputs.Require]: 'readable',
  [Inputs.MigrationsTable]: 'supabase_migrations.schema_migrations',
  [Inputs.MigrationsDir]: 'supabase/migrations',
  [Inputs.FailOnStale]: 'true',
  [Inputs.BackupId]: 'latest',
  [Inputs.Profile]: 'auto',
  [Inputs.KeepDatabase]: 'false',
  [Inputs.DryRun]: 'false',
  [Inputs.DrillMaxAge]: '35d',
  [Inputs.FailOnProblem]: 'true',
  [Inputs.NotifyOn]: 'failure',
  [Inputs.NotifyFormat]: 'auto',
  [Inputs.RestoreRoleLogins]: 'false',
  [Inputs.StorageRegion]: 'us-east-1',
  [Inputs.RestoreStorage]: 'false',
  [Inputs.StorageDeleteExtra]: 'false',
  [Inputs.MaskConfig]: '.github/lifeboat-mask.yml',
} as const satisfies Partial<Record<InputName, string>>;

/**
 * Defaults that differ by mode. action.yml has one default per input, so it declares none
 * for these and its description states each mode's; the settings apply them.
 * The watch allows a nightly backup two hours of lateness before it speaks up.
 */
export const ModeDefaults: Partial<Record<Mode, Partial<Record<InputName, string>>>> = {
  gate: { [Inputs.MaxAge]: '24h' },
  watch: { [Inputs.MaxAge]: '26h' },
};

/** The CLI's store when none is given: a directory beside the caller, not a cache it cannot reach. */
export const CLI_DEFAULT_STORE = './backups';

/** The default of one input (in `mode`, where it differs by mode), '' when it has none. */
export function defaultOf(name: string, mode?: Mode): string {
  const byMode = mode ? (ModeDefaults[mode] as Partial<Record<string, string>> | undefined) : undefined;
  return byMode?.[name] ?? (Defaults as Partial<Record<string, string>>)[name] ?? '';
}
