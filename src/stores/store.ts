import type { Readable } from 'node:stream';
import { parseManifestKey } from '../archive/store-keys.js';

/** Which store a run uses, as the input `store` names it. */
export type StoreSpec =
  { kind: 'actions-cache' } | { kind: 's3'; url: string } | { kind: 'local'; path: string };

/**
 * Where backup sets live. Keys are relative, '/'-separated, and derived in one place
 * (archive/store-keys.ts) from the set name, backup id and part number.
 * Implementations: local directory, S3-compatible, GitHub Actions cache.
 */
export interface BackupStore {
  /** Short description safe to print: never credentials. */
  readonly location: string;
  readonly kind: 'local' | 's3' | 'actions-cache';

  /**
   * Stores a stream under a key. Atomic: the key becomes visible only once every byte
   * is stored (temp file + rename, multipart complete, cache finalize). A failure leaves
   * nothing under the key and rejects. Never overwrites an existing key unless `overwrite`.
   */
  put(key: string, body: Readable, options?: { overwrite?: boolean }): Promise<void>;

  /** Streams a stored object. Rejects with LifeboatError code 'not-found' when absent. */
  get(key: string): Promise<Readable>;

  /** Every key starting with `prefix`, all pages, in no particular order. */
  list(prefix: string): Promise<string[]>;

  /**
   * The size of a stored object without reading its bytes (the gate checks every archive
   * this way: a stat, a HEAD, a cache lookup, never a download); undefined when absent.
   * Rejects when the store cannot answer, so that a check that could not run is never
   * taken for one that passed.
   */
  stat(key: string): Promise<StoredObject | undefined>;

  /** Removes a key; removing an absent key is not an error. */
  delete(key: string): Promise<void>;

  /** Releases connections, temp directories, servers. */
  close?(): Promise<void>;
}

export interface StoredObject {
  sizeBytes: number;
}

/** Backup ids of every manifest stored under `name`, newest first. */
export async function listBackupIds(store: BackupStore, name: string): Promise<string[]> {
  const keys = await store.list(`${name}/`);
  // Only what Lifeboat could have written: an id of another shape has no keys (store-keys.ts).
  // A backup midway through a rekey has two manifests (two key generations): one id.
  const ids = keys.map((k) => parseManifestKey(name, k)?.backupId).filter((id): id is string => !!id);
  return [...new Set(ids)].sort().reverse();
}

/**
 * A store that cannot list cheaply (the actions cache without a token) may still know
 * its newest backup by key prefix; it implements this to answer "latest".
 */
export interface LatestAware {
  latestBackupId(name: string): Promise<string | undefined>;
}

export async function latestBackupId(store: BackupStore, name: string): Promise<string | undefined> {
  const aware = store as Partial<LatestAware>;
  if (typeof aware.latestBackupId === 'function') return aware.latestBackupId(name);
  return (await listBackupIds(store, name))[0];
}

/**
 * A store whose objects expire when unread (the Actions cache evicts entries not accessed
 * for 7 days) tells when an object was last read; the watch warns before the eviction.
 */
export interface AccessAware {
  /** When the object was last read or written; undefined when absent or unknown. */
  lastAccessedAt(key: string): Promise<Date | undefined>;
}

export function isAccessAware(store: BackupStore): store is BackupStore & AccessAware {
  return typeof (store as Partial<AccessAware>).lastAccessedAt === 'function';
}
