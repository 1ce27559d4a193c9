import { levelAtLeast } from '../archive/manifest.js';
import type { BackupSettings, RestoreSettings, StorageSettings } from '../settings/settings.js';
import { describeError, isLifeboatError, LifeboatError } from '../errors.js';
import type { Log, Reporter } from '../log.js';
import { describeTarget } from '../postgres/connection.js';
import { DEFAULT_MIGRATIONS_TABLE } from '../postgres/inspect.js';
import { runBackup, type BackupResult } from '../backup/index.js';
import type { BackupStore } from '../stores/store.js';
import { safetyBackupName } from './plan.js';

/**
 * The backup of the target taken just before a full restore replaces it: an ordinary
 * backup set named `<name>-pre-restore` in the same store, encrypted to the same keys, and
 * read back whole before the restore may start. It is the way back from a wrong restore.
 */
export async function takeSafetyBackup(
  settings: RestoreSettings,
  ctx: {
    log: Log;
    store: BackupStore;
    migrationsTable?: string;
    /** The Storage buckets about to change: their current objects go into the safety backup too. */
    storage?: StorageSettings;
    env?: NodeJS.ProcessEnv;
  },
): Promise<BackupResult> {
  const backup: BackupSettings = {
    mode: 'backup',
    store: settings.store,
    name: safetyBackupName(settings.name),
    // The identity's recipient was derived when the settings were parsed, so the safety
    // backup is readable by the same identity that reads the backup being restored.
    keys: settings.keys,
    pgBinDir: settings.pgBinDir,
    githubToken: settings.githubToken,
    database: settings.target,
    migrationsTable: ctx.migrationsTable ?? DEFAULT_MIGRATIONS_TABLE,
    // A safety backup must be quick: it stands between the operator and the restore.
    fingerprints: false,
    dumpJobs: 1,
    // Kept until someone removes it: no retention of its own, never pinned or locked.
    retention: {},
    orphanGraceSeconds: 86_400,
    pin: false,
    storage: ctx.storage,
  };
  // Its outputs and summary would overwrite the restore's own; the restore reports it.
  const quiet: Reporter = { output: () => undefined, summary: async () => undefined };
  const where = describeTarget(settings.target);
  let result: BackupResult;
  try {
    result = await runBackup(backup, { log: ctx.log, reporter: quiet, store: ctx.store, env: ctx.env });
  } catch (error) {
    const keyProblem = isLifeboatError(error, 'crypto') || isLifeboatError(error, 'key');
    throw new LifeboatError(
      isLifeboatError(error) ? error.code : 'internal',
      `Could not take the safety backup of ${where}, so the restore did not start; nothing was changed. ${describeError(error)}`,
      {
        hint: keyProblem
          ? 'The safety backup is encrypted to encryption-recipient and read back with encryption-identity: the recipient must be the public key of that identity (or leave encryption-recipient out, and it is derived from the identity).'
          : 'The safety backup is an ordinary backup of the target: the target-url user must be able to read every row, and the store must be writable.',
        cause: error,
      },
    );
  }
  const level = result.manifest.verification.level;
  if (!levelAtLeast(level, 'readable')) {
    throw new LifeboatError(
      'verify',
      `The safety backup ${result.manifest.backupId} was verified only to level "${level}", so the restore did not start; nothing was changed.`,
      {
        hint: 'Pass encryption-identity (or encryption-passphrase) so the safety backup can be read back in full.',
      },
    );
  }
  return result;
}
