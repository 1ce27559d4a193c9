import { Readable } from 'node:stream';
import { decryptBytes, encryptBytes, type DecryptKeys } from '../archive/age/index.js';
import {
  allObjectKeys,
  manifestGenerations,
  readManifestAt,
  readStoredManifest,
} from '../archive/manifests.js';
import { serializeManifest, storedArchives, type Manifest, type StoredArchive } from '../archive/manifest.js';
import {
  backupKeys,
  generationOf,
  manifestKey,
  parseObjectKey,
  setObjects,
  type SetObject,
} from '../archive/store-keys.js';
import { readBack } from '../backup/index.js';
import { LifeboatError } from '../errors.js';
import { onInterrupt } from '../interrupt.js';
import type { Log } from '../log.js';
import type { PgTool } from '../postgres/tools.js';
import type { BackupStore } from '../stores/store.js';
import { pauseAfter } from './pause.js';
import { reencryptObject } from './reencrypt.js';
import { readStorageArchive } from '../storage/tar-read.js';

export interface RekeyKeys {
  /** What reads the backups today. */
  old: DecryptKeys;
  /** The public keys the backups are re-encrypted to. */
  recipients: string[];
  /** A new identity, when given: every new archive is then proven readable with it. */
  newIdentities?: string[];
}

export type SetRekey = {
  backupId: string;
  result: 'rekeyed' | 'already';
  level: Manifest['verification']['level'];
};

/**
 * Re-encrypts one backup to new recipients without ever leaving it unreadable. Manifests
 * are found by key generation (store-keys.ts): a reader takes the generation-1 manifest when
 * it is there, else the newest generation present, and every generation's archives are
 * written before its manifest and deleted only after it. The steps, from generation G:
 *
 *   1. each archive is re-encrypted to the new recipients under its generation G+1 key;
 *   2. each new archive is read back (level `readable` with a new identity, else `stored`);
 *   3. the G+1 manifest is written (the catalog re-encrypted too) and read back;
 *   4. the G manifest is deleted: from now on readers find only G+1;
 *   5. the G archives are deleted.
 *
 * Killed after 1 or 2: G is complete and found; the G+1 archives are unreferenced leftovers
 * that the next rekey replaces. After 3: both versions are complete, readers take either.
 * After 4 or part of 5: G+1 is complete; the next rekey removes what is left of G first.
 * So at every point each backup reads with the old key or the new one, never neither.
 */
export async function rekeySet(options: {
  store: BackupStore;
  name: string;
  backupId: string;
  keys: RekeyKeys;
  /** The pg_restore that lists a backup's table of contents (level `readable`). */
  pgRestoreFor: (manifest: Manifest) => Promise<PgTool | undefined>;
  log: Log;
  env?: NodeJS.ProcessEnv;
}): Promise<SetRekey> {
  const { store, name, backupId, keys, log } = options;
  const where = `${name}/${backupId}`;
  await finishEarlierSwap(store, name, backupId, log);
  const { manifest } = await readStoredManifest(store, name, backupId);
  if (sameKeys(manifest.recipients, keys.recipients)) {
    log.info(`${where} is already encrypted to the new recipients.`);
    return { backupId, result: 'already', level: manifest.verification.level };
  }
  const from = generationOf(manifest);
  const next = from + 1;
  const newKeys = { recipients: keys.recipients };
  const written: string[] = [];
  let committed = false;
  // Until the new manifest is read back, the new objects are not the backup: any way out
  // (a SIGINT or SIGTERM included) removes them, the manifest first, and leaves the old one.
  const discard = async () => {
    if (!committed) for (const key of [...written].reverse()) await store.delete(key).catch(() => undefined);
  };
  const release = onInterrupt(discard);
  try {
    // 1. New archives beside the old ones (the Storage archive too, when the backup has one).
    const rewritten: SetObject[] = [];
    const targets = setObjects(manifest, next);
    for (const { key, kind, archive } of setObjects(manifest)) {
      const to = targets[rewritten.length]!.key;
      written.push(to);
      const stored = await reencryptObject({
        store,
        from: key,
        to,
        archive,
        oldKeys: keys.old,
        newKeys,
        log,
      });
      rewritten.push({ key: to, kind, archive: { ...archive, key: to, ...stored } });
      log.info(`Re-encrypted ${key} to ${to}.`);
      await pauseAfter('archive', log, options.env);
    }
    // 2. Each read back from the store, decrypted with the new identity when there is one.
    const newDecrypt = keys.newIdentities?.length ? { identities: keys.newIdentities } : undefined;
    let level: 'stored' | 'readable' = 'readable';
    const pgRestore = newDecrypt ? await options.pgRestoreFor(manifest) : undefined;
    for (const { kind, archive } of rewritten) {
      if (kind === 'storage') {
        await readStorageArchive({ store, ...archive, keys: newDecrypt, log });
        if (!newDecrypt) level = 'stored';
        continue;
      }
      const check = await readBack({
        store,
        ...(archive as StoredArchive),
        keys: newDecrypt,
        pgRestore,
        log,
        // The backup of a database with nothing in it read back empty when it was taken.
        emptyAllowed: (archive as StoredArchive).tocEntries === 0,
      });
      if (check.level !== 'readable') level = 'stored';
    }
    const catalog = await encryptBytes(
      await decryptBytes(Buffer.from(manifest.catalog, 'base64'), keys.old),
      newKeys,
    );
    if (newDecrypt) await decryptBytes(catalog, newDecrypt);
    await pauseAfter('verified', log, options.env);

    // 3. The new generation's manifest: from here on the backup reads with the new key.
    const [main, ...parts] = rewritten.filter((o) => o.kind === 'database').map((o) => o.archive);
    const storage = rewritten.find((o) => o.kind === 'storage')?.archive;
    const now = new Date().toISOString();
    const rekeyed: Manifest = {
      ...manifest,
      archive: {
        ...manifest.archive,
        ...main!,
        encryption: 'age-x25519',
        ...(manifest.archive.parts
          ? { parts: manifest.archive.parts.map((p, i) => ({ ...p, ...parts[i]! })) }
          : {}),
      },
      ...(manifest.storage && storage ? { storage: { ...manifest.storage, ...storage } } : {}),
      catalog: catalog.toString('base64'),
      recipients: keys.recipients,
      keyGeneration: next,
      verification: verificationAfter(manifest, level, now),
    };
    const newManifest = manifestKey(name, backupId, next);
    written.push(newManifest);
    await store.put(newManifest, Readable.from([serializeManifest(rekeyed)]), { overwrite: true });
    // Read back: what a reader will find from step 4 on.
    await readManifestAt(store, name, backupId, next);
    committed = true;
    await pauseAfter('manifest', log, options.env);
  } catch (error) {
    await discard();
    throw error;
  } finally {
    release();
  }
  // 4 and 5: the old generation goes, its manifest first.
  await removeGeneration(store, manifest, from, options);
  const level = (await readStoredManifest(store, name, backupId)).manifest;
  if (generationOf(level) !== next) {
    throw new LifeboatError('store', `After the rekey, ${where} does not read as its new version.`, {
      hint: 'The store did not delete the old manifest; run the rekey again, it finishes what is left.',
    });
  }
  log.info(`Rekeyed ${where}: key generation ${next}, verified at level "${level.verification.level}".`);
  return { backupId, result: 'rekeyed', level: level.verification.level };
}

