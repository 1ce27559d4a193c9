import { allObjectKeys, readAllManifests } from '../archive/manifests.js';
import { backupIdTime } from '../archive/backup-id.js';
import type { Log } from '../log.js';
import type { Retention } from '../settings/keep.js';
import { planRetention } from './retention.js';
import { storedArchives } from '../archive/manifest.js';
import { backupKeys, drillRecordKey, generationOf } from '../archive/store-keys.js';
import type { BackupStore } from '../stores/store.js';

/**
 * Applies retention after a verified backup. The manifest goes first, so a backup that
 * is half deleted is never listed as one. Every key deleted is derived from the set name
 * and the backup id (a manifest says only how many parts there are), so no manifest can
 * steer a delete outside the set; a manifest that was refused is left alone and named.
 */
export async function applyRetention(
  store: BackupStore,
  name: string,
  rule: Retention,
  justTaken: string,
  log: Log,
  options: { dryRun?: boolean } = {},
): Promise<string[]> {
  const { manifests, damaged } = await readAllManifests(store, name);
  for (const d of damaged) log.warning(`Retention leaves ${name}/${d.backupId} alone: ${d.error}`);
  const doomed = planRetention(
    manifests.map((m) => ({
      backupId: m.backupId,
      createdAt: backupIdTime(m.backupId) ?? new Date(m.createdAt),
      verified: m.verification.level !== 'stored',
    })),
    rule,
    justTaken,
  );
  for (const id of doomed) {
    if (options.dryRun) {
      log.info(`Retention would delete ${name}/${id}.`);
      continue;
    }
    const manifest = manifests.find((m) => m.backupId === id)!;
    for (const key of backupKeys(name, id, storedArchives(manifest).length, generationOf(manifest)))
      await store.delete(key);
    // What an interrupted rekey left of another key generation goes too (rekey/).
    for (const key of await allObjectKeys(store, name, id)) await store.delete(key);
    // The drill record goes with its backup (deleting an absent one is no error).
    await store.delete(drillRecordKey(name, id));
    log.info(`Retention deleted ${name}/${id}.`);
  }
  if (doomed.length === 0) log.info('Retention: nothing to delete.');
  return doomed;
}
