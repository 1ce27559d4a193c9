import type pg from 'pg';
import type { Manifest } from '../archive/manifest.js';
import type { DecryptKeys } from '../archive/age/index.js';
import type { RestoreSettings } from '../settings/settings.js';
import { errorsOf, type Check } from '../postgres/verify/checks.js';
import { replaySettings } from '../postgres/throwaway-database.js';
import { verifyRestore } from '../postgres/verify/restored.js';
import { LifeboatError } from '../errors.js';
import type { Log } from '../log.js';
import type { CatalogSnapshot } from '../postgres/catalog.js';
import { DEFAULT_MIGRATIONS_TABLE } from '../postgres/inspect.js';
import { detectProfile, type Preparation } from '../postgres/profile.js';
import type { BackupStore } from '../stores/store.js';
import { createPrivateTempDir } from '../tempfiles.js';
import { keptAsWarnings } from './extras.js';
import type { RestorePlan } from './plan.js';
import { openForReplace, planReplace, replaceContents } from './replace.js';
import { emptyRollback, rollbackInstructions, withRollback } from './rollback.js';
import { takeSafetyBackup } from './safety.js';

export interface FullRestoreInput {
  settings: RestoreSettings;
  manifest: Manifest;
  expected: CatalogSnapshot;
  live: CatalogSnapshot;
  plan: RestorePlan;
  keys: DecryptKeys;
  /** An open connection to the target. */
  client: pg.Client;
  store: BackupStore;
  log: Log;
  env: NodeJS.ProcessEnv;
}

/** Filled in as the restore goes, so a failure can still be reported with what it reached. */
export interface FullProgress {
  safetyBackupId?: string;
  rollback?: string;
  checks: Check[];
}

/**
 * A full restore over the target. Everything that can refuse without changing anything
 * comes first (tools, the archive's hash and decryption, roles); then the safety backup;
 * then the restore in one transaction; then the comparison with what the backup recorded.
 * From the safety backup on, every error carries the instruction to roll back.
 */
export async function restoreFull(input: FullRestoreInput, progress: FullProgress): Promise<void> {
  const { settings, manifest, expected, client, log } = input;
  const temp = await createPrivateTempDir('lifeboat-restore-', input.env);
  try {
    // Every archive checked in a first streamed pass before anything changes; the restore
    // streams them again: no plaintext of the dump on disk.
    const { tool, psql, archive, parts } = await openForReplace({
      pgBinDir: settings.pgBinDir,
      env: input.env,
      manifest,
      store: input.store,
      keys: input.keys,
      log,
    });
    const { profile, reason } = detectProfile(expected, settings.profile);
    log.info(`Profile ${profile}: ${reason}.`);
    const replace = await planReplace({
      client,
      tool,
      archive,
      parts,
      expected,
      profile,
      drops: input.plan.drops,
      logins: settings.restoreRoleLogins,
    });
    if (replace.kept.length) log.info(`Keeping what the target already has: ${replace.kept.join(', ')}.`);

    const migrationsTable = manifest.migration?.table ?? DEFAULT_MIGRATIONS_TABLE;
    if (input.plan.safetyBackupName) {
      log.info(`Taking a safety backup of the target as "${input.plan.safetyBackupName}".`);
      const safety = await takeSafetyBackup(settings, { log, store: input.store, migrationsTable });
      progress.safetyBackupId = safety.manifest.backupId;
      progress.rollback = rollbackInstructions({
        store: settings.store,
        safetyName: safety.manifest.name,
        safetyBackupId: safety.manifest.backupId,
        database: settings.target.database,
        confirm: input.plan.confirm.needed,
      });
      log.info(
        `Safety backup ${safety.manifest.backupId} stored and verified (level ${safety.manifest.verification.level}).`,
      );
    } else {
      progress.rollback = emptyRollback(settings.target.database);
    }

    try {
      const target = settings.target;
      const listFile = temp.file('restore.list');
      await replaceContents(replace, { client, tool, psql, target, archive, parts, listFile, log });
      for (const phase of ['before', 'after'] as const) {
        await replaySettings(client, settings.target.database, expected.databaseSettings, phase, log);
      }
      log.info("Restored; comparing the result with the backup's catalog snapshot.");
      progress.checks = await verifyFull(input, replace.preparation, migrationsTable);
    } catch (error) {
      throw withRollback(error, progress.rollback!);
    }
  } finally {
    await temp.remove();
  }
}

/** The restored target against the backup's catalog, as a drill compares them; throws on any error. */
async function verifyFull(
  input: FullRestoreInput,
  prep: Preparation,
  migrationsTable: string,
): Promise<Check[]> {
  const { result } = await verifyRestore({
    target: input.settings.target,
    expected: input.expected,
    migrationsTable,
    sqlChecks: [],
    // A live server still serves the application: two connections, not one per core.
    jobs: 2,
    skippedExtensions: prep.skippedExtensions,
    prepared: { schemas: prep.schemas, functions: prep.functions },
  });
  const checks = keptAsWarnings(result.checks);
  const errors = errorsOf(checks);
  if (!errors.length) return checks;
  const first = errors.slice(0, 5).map((c) => c.message);
  throw new LifeboatError(
    'verify',
    `The restore finished, but the target differs from the backup in ${errors.length} ${errors.length === 1 ? 'way' : 'ways'}: ${first.join(' ')}${errors.length > 5 ? ' …' : ''}`,
    {
      hint: 'If the application wrote to the database during the restore, row counts move; stop it and compare again. Otherwise the backup did not restore as recorded.',
    },
  );
}
