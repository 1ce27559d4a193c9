import { buffer } from 'node:stream/consumers';
import { LifeboatError } from '../errors.js';
import { latestBackupId, listBackupIds, type BackupStore } from '../stores/store.js';
import { checkManifestKeys, manifestKey } from './store-keys.js';
import { parseManifest, type Manifest } from './manifest.js';

/**
 * Reads and parses one manifest, and refuses it unless the set name, backup id and every
 * archive key it records are the ones derived from the key it was read under.
 */
export async function readManifest(store: BackupStore, name: string, backupId: string): Promise<Manifest> {
  const key = manifestKey(name, backupId);
  const bytes = await buffer(await store.get(key));
  const manifest = parseManifest(bytes, key);
  checkManifestKeys(manifest, key, { name, backupId });
  return manifest;
}

/** The manifest `latest` or a given id points at, with a clear error when there is none. */
export async function resolveManifest(store: BackupStore, name: string, backupId: string): Promise<Manifest> {
  const id = backupId === 'latest' ? await latestBackupId(store, name) : backupId;
  if (!id) {
    throw new LifeboatError('not-found', `The store ${store.location} holds no backup of "${name}".`, {
      hint: 'Run the backup workflow first (mode: backup), and check that store and name match it.',
    });
  }
  return readManifest(store, name, id);
}

/** Every readable manifest of a set, newest first; damaged ones are reported, not hidden. */
export async function readAllManifests(
  store: BackupStore,
  name: string,
): Promise<{ manifests: Manifest[]; damaged: { backupId: string; error: string }[] }> {
  const manifests: Manifest[] = [];
  const damaged: { backupId: string; error: string }[] = [];
  for (const id of await listBackupIds(store, name)) {
    try {
      manifests.push(await readManifest(store, name, id));
    } catch (error) {
      damaged.push({ backupId: id, error: (error as Error).message });
    }
  }
  return { manifests, damaged };
}
