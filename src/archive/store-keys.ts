import { isBackupId } from './backup-id.js';
import { LifeboatError } from '../errors.js';
import { storedArchives, type Manifest, type StoredArchive } from './manifest.js';

/**
 * Every store key of a backup set, derived from the set name, the backup id and the part
 * number; pure, no I/O. Whatever reads or deletes a backup takes its keys from here, never
 * from a manifest: a manifest is data anyone with write access to the store can edit, and
 * one that named another set's archive (or `../other/…`) would make a drill restore the
 * wrong backup and retention delete outside its set. A manifest's own key fields are only
 * compared with these (`checkManifestKeys`).
 *
 *   <name>/<backup-id>.dump.zst.age          the archive (part 1)
 *   <name>/<backup-id>.part-K.dump.zst.age   part K (2…N) of a parallel backup's data
 *   <name>/<backup-id>.storage.tar.zst.age   the Storage objects (a tar), when the backup took them
 *   <name>/<backup-id>.manifest.json         the manifest, written last
 *   <name>/<backup-id>.drill.json            the last drill of the backup (beside the set, never part of it)
 *   <name>/<backup-id>.pin.json              the backup's pin, when it has one (beside the set)
 *
 * A rekeyed backup (see rekey/) keeps its id and moves to key generation G (2, 3, …): the
 * same names with `.kG` after the id (`<backup-id>.k2.dump.zst.age`, `<backup-id>.k2.manifest.json`),
 * so the re-encrypted objects never overwrite the ones a reader may still be using.
 */
export const ARCHIVE_SUFFIX = '.dump.zst.age';
export const STORAGE_SUFFIX = '.storage.tar.zst.age';
export const MANIFEST_SUFFIX = '.manifest.json';
export const DRILL_RECORD_SUFFIX = '.drill.json';
export const PIN_SUFFIX = '.pin.json';

/** The shape `name` accepts: one path segment that cannot be `.` or `..`. */
const SET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export function isSetName(text: string): boolean {
  return SET_NAME.test(text) && !text.includes('..');
}

export function archiveKey(name: string, backupId: string, generation = 1): string {
  return `${prefixOf(name, backupId, generation)}${ARCHIVE_SUFFIX}`;
}

/** Part K (2…N) of a backup dumped in parallel; part 1 is the archive itself. */
export function partKey(name: string, backupId: string, part: number, generation = 1): string {
  if (!Number.isInteger(part) || part < 2) {
    throw new LifeboatError('internal', `Part ${part} of a backup has no key of its own; parts start at 2.`);
  }
  return `${prefixOf(name, backupId, generation)}.part-${part}${ARCHIVE_SUFFIX}`;
}

/** The Storage archive: every backed-up bucket object in one tar, through zstd and age. */
export function storageKey(name: string, backupId: string, generation = 1): string {
  return `${prefixOf(name, backupId, generation)}${STORAGE_SUFFIX}`;
}

export function manifestKey(name: string, backupId: string, generation = 1): string {
  return `${prefixOf(name, backupId, generation)}${MANIFEST_SUFFIX}`;
}

/** The key generation a manifest was written for: 1 unless the backup was rekeyed. */
export function generationOf(manifest: Pick<Manifest, 'keyGeneration'>): number {
  return manifest.keyGeneration ?? 1;
}

/**
 * The backup id and key generation of a manifest key of set `name`, or undefined for any
 * other key (an archive, a drill record, a name Lifeboat never writes).
 */
export function parseManifestKey(
  name: string,
  key: string,
): { backupId: string; generation: number } | undefined {
  if (!key.startsWith(`${name}/`) || !key.endsWith(MANIFEST_SUFFIX)) return undefined;
  const stem = key.slice(name.length + 1, -MANIFEST_SUFFIX.length);
  const match = /^(.+?)(?:\.k([1-9][0-9]{0,5}))?$/.exec(stem);
  const backupId = match?.[1] ?? '';
  const generation = match?.[2] ? Number(match[2]) : 1;
  // `.k1` is never written: generation 1 has no suffix, so each generation has one key.
  if (!isBackupId(backupId) || (match?.[2] && generation < 2)) return undefined;
  return { backupId, generation };
}

