import { buffer } from 'node:stream/consumers';
import type { Readable } from 'node:stream';
import { isLifeboatError, LifeboatError } from '../errors.js';
import { latestBackupId, listBackupIds, type BackupStore } from '../stores/store.js';
import { checkManifestKeys, manifestKey, parseManifestKey, parseObjectKey } from './store-keys.js';
import { parseManifest, type Manifest } from './manifest.js';

/**
 * Reads and parses one manifest, and refuses it unless the set name, backup id and every
 * archive key it records are the ones derived from the key it was read under.
 */
export async function readManifest(store: BackupStore, name: string, backupId: string): Promise<Manifest> {
  return (await readStoredManifest(store, name, backupId)).manifest;
}

/** A manifest as stored: its exact bytes and key (a copy carries them unchanged), and parsed. */
export interface StoredManifest {
  manifest: Manifest;
  bytes: Buffer;
  key: string;
}

/** As readManifest, keeping the bytes and the key the manifest was read under. */
export async function readStoredManifest(
  store: BackupStore,
  name: string,
  backupId: string,
): Promise<StoredManifest> {
  let key = manifestKey(name, backupId);
  let generation = 1;
  let body: Readable;
  try {
    body = await store.get(key);
  } catch (error) {
    // A rekeyed backup's manifest has a key generation of its own (rekey/): the newest one
    // present is complete, because a rekey writes its archives before its manifest.
    const newest = isLifeboatError(error, 'not-found')
      ? await newestGeneration(store, name, backupId).catch(() => 1)
      : 1;
    if (newest === 1) throw error;
    generation = newest;
    key = manifestKey(name, backupId, generation);
    body = await store.get(key);
  }
  return parseStored(await buffer(body), key, { name, backupId, generation });
}

/** The manifest of one key generation of a backup (rekey/ reads each one it swaps). */
export async function readManifestAt(
  store: BackupStore,
  name: string,
  backupId: string,
  generation: number,
): Promise<StoredManifest> {
  const key = manifestKey(name, backupId, generation);
  return parseStored(await buffer(await store.get(key)), key, { name, backupId, generation });
}

function parseStored(
  bytes: Buffer,
  key: string,
  expected: { name: string; backupId: string; generation: number },
): StoredManifest {
  const manifest = parseManifest(bytes, key);
  checkManifestKeys(manifest, key, expected);
  return { manifest, bytes, key };
}

/** The key generations of a backup's manifests present in the store, lowest first. */
export async function manifestGenerations(
  store: BackupStore,
  name: string,
  backupId: string,
): Promise<number[]> {
  const keys = await store.list(`${name}/${backupId}.`);
  const found = keys
    .map((k) => parseManifestKey(name, k))
    .filter((m) => m?.backupId === backupId)
    .map((m) => m!.generation);
  return [...new Set(found)].sort((a, b) => a - b);
}

/**
 * Every object key of one backup, of every key generation, manifests first: what deleting
 * the whole backup must remove, a rekey's leftovers included. Listed, then each key parsed
 * back to this set and id, so nothing outside the backup is ever named.
 */
export async function allObjectKeys(store: BackupStore, name: string, backupId: string): Promise<string[]> {
  const found = (await store.list(`${name}/${backupId}.`))
    .map((key) => ({ key, parsed: parseObjectKey(name, key) }))
    .filter(({ parsed }) => parsed?.backupId === backupId);
  return found
    .sort((a, b) => Number(a.parsed!.kind === 'archive') - Number(b.parsed!.kind === 'archive'))
    .map(({ key }) => key);
}

async function newestGeneration(store: BackupStore, name: string, backupId: string): Promise<number> {
  return (await manifestGenerations(store, name, backupId)).at(-1) ?? 1;
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
