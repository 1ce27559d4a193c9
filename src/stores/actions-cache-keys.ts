import { randomBytes } from 'node:crypto';
import { isBackupId } from '../archive/backup-id.js';
import { LifeboatError } from '../errors.js';
import { ARCHIVE_SUFFIX, MANIFEST_SUFFIX } from '../archive/store-keys.js';

/**
 * Store keys ↔ GitHub Actions cache keys. Pure; no I/O.
 *
 * Cache entries are immutable, so every write of a store key creates a new entry and a
 * read takes the newest one. The service looks a key up by exact match, then by prefix,
 * then each restore key by prefix, always preferring the newest entry, so the layout is
 * chosen so that each prefix matches exactly the entries it is meant to:
 *
 *   lifeboat/<name>/manifest/<id>.json             manifest, first write: one entry per backup
 *   lifeboat/<name>/manifest-rev/<id>/<stamp>      manifest, later revisions (drills raising the level)
 *   lifeboat/<name>/archive/<id>/<stamp>-s<bytes>  archive
 *   lifeboat/=/<key>/<stamp>                       any other store key
 *
 * First writes of manifests live apart from their revisions because "newest entry under
 * lifeboat/<name>/manifest/" must mean the newest backup; if a drill's rewrite of an old
 * manifest landed there it would win. `<name>` and `<key>` are URI-component encoded, so
 * they hold no '/' (a name cannot reach into another name's entries) and no ',' (the
 * client forbids commas); '=' is always encoded, so `=` cannot be a name. Backup ids have
 * a fixed shape, and `.json` and the trailing '/' end every prefix, so no entry of one
 * key is ever a prefix match for another key.
 *
 * Every write gets a fresh `<stamp>` (time + random) rather than a counter: an upload that
 * fails after reservation leaves its key reserved, and a counter would reuse it forever.
 * Revisions end in `-s<bytes>`, the size of the object the entry holds: the cache service
 * tells an entry's size only as its compressed tarball (and only through the REST API),
 * so a lookup that returns the matched key is the one way to learn an object's size
 * without downloading it (the gate's check). Entries are immutable, so the size written
 * into the key cannot drift from the bytes.
 */
export const CACHE_KEY_ROOT = 'lifeboat/';
const OTHER = '=';
const MAX_KEY_LENGTH = 512;
const STAMP_LENGTH = '20261124T000312345Z-9f2c'.length + '-s'.length + 15;

export interface CacheSlot {
  /** Every entry of this store key, except a manifest's first write, starts with this. */
  readonly revisionPrefix: string;
  /** A manifest's first write, kept outside `revisionPrefix` (see above). */
  readonly firstKey?: string;
}

interface BackupKey {
  name: string;
  id: string;
  kind: 'archive' | 'manifest';
}

function parseBackupKey(storeKey: string): BackupKey | undefined {
  const kind = storeKey.endsWith(MANIFEST_SUFFIX)
    ? 'manifest'
    : storeKey.endsWith(ARCHIVE_SUFFIX)
      ? 'archive'
      : undefined;
  if (!kind) return undefined;
  const slash = storeKey.lastIndexOf('/');
  const name = storeKey.slice(0, slash);
  const id = storeKey.slice(slash + 1, -(kind === 'manifest' ? MANIFEST_SUFFIX : ARCHIVE_SUFFIX).length);
  return slash > 0 && isBackupId(id) ? { name, id, kind } : undefined;
}

function checked(cacheKey: string, storeKey: string): string {
  // Room for the longest stamp, so a key that fits today fits on every later write too.
  if (cacheKey.length + STAMP_LENGTH > MAX_KEY_LENGTH) {
    throw new LifeboatError('store', `The key ${storeKey} is too long for the GitHub Actions cache.`, {
      hint: `Cache keys are limited to ${MAX_KEY_LENGTH} characters; use a shorter backup name.`,
    });
  }
  return cacheKey;
}

