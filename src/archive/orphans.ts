import { backupIdTime } from './backup-id.js';
import { MANIFEST_SUFFIX, parseSetKey } from './store-keys.js';
import { isIncompleteAware, isLockAware, type BackupStore } from '../stores/store.js';

/**
 * What a backup killed before its manifest was written leaves behind: a write that never
 * finished (a local temp file, an S3 multipart upload) or a whole archive, part or record
 * whose backup has no manifest. Only keys the set's own key functions derive are ever
 * considered (store-keys.ts), so a sweep cannot reach outside the set.
 */
export interface Orphan {
  key: string;
  backupId: string;
  /** For people: `temp file`, `multipart upload`, `archive without a manifest`, … */
  what: string;
  sizeBytes?: number;
  /** When the write began (its backup's id for a whole object, the store's clock for a write in flight). */
  since: Date;
  remove(): Promise<void>;
  /** Until when S3 Object Lock keeps a whole object, if it does; writes in flight are never locked. */
  lockedUntil?: () => Promise<Date | undefined>;
}

export async function findOrphans(store: BackupStore, name: string): Promise<Orphan[]> {
  const keys = await store.list(`${name}/`);
  const withManifest = new Set(
    keys.filter((k) => k.endsWith(MANIFEST_SUFFIX)).map((k) => parseSetKey(name, k)?.backupId),
  );
  const orphans: Orphan[] = [];
  for (const key of keys.sort()) {
    const parsed = parseSetKey(name, key);
    if (!parsed || parsed.kind === 'manifest' || withManifest.has(parsed.backupId)) continue;
    const since = backupIdTime(parsed.backupId)!;
    const stat = await store.stat(key);
    if (!stat) continue; // removed while we looked
    orphans.push({
      key,
      backupId: parsed.backupId,
      what: `${parsed.kind} without a manifest`,
      sizeBytes: stat.sizeBytes,
      since,
      remove: () => store.delete(key),
      ...(isLockAware(store) ? { lockedUntil: () => store.lockedUntil(key) } : {}),
    });
  }
  if (isIncompleteAware(store)) {
    for (const write of await store.listIncomplete(`${name}/`)) {
      const parsed = parseSetKey(name, write.key);
      if (!parsed) continue;
      orphans.push({
        key: write.key,
        backupId: parsed.backupId,
        what: write.what,
        sizeBytes: write.sizeBytes,
        since: write.startedAt,
        remove: () => store.removeIncomplete(write),
      });
    }
  }
  return orphans;
}
