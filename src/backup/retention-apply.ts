import { allObjectKeys, readAllManifests } from '../archive/manifests.js';
import { backupIdTime } from '../archive/backup-id.js';
import { readPins } from '../archive/pins.js';
import type { Log } from '../log.js';
import { doomedBy, hasRules, planRetention, type RetentionRules } from './retention.js';
import { storedArchives } from '../archive/manifest.js';
import { backupKeys, drillRecordKey, generationOf, manifestKey } from '../archive/store-keys.js';
import { isLockAware, type BackupStore } from '../stores/store.js';
import { sweepOrphans } from './orphan-sweep.js';
import { renderPlanLines, type RetentionOutcome } from './retention-summary.js';

export type { RetentionOutcome };

export interface RetentionOptions {
  rules: RetentionRules;
  /** Orphans younger than this are never touched. */
  orphanGraceSeconds: number;
  dryRun?: boolean;
  now?: Date;
  /**
   * The backup a run just took: retention deletes nothing unless it is among the set's
   * backups (so a failed backup can never trigger deletion).
   */
  justTaken?: string;
}

/**
 * Applies one store's retention: plans it (retention.ts), deletes what no rule keeps, and
 * sweeps orphans past the grace period. The manifest goes first, so a backup that is half
 * deleted is never listed as one (and what is left of it is an orphan the next sweep
 * removes). Every key deleted is derived from the set name and the backup id (a manifest
 * says only how many parts there are), so no manifest can steer a delete outside the set;
 * a manifest that was refused is left alone and named.
 */
export async function applyRetention(
  store: BackupStore,
  name: string,
  options: RetentionOptions,
  log: Log,
): Promise<RetentionOutcome> {
  const now = options.now ?? new Date();
  const dryRun = Boolean(options.dryRun);
  const { manifests, damaged } = await readAllManifests(store, name);
  for (const d of damaged) log.warning(`Retention leaves ${name}/${d.backupId} alone: ${d.error}`);
  const pins = await readPins(store, name);
  const plan = planRetention(
    manifests.map((m) => ({
      backupId: m.backupId,
      createdAt: backupIdTime(m.backupId) ?? new Date(m.createdAt),
      verified: m.verification.level !== 'stored',
    })),
    new Set(pins.keys()),
    options.rules,
    now,
  );
  const outcome: RetentionOutcome = { name, plan, deleted: [], locked: [], orphans: [], dryRun };
  const applies =
    hasRules(options.rules) &&
    (options.justTaken === undefined || manifests.some((m) => m.backupId === options.justTaken));
  const doomed = applies ? doomedBy(plan) : [];
  const lockedUntil = async (id: string) => {
    const manifest = manifests.find((m) => m.backupId === id);
    const key = manifestKey(name, id, manifest ? generationOf(manifest) : 1);
    return isLockAware(store) ? store.lockedUntil(key) : undefined;
  };
  for (const id of doomed) {
    const until = await lockedUntil(id);
    if (until) {
      outcome.locked.push({ backupId: id, until });
      continue;
    }
    outcome.deleted.push(id);
    if (dryRun) {
      log.info(`Retention would delete ${name}/${id}.`);
      continue;
    }
    const manifest = manifests.find((m) => m.backupId === id)!;
    const keys = backupKeys(name, id, storedArchives(manifest).length, {
      storage: Boolean(manifest.storage),
      generation: generationOf(manifest),
    });
    for (const key of keys) await store.delete(key);
    // What an interrupted rekey left of another key generation goes too (rekey/).
    for (const key of await allObjectKeys(store, name, id)) await store.delete(key);
    // The drill record goes with its backup (deleting an absent one is no error).
    await store.delete(drillRecordKey(name, id));
    log.info(`Retention deleted ${name}/${id}.`);
  }
  if (applies && doomed.length === 0) log.info('Retention: nothing to delete.');
  for (const line of renderPlanLines(outcome, hasRules(options.rules))) log.info(line);
  outcome.orphans = (
    await sweepOrphans(store, name, options.orphanGraceSeconds, log, { dryRun, now })
  ).removed;
  return outcome;
}
