import { rm } from 'node:fs/promises';
import type pg from 'pg';
import type { Manifest } from '../archive/manifest.js';
import type { DecryptKeys } from '../archive/readback.js';
import type { RestoreSettings } from '../config.js';
import { errorsOf, type Check } from '../drill/checks.js';
import { replaySettings } from '../drill/database.js';
import { fetchDumps } from '../drill/fetch.js';
import { readTargetState } from '../drill/prepare.js';
import { commentOut, parseToc } from '../drill/toc.js';
import { verifyRestore } from '../drill/verify.js';
import { LifeboatError } from '../errors.js';
import type { Log } from '../log.js';
import type { CatalogSnapshot } from '../postgres/catalog.js';
import { DEFAULT_MIGRATIONS_TABLE } from '../postgres/inspect.js';
import { detectProfile, planPreparation, type Preparation } from '../postgres/profile.js';
import { findPgRestore, listArchive, requireRestrict } from '../postgres/restore.js';
import { createToolFinder } from '../postgres/tools.js';
import type { BackupStore } from '../stores/store.js';
import { createPrivateTempDir, writePrivateFile } from '../tempfiles.js';
import { runCleanRestore } from './clean-restore.js';
import { isUntouchedSchema, readClearSteps, refuseKeptDependents } from './clear.js';
import { keptAsWarnings } from './extras.js';
import type { RestorePlan } from './plan.js';
import { findPsql } from './psql-run.js';
import { emptyRollback, rollbackInstructions, withRollback } from './rollback.js';
import { takeSafetyBackup } from './safety.js';
import { keepExisting } from './toc-select.js';

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
    const finder = createToolFinder({ binDir: settings.pgBinDir, env: input.env });
    const tool = await findPgRestore(finder, manifest.source.pgDumpVersion);
    requireRestrict(tool);
    const psql = await findPsql(tool, finder);
    const dump = temp.file('backup.dump');
    const fetched = await fetchDumps({ store: input.store, manifest, keys: input.keys, file: dump, log });
    const parts = fetched.slice(1).map((f) => f.file);
    const listing = await listArchive(tool, dump);
    const toc = parseToc(listing);
    const { profile, reason } = detectProfile(expected, settings.profile);
    log.info(`Profile ${profile}: ${reason}.`);
    const state = await readTargetState(client);
    const prep = planPreparation(profile, expected, toc, state);
    if (prep.missingRoles.length) {
      throw new LifeboatError(
        'restore',
        `The backup needs roles the target server lacks: ${prep.missingRoles.join(', ')}. Nothing was changed.`,
        {
          hint: 'Create them on the target server (a dump never carries roles), or use profile `auto` or `supabase`.',
        },
      );
    }
    const keep = keepExisting(toc, {
      schemas: state.schemas,
      extensions: new Set(input.live.extensions.map((x) => x.name)),
    });
    if (keep.kept.length) log.info(`Keeping what the target already has: ${keep.kept.join(', ')}.`);
    // Every schema the target has is emptied and refilled, but those the backup lacks, which go whole.
    const schemaDrops = input.plan.drops.filter((d) => d.schema !== undefined);
    const goneSchemas = new Set(schemaDrops.map((d) => d.schema));
    const emptied = [...state.schemas].filter((s) => !isUntouchedSchema(s) && !goneSchemas.has(s)).sort();
    await refuseKeptDependents(client, emptied);
    const tocs = [
      toc,
      ...(await Promise.all(parts.map(async (file) => parseToc(await listArchive(tool, file))))),
    ];

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
      });
      log.info(
        `Safety backup ${safety.manifest.backupId} stored and verified (level ${safety.manifest.verification.level}).`,
      );
    } else {
      progress.rollback = emptyRollback(settings.target.database);
    }

    try {
      const listFile = temp.file('restore.list');
      await writePrivateFile(
        listFile,
        commentOut(listing, new Set([...keep.ids, ...prep.skipped.map((s) => s.id)])),
      );
      reportPreparation(prep, log);
      log.info(
        `Restoring ${manifest.backupId} over ${settings.target.database} (pg_restore ${tool.version}, one transaction${parts.length ? `, ${fetched.length} archives section by section` : ''}).`,
      );
      const clear = await readClearSteps(client, emptied);
      log.info(
        `Dropping ${clear.length} objects of schemas ${emptied.join(', ')}${schemaDrops.length ? ` and ${schemaDrops.length} schemas the backup lacks` : ''}, then recreating the backup's, in one transaction.`,
      );
      await runCleanRestore({
        tool,
        psql,
        drops: [...schemaDrops, ...clear],
        tocs,
        preparation: prep.steps.map((step) => step.sql),
        target: settings.target,
        file: dump,
        parts,
        listFile,
        profile: prep.profile,
        admin: client,
        log,
      });
      // The plaintext dump leaves the disk before the (slower) verification.
      await Promise.all(fetched.map((f) => rm(f.file, { force: true })));
      for (const phase of ['before', 'after'] as const) {
        await replaySettings(client, settings.target.database, expected.databaseSettings, phase, log);
      }
      log.info("Restored; comparing the result with the backup's catalog snapshot.");
      progress.checks = await verifyFull(input, prep, migrationsTable);
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

/** What the profile adds and leaves out, said before the restore that carries it out. */
function reportPreparation(prep: Preparation, log: Log): void {
  for (const step of prep.steps)
    log.info(`Creating ${step.creates} in the same transaction (profile ${prep.profile}).`);
  for (const s of prep.skipped) log.warning(`Skipped ${s.entry}: ${s.reason}.`);
}
