import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { allObjectKeys, readStoredManifest } from '../archive/manifests.js';
import { totalStoredBytes, type Manifest } from '../archive/manifest.js';
import { generationOf, parseObjectKey, setObjects } from '../archive/store-keys.js';
import { copyObject, verifyObject } from '../archive/transfer.js';
import { isLifeboatError, LifeboatError } from '../errors.js';
import { onInterrupt } from '../interrupt.js';
import type { Log } from '../log.js';
import type { BackupStore } from '../stores/store.js';

export interface SetCopy {
  backupId: string;
  result: 'copied' | 'skipped';
  /** Bytes written to the destination (0 when skipped). */
  bytes: number;
}

/**
 * Copies one backup set to another store: every archive object first, each read back at
 * the destination and hashed against the manifest, and the manifest last, byte for byte,
 * so the destination never lists a backup whose objects are not all there and proven.
 * Idempotent: a set already at the destination with the same hashes is skipped (objects
 * it lacks are copied again); one with other hashes is refused, never overwritten. A set
 * rekeyed at the source since it was copied replaces its older key generation there.
 * No key is needed: the bytes travel as they are, still encrypted.
 */
export async function copySet(
  from: BackupStore,
  to: BackupStore,
  name: string,
  backupId: string,
  log: Log,
): Promise<SetCopy> {
  const source = await readStoredManifest(from, name, backupId);
  const { manifest } = source;
  const objects = setObjects(manifest);
  const there = await readStoredManifest(to, name, backupId).catch((error: unknown) => {
    if (isLifeboatError(error, 'not-found')) return undefined;
    throw error;
  });
  const generation = generationOf(manifest);
  const older = there && generationOf(there.manifest) < generation;
  if (there && !older) {
    if (generationOf(there.manifest) > generation) {
      log.warning(
        `${to.location} holds ${name}/${backupId} under a newer key generation than ${from.location}: it was rekeyed there, and is left as it is.`,
      );
      return { backupId, result: 'skipped', bytes: 0 };
    }
    return refresh(from, to, there.manifest, manifest, log);
  }
  // A backup rekeyed at the source since it was copied arrives as its new key generation
  // beside the old one, which goes once the new is complete: the rekey's own swap.
  log.info(
    older
      ? `${name}/${backupId} was rekeyed in ${from.location}: copying its new key generation to ${to.location}.`
      : `Copying ${name}/${backupId} (${objects.length} archive object(s)) to ${to.location}.`,
  );
  // Until its manifest is there and read back, what was copied is not a backup at the
  // destination: any way out (a signal included) removes it, the manifest first.
  const written: string[] = [];
  let done = false;
  const discard = async () => {
    if (!done) for (const key of [...written].reverse()) await to.delete(key).catch(() => undefined);
  };
  const release = onInterrupt(discard);
  try {
    // No manifest names these keys at the destination yet, so a leftover of an interrupted
    // copy may be replaced.
    for (const { key, archive } of objects) {
      written.push(key);
      await copyObject({ from, to, key, expected: archive, log, overwrite: true });
    }
    const manifestHash = {
      sizeBytes: source.bytes.length,
      sha256: createHash('sha256').update(source.bytes).digest('hex'),
    };
    // Pushed once stored: a put refused because the key exists must not remove another's manifest.
    // Over a leftover of an interrupted copy of a rekeyed backup (its older generation still reads).
    await to.put(source.key, Readable.from([source.bytes]), { overwrite: older });
    written.push(source.key);
    await verifyObject(to, source.key, manifestHash, log);
    done = true;
  } catch (error) {
    await discard();
    throw error;
  } finally {
    release();
  }
  if (older) {
    const stale = (await allObjectKeys(to, name, backupId)).filter(
      (key) => (parseObjectKey(name, key)?.generation ?? generation) < generation,
    );
    for (const key of stale) await to.delete(key);
  }
  log.info(`Copied ${name}/${backupId}; every object read back from ${to.location} matches its SHA-256.`);
  return { backupId, result: 'copied', bytes: totalStoredBytes(manifest) + source.bytes.length };
}

/** A set already at the destination: copy again only what went missing or changed size since. */
async function refresh(
  from: BackupStore,
  to: BackupStore,
  there: Manifest,
  manifest: Manifest,
  log: Log,
): Promise<SetCopy> {
  if (!sameContent(there, manifest)) throw conflict(manifest, to);
  let bytes = 0;
  for (const { key, archive } of setObjects(there)) {
    const stat = await to.stat(key);
    if (stat?.sizeBytes === archive.sizeBytes) continue;
    log.warning(`${key} is missing or damaged in ${to.location}; copying it again.`);
    await copyObject({ from, to, key, expected: archive, log, overwrite: true });
    bytes += archive.sizeBytes;
  }
  const where = `${manifest.name}/${manifest.backupId}`;
  if (bytes === 0) log.info(`${where} is already in ${to.location} with the same hashes.`);
  return { backupId: manifest.backupId, result: bytes ? 'copied' : 'skipped', bytes };
}

/** The same backup: the same archives, byte for byte (a drill may have raised the level on one side). */
function sameContent(a: Manifest, b: Manifest): boolean {
  const hashes = (m: Manifest) =>
    setObjects(m).map((o) => `${o.key} ${o.archive.sizeBytes} ${o.archive.sha256}`);
  return JSON.stringify(hashes(a)) === JSON.stringify(hashes(b));
}

function conflict(manifest: Manifest, to: BackupStore): LifeboatError {
  return new LifeboatError(
    'integrity',
    `${to.location} already holds a backup ${manifest.name}/${manifest.backupId} with other archives than the source's; refusing to overwrite it.`,
    {
      hint: 'The two stores disagree about one backup (one of them was rekeyed, or altered). Check both with `lifeboat list`; remove the destination copy by hand if it is the stale one, then copy again.',
    },
  );
}
