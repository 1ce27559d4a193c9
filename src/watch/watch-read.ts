import { listDrillRecordIds, readDrillRecord, type StoredDrillRecord } from '../archive/drill-record.js';
import { storedArchives, type Manifest } from '../archive/manifest.js';
import { readManifest } from '../archive/manifests.js';
import { archiveKeyOf, generationOf } from '../archive/store-keys.js';
import { describeError, isLifeboatError } from '../errors.js';
import type { VerificationLevel } from '../settings/constants.js';
import { isAccessAware, latestBackupId, listBackupIds, type BackupStore } from '../stores/store.js';

/**
 * What the watch reads about one set, each read turned into data (never a throw), so one
 * unreachable set or damaged manifest is a reported problem and the other sets still get
 * checked. Only manifests and drill records are read; archives are only stat'ed.
 */
export interface SetFacts {
  name: string;
  /** Why the store could not be read at all. */
  storeError?: string;
  /** The newest readable manifest, whatever its level. */
  newest?: Manifest;
  /** The newest manifest at the required level or above. */
  verified?: Manifest;
  /** Manifests that did not read (damaged, refused), newest first. */
  damaged: { backupId: string; error: string }[];
  /** The verified backup's archives: all there with their sizes, or the first that is not. */
  archives?: ArchiveFinding;
  /** When the verified backup's least recently read archive was last read (stores that evict). */
  access?: { at: Date } | { error: string };
  /** The newest drill record by finish time, and the newest that passed. */
  lastDrill?: StoredDrillRecord;
  lastPassedDrill?: StoredDrillRecord;
  drillError?: string;
}

export type ArchiveFinding =
  | { state: 'present'; parts: number }
  | { state: 'missing'; key: string; part: number }
  | { state: 'wrong-size'; key: string; part: number; stored: number; recorded: number }
  | { state: 'unchecked'; key: string; error: string };

const LEVELS: VerificationLevel[] = ['stored', 'readable', 'restored'];

export function reaches(level: VerificationLevel, required: VerificationLevel): boolean {
  return LEVELS.indexOf(level) >= LEVELS.indexOf(required);
}

// A set that has had no good backup in this many tries is reported as it is; reading on costs time.
const MAX_MANIFESTS = 50;
const MAX_DRILL_RECORDS = 20;

export async function readSet(
  store: BackupStore,
  name: string,
  require: VerificationLevel,
): Promise<SetFacts> {
  const facts: SetFacts = { name, damaged: [] };
  let ids: string[];
  try {
    ids = await backupIds(store, name);
  } catch (error) {
    facts.storeError = describeError(error);
    return facts;
  }
  for (const id of ids.slice(0, MAX_MANIFESTS)) {
    try {
      const manifest = await readManifest(store, name, id);
      facts.newest ??= manifest;
      if (reaches(manifest.verification.level, require)) {
        facts.verified = manifest;
        break;
      }
    } catch (error) {
      facts.damaged.push({ backupId: id, error: describeError(error) });
    }
  }
  if (facts.verified) {
    // Access first: on a cache, the archive lookups below may count as reads themselves.
    if (isAccessAware(store)) facts.access = await lastAccess(store, facts.verified);
    facts.archives = await checkArchives(store, facts.verified);
  }
  await readDrills(store, name, ids, facts);
  return facts;
}

/** Every backup id newest first; a store that cannot list (the cache without a token) its latest. */
async function backupIds(store: BackupStore, name: string): Promise<string[]> {
  try {
    return await listBackupIds(store, name);
  } catch (error) {
    if (!isLifeboatError(error, 'unsupported')) throw error;
    const latest = await latestBackupId(store, name);
    return latest ? [latest] : [];
  }
}

async function checkArchives(store: BackupStore, manifest: Manifest): Promise<ArchiveFinding> {
  const archives = storedArchives(manifest);
  for (const [i, archive] of archives.entries()) {
    const key = archiveKeyOf(manifest.name, manifest.backupId, i + 1, generationOf(manifest));
    try {
      const found = await store.stat(key);
      if (!found) return { state: 'missing', key, part: i + 1 };
      if (found.sizeBytes !== archive.sizeBytes)
        return {
          state: 'wrong-size',
          key,
          part: i + 1,
          stored: found.sizeBytes,
          recorded: archive.sizeBytes,
        };
    } catch (error) {
      return { state: 'unchecked', key, error: describeError(error) };
    }
  }
  return { state: 'present', parts: archives.length };
}

async function lastAccess(
  store: BackupStore & { lastAccessedAt(key: string): Promise<Date | undefined> },
  manifest: Manifest,
): Promise<SetFacts['access']> {
  try {
    let oldest: Date | undefined;
    for (let part = 1; part <= storedArchives(manifest).length; part++) {
      const at = await store.lastAccessedAt(
        archiveKeyOf(manifest.name, manifest.backupId, part, generationOf(manifest)),
      );
      if (at && (!oldest || at < oldest)) oldest = at;
    }
    return oldest ? { at: oldest } : undefined;
  } catch (error) {
    return { error: describeError(error) };
  }
}

async function readDrills(store: BackupStore, name: string, ids: string[], facts: SetFacts): Promise<void> {
  try {
    let drilled: string[];
    try {
      drilled = await listDrillRecordIds(store, name);
    } catch (error) {
      // A store that cannot list still answers for the backups it knows of.
      if (!isLifeboatError(error, 'unsupported')) throw error;
      drilled = ids;
    }
    const records: StoredDrillRecord[] = [];
    for (const id of drilled.slice(0, MAX_DRILL_RECORDS)) {
      const record = await readDrillRecord(store, name, id);
      if (record) records.push(record);
    }
    const byFinish = records.sort((a, b) => Date.parse(b.finishedAt) - Date.parse(a.finishedAt));
    facts.lastDrill = byFinish[0];
    facts.lastPassedDrill = byFinish.find((r) => r.status === 'passed');
  } catch (error) {
    facts.drillError = describeError(error);
  }
}
