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
 *   <name>/<backup-id>.manifest.json         the manifest, written last
 *   <name>/<backup-id>.drill.json            the last drill of the backup (beside the set, never part of it)
 *
 * A rekeyed backup (see rekey/) keeps its id and moves to key generation G (2, 3, …): the
 * same names with `.kG` after the id (`<backup-id>.k2.dump.zst.age`, `<backup-id>.k2.manifest.json`),
 * so the re-encrypted objects never overwrite the ones a reader may still be using.
 */
export const ARCHIVE_SUFFIX = '.dump.zst.age';
export const MANIFEST_SUFFIX = '.manifest.json';
export const DRILL_RECORD_SUFFIX = '.drill.json';

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

/** Key of stored archive number `part` (1 is the main archive). */
export function archiveKeyOf(name: string, backupId: string, part: number, generation = 1): string {
  return part === 1 ? archiveKey(name, backupId, generation) : partKey(name, backupId, part, generation);
}

/** Every key a backup of `parts` archives occupies: the manifest first, then archives 1…parts. */
export function backupKeys(name: string, backupId: string, parts: number, generation = 1): string[] {
  const archives = Array.from({ length: parts }, (_, i) => archiveKeyOf(name, backupId, i + 1, generation));
  return [manifestKey(name, backupId, generation), ...archives];
}

/**
 * The backup id and key generation of any object key of a backup of set `name` (its
 * manifest, archive or parts), or undefined for other keys (drill records among them).
 */
export function parseObjectKey(
  name: string,
  key: string,
): { backupId: string; generation: number; kind: 'manifest' | 'archive' } | undefined {
  if (key.endsWith(MANIFEST_SUFFIX)) {
    const found = parseManifestKey(name, key);
    return found && { ...found, kind: 'manifest' };
  }
  if (!key.endsWith(ARCHIVE_SUFFIX)) return undefined;
  // The same stem as the manifest's, without the part: parse it as one.
  const stem = key.slice(0, -ARCHIVE_SUFFIX.length).replace(/\.part-[1-9][0-9]{0,5}$/, '');
  const found = parseManifestKey(name, `${stem}${MANIFEST_SUFFIX}`);
  return found && { ...found, kind: 'archive' };
}

/** One object of a backup set, under the key derived for it, with what it must hash to. */
export interface SetObject {
  key: string;
  archive: StoredArchive;
}

/**
 * Every archive object a backup set's manifest lists (the main archive, its parts, and any
 * kind a later version adds), each under its derived key: what a copy carries and a rekey
 * re-encrypts, one place to extend. The manifest itself is not among them.
 */
export function setObjects(manifest: Manifest, generation = generationOf(manifest)): SetObject[] {
  return storedArchives(manifest).map((archive, i) => ({
    key: archiveKeyOf(manifest.name, manifest.backupId, i + 1, generation),
    archive,
  }));
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
