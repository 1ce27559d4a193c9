import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { encryptBytes, recipientOf } from '../../src/archive/age/index.js';
import { readExpectedCatalog } from '../../src/archive/fetch.js';
import { serializeManifest } from '../../src/archive/manifest.js';
import { readManifest } from '../../src/archive/manifests.js';
import { archiveKey, manifestKey } from '../../src/archive/store-keys.js';
import type { BackupStore } from '../../src/stores/store.js';
import type { BackupFixture } from './world.js';

/**
 * A copy of a backup as a Lifeboat from before roles were recorded would have written it:
 * the same archive under the set `name`, a catalog without roles, memberships and
 * privileges, format version 1. What a reader must still accept.
 */
export async function copyWithoutRoleRecords(
  fx: BackupFixture,
  from: { name: string; backupId: string },
  name: string,
): Promise<void> {
  const manifest = await readManifest(fx.store, from.name, from.backupId);
  const catalog = await readExpectedCatalog(manifest, { identities: [fx.identity] });
  const { roleDetails: _roles, memberships: _memberships, privileges: _privileges, ...older } = catalog;
  const key = archiveKey(name, from.backupId);
  await mkdir(path.dirname(path.join(fx.dir, key)), { recursive: true });
  await copyFile(path.join(fx.dir, manifest.archive.key), path.join(fx.dir, key));
  const encrypted = await encryptBytes(Buffer.from(JSON.stringify(older)), { recipients: [fx.recipient] });
  const copy = {
    ...manifest,
    name,
    formatVersion: 1,
    archive: { ...manifest.archive, key },
    catalog: encrypted.toString('base64'),
  };
  await writeFile(path.join(fx.dir, manifestKey(name, from.backupId)), serializeManifest(copy));
}

/** The same, in place: the backup's manifest rewritten as an older Lifeboat would have written it. */
export async function forgetRoleRecords(
  store: BackupStore,
  name: string,
  backupId: string,
  identity: string,
): Promise<void> {
  const manifest = await readManifest(store, name, backupId);
  const catalog = await readExpectedCatalog(manifest, { identities: [identity] });
  const { roleDetails: _roles, memberships: _memberships, privileges: _privileges, ...older } = catalog;
  const encrypted = await encryptBytes(Buffer.from(JSON.stringify(older)), {
    recipients: [recipientOf(identity)],
  });
  const rewritten = { ...manifest, formatVersion: 1, catalog: encrypted.toString('base64') };
  await store.put(manifestKey(name, backupId), Readable.from([serializeManifest(rewritten)]), {
    overwrite: true,
  });
}
