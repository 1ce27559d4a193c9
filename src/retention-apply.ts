import { readAllManifests } from './archive/manifests.js';
import { backupIdTime } from './backup-id.js';
import type { Log } from './log.js';
import { planRetention, type Retention } from './retention.js';
import { storedArchives } from './archive/manifest.js';
import { manifestKey, type BackupStore } from './stores/store.js';

/**
 * Applies retention after a verified backup. The manifest goes first, so a backup that
 * is half deleted is never listed as one.
 */
export async function applyRetention(
  store: BackupStore,
  name: string,
  rule: Retention,
  justTaken: string,
  log: Log,
  options: { dryRun?: boolean } = {},
): Promise<string[]> {
  const { manifests } = await readAllManifests(store, name);
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
    await store.delete(manifestKey(name, id));
    for (const archive of storedArchives(manifest)) await store.delete(archive.key);
    log.info(`Retention deleted ${name}/${id}.`);
  }
  if (doomed.length === 0) log.info('Retention: nothing to delete.');
  return doomed;
}