/**
 * A rekey killed after writing its new manifest left the older generation, whole or in
 * part: the newest manifest is complete (its archives were written first), so the rest of
 * the older ones go, manifests before archives.
 */
async function finishEarlierSwap(
  store: BackupStore,
  name: string,
  backupId: string,
  log: Log,
): Promise<void> {
  const newest = (await manifestGenerations(store, name, backupId)).at(-1);
  if (newest === undefined || newest === 1) return;
  // Complete means every archive it names is there at its size: only then may the older go.
  const { manifest } = await readManifestAt(store, name, backupId, newest);
  for (const { key, archive } of setObjects(manifest)) {
    if ((await store.stat(key))?.sizeBytes !== archive.sizeBytes) {
      throw new LifeboatError(
        'integrity',
        `${name}/${backupId} has a key generation ${newest} manifest, but its archive ${key} is missing or of another size; the older generation is left as it is.`,
        {
          hint: 'Check the store; delete the broken newer manifest by hand if the older version is complete.',
        },
      );
    }
  }
  const older = (await allObjectKeys(store, name, backupId)).filter(
    (key) => (parseObjectKey(name, key)?.generation ?? newest) < newest,
  );
  if (older.length === 0) return;
  log.info(
    `Finishing an interrupted rekey of ${name}/${backupId}: removing ${older.length} object(s) of an older key generation (generation ${newest} is complete).`,
  );
  for (const key of older) await store.delete(key);
}

async function removeGeneration(
  store: BackupStore,
  manifest: Manifest,
  generation: number,
  options: { log: Log; env?: NodeJS.ProcessEnv },
): Promise<void> {
  const [manifestKeyOld, ...archives] = backupKeys(
    manifest.name,
    manifest.backupId,
    storedArchives(manifest).length,
    { storage: Boolean(manifest.storage), generation },
  );
  await store.delete(manifestKeyOld!);
  await pauseAfter('old-manifest', options.log, options.env);
  for (const key of archives) {
    await store.delete(key);
    await pauseAfter('old-archive', options.log, options.env);
  }
  // The drill record speaks of the backup, not of its keys: it stays.
}

/** The level the rekeyed backup can claim: its new bytes were only proven as far as `level`. */
function verificationAfter(
  manifest: Manifest,
  level: 'stored' | 'readable',
  at: string,
): Manifest['verification'] {
  // The plaintext is the one a drill may have restored; the new ciphertext is proven readable, or only stored.
  const kept =
    level === 'stored' ? 'stored' : manifest.verification.level === 'restored' ? 'restored' : 'readable';
  return {
    level: kept,
    checkedAt: at,
    history: [...manifest.verification.history, { level, at, by: 'rekey' }],
  };
}

function sameKeys(a: string[] | undefined, b: string[]): boolean {
  return !!a && a.length === b.length && [...a].sort().join() === [...b].sort().join();
}