/** The plain record of the backup's last drill, which the watch reads without GitHub. */
export function drillRecordKey(name: string, backupId: string): string {
  return `${prefixOf(name, backupId)}${DRILL_RECORD_SUFFIX}`;
}

/** The pin of a backup: a small record beside the manifest, which stays write-once. */
export function pinKey(name: string, backupId: string): string {
  return `${prefixOf(name, backupId)}${PIN_SUFFIX}`;
}

export type SetKeyKind = 'archive' | 'part' | 'storage' | 'manifest' | 'drill record' | 'pin';

/**
 * Which object of set `name` a key is, or undefined when it is none: only a key that one of
 * the functions above derives again, byte for byte, counts. Whatever sweeps a store
 * deletes nothing this does not recognise, so no listing can steer a delete elsewhere.
 * The backup's own objects may carry a key generation (`.kG`, after a rekey); the records
 * beside it (drill record, pin) never do.
 */
export function parseSetKey(
  name: string,
  key: string,
): { backupId: string; kind: SetKeyKind; generation: number; part?: number } | undefined {
  if (!isSetName(name) || !key.startsWith(`${name}/`)) return undefined;
  const rest = key.slice(name.length + 1);
  const backupId = rest.slice(0, rest.indexOf('.'));
  if (!isBackupId(backupId)) return undefined;
  const generationText = /^\.k([1-9]\d{0,5})\./.exec(rest.slice(backupId.length))?.[1];
  const generation = generationText ? Number(generationText) : 1;
  if (generation < 2 && generationText) return undefined;
  const tail = rest.slice(backupId.length + (generationText ? generationText.length + 2 : 0));
  const part = /^\.part-([1-9]\d{0,3})\.dump\.zst\.age$/.exec(tail)?.[1];
  const candidates: [SetKeyKind, string, number?][] = [
    ['archive', archiveKey(name, backupId, generation)],
    ['manifest', manifestKey(name, backupId, generation)],
    ['storage', storageKey(name, backupId, generation)],
  ];
  if (generation === 1) {
    candidates.push(['drill record', drillRecordKey(name, backupId)], ['pin', pinKey(name, backupId)]);
  }
  if (part && Number(part) >= 2)
    candidates.push(['part', partKey(name, backupId, Number(part), generation), Number(part)]);
  const found = candidates.find(([, derived]) => derived === key);
  if (!found) return undefined;
  return { backupId, kind: found[0], generation, ...(found[2] ? { part: found[2] } : {}) };
}

/** Key of stored archive number `part` (1 is the main archive). */
export function archiveKeyOf(name: string, backupId: string, part: number, generation = 1): string {
  return part === 1 ? archiveKey(name, backupId, generation) : partKey(name, backupId, part, generation);
}

/**
 * Every key a backup of `parts` archives occupies: the manifest first, then archives
 * 1…parts, then the Storage archive when it has one; all of one key generation.
 */
export function backupKeys(
  name: string,
  backupId: string,
  parts: number,
  { storage = false, generation = 1 }: { storage?: boolean; generation?: number } = {},
): string[] {
  const archives = Array.from({ length: parts }, (_, i) => archiveKeyOf(name, backupId, i + 1, generation));
  return [
    manifestKey(name, backupId, generation),
    ...archives,
    ...(storage ? [storageKey(name, backupId, generation)] : []),
  ];
}

/**
 * The backup id and key generation of any object key of a backup of set `name` (its
 * manifest, archive, parts or Storage archive), or undefined for other keys (drill records
 * and pins among them).
 */
export function parseObjectKey(
  name: string,
  key: string,
): { backupId: string; generation: number; kind: 'manifest' | 'archive' } | undefined {
  const found = parseSetKey(name, key);
  if (!found || found.kind === 'drill record' || found.kind === 'pin') return undefined;
  const kind = found.kind === 'manifest' ? 'manifest' : 'archive';
  return { backupId: found.backupId, generation: found.generation, kind };
}

