/**
 * Damage to stored backup sets, done to copies so the good originals stay untouched: bytes
 * cut off or flipped in an archive, its header or its manifest; a dump sealed again with
 * changed content; a store that damages what it has just stored.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, open, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { promisify } from 'node:util';
import { decryptBytes, encryptBytes } from '../../src/archive/age/index.js';
import { serializeManifest, type Manifest } from '../../src/archive/manifest.js';
import { newBackupId } from '../../src/archive/backup-id.js';
import type { LocalStore } from '../../src/stores/local.js';
import type { BackupStore } from '../../src/stores/store.js';
import { archiveKey, manifestKey } from '../../src/archive/store-keys.js';

const run = promisify(execFile);

/** The age payload's plaintext chunk size, and the sealed size of one chunk (+16 B tag). */
export const AGE_CHUNK = 64 * 1024;
export const AGE_SEALED_CHUNK = AGE_CHUNK + 16;

/** Flips one bit of the byte at `at` (negative: from the end). */
export function flipByte(bytes: Buffer, at: number): Buffer {
  const copy = Buffer.from(bytes);
  const i = at < 0 ? copy.length + at : at;
  copy[i] = copy[i]! ^ 0x01;
  return copy;
}

/** Where the age header ends and the payload (nonce, then sealed chunks) begins. */
export function ageHeaderLength(archive: Buffer): number {
  const mac = archive.indexOf('\n---');
  return archive.indexOf('\n', mac + 1) + 1;
}

/**
 * Flips one bit of a character of the header's MAC, choosing one that stays valid base64, so
 * the header still parses and only its authentication can tell.
 */
export function flipHeaderMac(archive: Buffer): Buffer {
  const start = archive.indexOf('\n--- ') + 5;
  for (let i = start; i < ageHeaderLength(archive) - 1; i++) {
    if (/[A-Za-z0-9+/]/.test(String.fromCharCode(archive[i]! ^ 0x01))) return flipByte(archive, i);
  }
  throw new Error('no flippable MAC character');
}

export interface CopyChanges {
  /** Changes the archive bytes; `null` leaves no archive. */
  archive?: ((bytes: Buffer) => Buffer) | null;
  /** Changes the manifest object before it is written; `null` leaves no manifest. */
  manifest?: ((manifest: Manifest) => Manifest) | null;
  /** Raw manifest bytes, after serialising (a flipped byte). */
  manifestBytes?: (bytes: Buffer) => Buffer;
  /** Keep the copy's SHA-256 and size as the original's (a store that lost bytes), or record the new ones. */
  rehash?: boolean;
}

/**
 * Copies a backup set under a new backup id in the same store, with damage applied: the good
 * original stays untouched. Returns the new id.
 */
export async function copyBackup(
  store: BackupStore,
  source: Manifest,
  changes: CopyChanges = {},
  options: { name?: string } = {},
): Promise<string> {
  const name = options.name ?? source.name;
  const backupId = newBackupId();
  const key = archiveKey(name, backupId);
  let archive: Buffer = await buffer(await store.get(source.archive.key));
  if (changes.archive) archive = changes.archive(archive);
  let manifest: Manifest = {
    ...source,
    name,
    backupId,
    archive: { ...source.archive, key },
  };
  if (changes.rehash) {
    manifest.archive.sha256 = createHash('sha256').update(archive).digest('hex');
    manifest.archive.sizeBytes = archive.length;
  }
  if (changes.manifest) manifest = changes.manifest(manifest);
  if (changes.archive !== null) await store.put(key, Readable.from([archive]));
  if (changes.manifest !== null) {
    let bytes = serializeManifest(manifest);
    if (changes.manifestBytes) bytes = changes.manifestBytes(bytes);
    await store.put(manifestKey(name, backupId), Readable.from([bytes]));
  }
  return backupId;
}

/**
 * The plain pg_dump archive inside a stored one, changed by `edit` and sealed again exactly
 * as Lifeboat seals (zstd, then age to the same recipients): a backup whose encryption and
 * compression are sound but whose dump says something else.
 */
export async function resealed(
  archive: Buffer,
  keys: { identity: string; recipient: string },
  edit: (dump: Buffer) => Buffer,
  scratch: string,
): Promise<Buffer> {
  const compressed = await decryptBytes(archive, { identities: [keys.identity] });
  const dir = await mkdtemp(path.join(scratch, 'reseal-'));
  try {
    const file = path.join(dir, 'dump.zst');
    await writeFile(file, compressed);
    await run('zstd', ['-q', '-d', '-f', file, '-o', path.join(dir, 'dump')]);
    await writeFile(path.join(dir, 'dump'), edit(await readFile(path.join(dir, 'dump'))));
    await run('zstd', ['-q', '-f', '--check', path.join(dir, 'dump'), '-o', file]);
    return await encryptBytes(await readFile(file), { recipients: [keys.recipient] });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * A custom-format dump claiming archive version 1.17 in its header (PGDMP, then major, minor,
 * revision): a format newer than any pg_restore here reads, as a newer pg_dump would write.
 */
export function newerArchiveFormat(dump: Buffer): Buffer {
  if (dump.subarray(0, 5).toString('latin1') !== 'PGDMP') throw new Error('not a custom-format dump');
  return Buffer.concat([dump.subarray(0, 6), Buffer.from([17]), dump.subarray(7)]);
}

/**
 * A local store that damages each archive right after storing it, before anything reads it
 * back: bit rot or a lossy disk between the write and the read-back.
 */
export function damagingStore(
  store: LocalStore,
  damage: (file: string, size: number) => Promise<void>,
): BackupStore {
  return {
    kind: store.kind,
    location: store.location,
    get: (key) => store.get(key),
    list: (prefix) => store.list(prefix),
    stat: (key) => store.stat(key),
    delete: (key) => store.delete(key),
    async put(key, body, options) {
      await store.put(key, body, options);
      if (!key.endsWith('.dump.zst.age')) return;
      const file = path.join(store.root, ...key.split('/'));
      await damage(file, (await stat(file)).size);
    },
  };
}

export async function truncateTo(file: string, size: number): Promise<void> {
  await truncate(file, size);
}

export async function flipFileByte(file: string, at: number): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, at);
    byte[0] = byte[0]! ^ 0x01;
    await handle.write(byte, 0, 1, at);
  } finally {
    await handle.close();
  }
}
