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

/** A write that began and never finished: a local temp file, an S3 multipart upload. */
export interface IncompleteWrite {
  /** The key the write was for. */
  key: string;
  /** What it is, for people: `temp file`, `multipart upload`. */
  what: string;
  /** Bytes it holds so far; undefined when the store cannot tell. */
  sizeBytes?: number;
  startedAt: Date;
  /** The store's own handle on it (a temp file's name, an upload id); never shown as a key. */
  ref: string;
}

/**
 * A store where an interrupted write leaves something behind that `list` does not show
 * implements this, so that orphans can be listed and swept. The Actions cache does not:
 * a reserved entry that was never finalized is invisible to its API and expires by itself.
 */
export interface IncompleteAware {
  /** Incomplete writes for keys starting with `prefix`. */
  listIncomplete(prefix: string): Promise<IncompleteWrite[]>;
  /** Removes one (removing one already gone is not an error). */
  removeIncomplete(write: IncompleteWrite): Promise<void>;
}

export function isIncompleteAware(store: BackupStore): store is BackupStore & IncompleteAware {
  return typeof (store as Partial<IncompleteAware>).listIncomplete === 'function';
}

/** S3 Object Lock: the retain-until date every object put from now on carries. */
export interface ObjectLock {
  mode: 'governance' | 'compliance';
  days: number;
}

/** A store that can lock objects against deletion (S3 buckets with Object Lock enabled). */
export interface LockAware {
  /**
   * Checks the bucket has Object Lock enabled (before any dump starts) and puts every later
   * object with the retain-until date; rejects with a clear error when it cannot.
   */
  useObjectLock(lock: ObjectLock): Promise<void>;
  /** Until when an object is locked against deletion; undefined when it is not (or absent). */
  lockedUntil(key: string): Promise<Date | undefined>;
}

export function isLockAware(store: BackupStore): store is BackupStore & LockAware {
  return typeof (store as Partial<LockAware>).useObjectLock === 'function';
}