/** One object of a backup set, under the key derived for it, with what it must hash to. */
export interface SetObject {
  key: string;
  /** `database`: the dump or one of its parts; `storage`: the tar of bucket objects. */
  kind: 'database' | 'storage';
  archive: Pick<StoredArchive, 'key' | 'sizeBytes' | 'sha256'> & Partial<StoredArchive>;
}

/**
 * Every archive object a backup set's manifest lists (the main archive, its parts, the
 * Storage archive, and any kind a later version adds), each under its derived key: what a
 * copy carries and a rekey re-encrypts, one place to extend. The manifest itself is not
 * among them.
 */
export function setObjects(manifest: Manifest, generation = generationOf(manifest)): SetObject[] {
  const { name, backupId } = manifest;
  const database = storedArchives(manifest).map((archive, i) => ({
    key: archiveKeyOf(name, backupId, i + 1, generation),
    kind: 'database' as const,
    archive,
  }));
  const storage = manifest.storage
    ? [{ key: storageKey(name, backupId, generation), kind: 'storage' as const, archive: manifest.storage }]
    : [];
  return [...database, ...storage];
}

/**
 * Refuses a manifest whose recorded identity or keys are not the ones derived from the
 * set name and backup id it was read under (`expected`; by default its own fields, which
 * still catches keys that point into another set or another backup).
 */
export function checkManifestKeys(
  manifest: Manifest,
  where: string,
  expected: { name: string; backupId: string; generation?: number } = manifest,
): void {
  const generation = expected.generation ?? generationOf(manifest);
  const refuse = (what: string, claimed: string, derived: string): never => {
    throw new LifeboatError(
      'integrity',
      `The manifest ${where} claims ${what} "${claimed}"${outside(claimed, expected.name)}, but backup ${expected.name}/${expected.backupId} keeps it at "${derived}". Refusing to read or delete anything it names.`,
      {
        hint: 'The manifest may have been tampered with, or objects were copied between sets by hand: do not trust this backup, and take a new one.',
      },
    );
  };
  if (manifest.name !== expected.name) refuse('the set name', manifest.name, expected.name);
  if (manifest.backupId !== expected.backupId) refuse('the backup id', manifest.backupId, expected.backupId);
  if (generationOf(manifest) !== generation)
    refuse('the key generation', String(generationOf(manifest)), String(generation));
  storedArchives(manifest).forEach((archive, i) => {
    const derived = archiveKeyOf(expected.name, expected.backupId, i + 1, generation);
    const what = i === 0 ? 'its archive is' : `its part ${i + 1} is`;
    if (archive.key !== derived) refuse(what, archive.key, derived);
  });
  if (manifest.storage) {
    const derived = storageKey(expected.name, expected.backupId, generation);
    if (manifest.storage.key !== derived) refuse('its Storage archive is', manifest.storage.key, derived);
  }
}

function prefixOf(name: string, backupId: string, generation = 1): string {
  if (!isSetName(name)) {
    throw new LifeboatError('integrity', `"${name}" is not a backup set name, so it has no store keys.`, {
      hint: "Set names are one path segment of letters, digits, '.', '_' and '-', without '..'.",
    });
  }
  if (!isBackupId(backupId)) {
    throw new LifeboatError('integrity', `"${backupId}" is not a backup id, so it has no store keys.`, {
      hint: 'Backup ids look like 20261124_000312_345_9f2c41ab; `lifeboat list` shows the ids a store holds.',
    });
  }
  if (!Number.isInteger(generation) || generation < 1) {
    throw new LifeboatError('internal', `Key generation ${generation} is not a whole number from 1.`);
  }
  return `${name}/${backupId}${generation === 1 ? '' : `.k${generation}`}`;
}

/** Why a claimed key is worse than different: it leaves the set or climbs the tree. */
function outside(claimed: string, name: string): string {
  if (claimed.split('/').some((segment) => segment === '..' || segment === '.'))
    return ' (a path with ".." segments)';
  if (!claimed.startsWith(`${name}/`)) return ` (outside the set "${name}")`;
  return '';
}