export function slotFor(storeKey: string): CacheSlot {
  const backup = parseBackupKey(storeKey);
  if (!backup)
    return {
      revisionPrefix: checked(`${CACHE_KEY_ROOT}${OTHER}/${encodeURIComponent(storeKey)}/`, storeKey),
    };
  const base = `${CACHE_KEY_ROOT}${encodeURIComponent(backup.name)}`;
  if (backup.kind === 'archive')
    return { revisionPrefix: checked(`${base}/archive/${backup.id}/`, storeKey) };
  return {
    revisionPrefix: checked(`${base}/manifest-rev/${backup.id}/`, storeKey),
    firstKey: `${base}/manifest/${backup.id}.json`,
  };
}

/**
 * The cache key a write should create, given whether the store key already has an entry,
 * and the size of the object it holds (see above; a manifest's first write has no room).
 */
export function writeKey(
  slot: CacheSlot,
  exists: boolean,
  stamp: string = newStamp(),
  sizeBytes?: number,
): string {
  if (!exists && slot.firstKey) return slot.firstKey;
  return `${slot.revisionPrefix}${stamp}${sizeBytes === undefined ? '' : `-s${sizeBytes}`}`;
}

/** The object size an entry of this slot recorded in its key; undefined when it has none. */
export function sizeOf(slot: CacheSlot, cacheKey: string): number | undefined {
  if (!cacheKey.startsWith(slot.revisionPrefix)) return undefined;
  const size = /-s(\d{1,15})$/.exec(cacheKey.slice(slot.revisionPrefix.length))?.[1];
  return size === undefined ? undefined : Number(size);
}

/** Whether an entry the service matched really belongs to this slot. */
export function belongsTo(slot: CacheSlot, cacheKey: string): boolean {
  return cacheKey === slot.firstKey || cacheKey.startsWith(slot.revisionPrefix);
}

/** The prefix under which the newest entry is the newest backup of a set. */
export function latestManifestPrefix(name: string): string {
  return `${CACHE_KEY_ROOT}${encodeURIComponent(name)}/manifest/`;
}

/** The store key a cache entry stands for, or undefined for entries that are not ours. */
export function storeKeyOf(cacheKey: string): string | undefined {
  if (!cacheKey.startsWith(CACHE_KEY_ROOT)) return undefined;
  const [head, kind, rest] = cacheKey.slice(CACHE_KEY_ROOT.length).split('/');
  if (head === undefined || kind === undefined || rest === undefined) return undefined;
  try {
    if (head === OTHER) return decodeURIComponent(kind);
    const name = decodeURIComponent(head);
    if (kind === 'archive' && isBackupId(rest)) return `${name}/${rest}${ARCHIVE_SUFFIX}`;
    if (kind === 'manifest-rev' && isBackupId(rest)) return `${name}/${rest}${MANIFEST_SUFFIX}`;
    const id = rest.slice(0, -'.json'.length);
    if (kind === 'manifest' && rest.endsWith('.json') && isBackupId(id))
      return `${name}/${id}${MANIFEST_SUFFIX}`;
  } catch {
    // A malformed %-sequence: not a key this store wrote.
  }
  return undefined;
}

/** The backup id of a first-write manifest entry of `name`, from a latest lookup. */
export function backupIdOf(cacheKey: string, name: string): string | undefined {
  const prefix = latestManifestPrefix(name);
  if (!cacheKey.startsWith(prefix) || !cacheKey.endsWith('.json')) return undefined;
  const id = cacheKey.slice(prefix.length, -'.json'.length);
  return isBackupId(id) ? id : undefined;
}

/** `20261124T000312345Z-9f2c`: when, plus randomness so two writers never share a key. */
export function newStamp(now: Date = new Date(), random: string = randomBytes(2).toString('hex')): string {
  return `${now.toISOString().replace(/[-:.]/g, '')}-${random}`;
}
