import type { Readable } from 'node:stream';

/**
 * Where backup sets live. Keys are relative, '/'-separated:
 *   <name>/<backup-id>.dump.zst.age     the archive
 *   <name>/<backup-id>.part-K.dump.zst.age  part K (2…N) of a parallel backup's data
 *   <name>/<backup-id>.manifest.json    the manifest, written last
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
   * Whether a key is stored, without reading it (the gate checks an archive is there
   * without downloading it). Stores that cannot ask cheaply leave it out; see `keyExists`.
   */
  exists?(key: string): Promise<boolean>;

  /** Removes a key; removing an absent key is not an error. */
  delete(key: string): Promise<void>;

  /** Releases connections, temp directories, servers. */
  close?(): Promise<void>;
}

export const ARCHIVE_SUFFIX = '.dump.zst.age';
export const MANIFEST_SUFFIX = '.manifest.json';

export function archiveKey(name: string, backupId: string): string {
  return `${name}/${backupId}${ARCHIVE_SUFFIX}`;
}

/** Part K (2…N) of a backup dumped in parallel; part 1 is the archive itself. */
export function partKey(name: string, backupId: string, part: number): string {
  return `${name}/${backupId}.part-${part}${ARCHIVE_SUFFIX}`;
}

export function manifestKey(name: string, backupId: string): string {
  return `${name}/${backupId}${MANIFEST_SUFFIX}`;
}

/** Backup ids of every manifest stored under `name`, newest first. */
export async function listBackupIds(store: BackupStore, name: string): Promise<string[]> {
  const keys = await store.list(`${name}/`);
  return keys
    .filter((k) => k.endsWith(MANIFEST_SUFFIX))
    .map((k) => k.slice(name.length + 1, -MANIFEST_SUFFIX.length))
    .filter((id) => !id.includes('/'))
    .sort()
    .reverse();
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

/** Asks the store directly when it can, else looks for the key among its siblings. */
export async function keyExists(store: BackupStore, key: string): Promise<boolean> {
  if (typeof store.exists === 'function') return store.exists(key);
  const dir = key.includes('/') ? key.slice(0, key.lastIndexOf('/') + 1) : '';
  return (await store.list(dir)).includes(key);
}
