import { isBackupId } from './backup-id.js';
import { LifeboatError } from '../errors.js';
import { storedArchives, type Manifest } from './manifest.js';

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

export function archiveKey(name: string, backupId: string): string {
  return `${prefixOf(name, backupId)}${ARCHIVE_SUFFIX}`;
}

/** Part K (2…N) of a backup dumped in parallel; part 1 is the archive itself. */
export function partKey(name: string, backupId: string, part: number): string {
  if (!Number.isInteger(part) || part < 2) {
    throw new LifeboatError('internal', `Part ${part} of a backup has no key of its own; parts start at 2.`);
  }
  return `${prefixOf(name, backupId)}.part-${part}${ARCHIVE_SUFFIX}`;
}

/** The Storage archive: every backed-up bucket object in one tar, through zstd and age. */
export function storageKey(name: string, backupId: string): string {
  return `${prefixOf(name, backupId)}${STORAGE_SUFFIX}`;
}

export function manifestKey(name: string, backupId: string): string {
  return `${prefixOf(name, backupId)}${MANIFEST_SUFFIX}`;
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
 */
export function parseSetKey(
  name: string,
  key: string,
): { backupId: string; kind: SetKeyKind; part?: number } | undefined {
  if (!isSetName(name) || !key.startsWith(`${name}/`)) return undefined;
  const rest = key.slice(name.length + 1);
  const backupId = rest.slice(0, rest.indexOf('.'));
  if (!isBackupId(backupId)) return undefined;
  const part = /^\.part-([1-9]\d{0,3})\.dump\.zst\.age$/.exec(rest.slice(backupId.length))?.[1];
  const candidates: [SetKeyKind, string, number?][] = [
    ['archive', archiveKey(name, backupId)],
    ['manifest', manifestKey(name, backupId)],
    ['drill record', drillRecordKey(name, backupId)],
    ['pin', pinKey(name, backupId)],
    ['storage', storageKey(name, backupId)],
  ];
  if (part && Number(part) >= 2)
    candidates.push(['part', partKey(name, backupId, Number(part)), Number(part)]);
  const found = candidates.find(([, derived]) => derived === key);
  return found ? { backupId, kind: found[0], ...(found[2] ? { part: found[2] } : {}) } : undefined;
}

/** Key of stored archive number `part` (1 is the main archive). */
export function archiveKeyOf(name: string, backupId: string, part: number): string {
  return part === 1 ? archiveKey(name, backupId) : partKey(name, backupId, part);
}

/**
 * Every key a backup of `parts` archives occupies: the manifest first, then archives
 * 1…parts, then the Storage archive when it has one.
 */
export function backupKeys(name: string, backupId: string, parts: number, storage = false): string[] {
  const archives = Array.from({ length: parts }, (_, i) => archiveKeyOf(name, backupId, i + 1));
  return [manifestKey(name, backupId), ...archives, ...(storage ? [storageKey(name, backupId)] : [])];
}

/**
 * Refuses a manifest whose recorded identity or keys are not the ones derived from the
 * set name and backup id it was read under (`expected`; by default its own fields, which
 * still catches keys that point into another set or another backup).
 */
export function checkManifestKeys(
  manifest: Manifest,
  where: string,
  expected: { name: string; backupId: string } = manifest,
): void {
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
  storedArchives(manifest).forEach((archive, i) => {
    const derived = archiveKeyOf(expected.name, expected.backupId, i + 1);
    const what = i === 0 ? 'its archive is' : `its part ${i + 1} is`;
    if (archive.key !== derived) refuse(what, archive.key, derived);
  });
  if (manifest.storage) {
    const derived = storageKey(expected.name, expected.backupId);
    if (manifest.storage.key !== derived) refuse('its Storage archive is', manifest.storage.key, derived);
  }
}

function prefixOf(name: string, backupId: string): string {
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
  return `${name}/${backupId}`;
}

/** Why a claimed key is worse than different: it leaves the set or climbs the tree. */
function outside(claimed: string, name: string): string {
  if (claimed.split('/').some((segment) => segment === '..' || segment === '.'))
    return ' (a path with ".." segments)';
  if (!claimed.startsWith(`${name}/`)) return ` (outside the set "${name}")`;
  return '';
}
