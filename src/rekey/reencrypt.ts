import { pipeline } from 'node:stream/promises';
import {
  createDecryptStream,
  createEncryptStream,
  type DecryptKeys,
  type EncryptKeys,
} from '../archive/age/index.js';
import { EndGate, HashCounter } from '../archive/hash.js';
import type { StoredArchive } from '../archive/manifest.js';
import { ProgressMeter } from '../archive/progress.js';
import { isLifeboatError, LifeboatError } from '../errors.js';
import type { Log } from '../log.js';
import type { BackupStore } from '../stores/store.js';

/**
 * store → SHA-256 (old) → age decrypt (old key) → age encrypt (new recipients) → SHA-256
 * (new) → store, streamed: the compressed dump passes through memory a chunk at a time
 * and never touches the disk in plain. The new object is finalized only once the old one
 * hashed to its manifest and decrypted to the end (every age chunk authenticated), so a
 * damaged or truncated source never becomes a complete-looking new archive.
 */
export async function reencryptObject(options: {
  store: BackupStore;
  from: string;
  to: string;
  archive: Pick<StoredArchive, 'sizeBytes' | 'sha256'>;
  oldKeys: DecryptKeys;
  newKeys: EncryptKeys;
  log: Log;
}): Promise<{ sizeBytes: number; sha256: string }> {
  const { store, from, to, archive, log } = options;
  const oldHash = new HashCounter();
  const newHash = new HashCounter();
  const meter = new ProgressMeter(log, `Re-encrypting ${from}`);
  const body = new EndGate(async () => {
    const digest = oldHash.digest();
    if (oldHash.bytes !== archive.sizeBytes || digest !== archive.sha256) {
      throw new LifeboatError(
        'integrity',
        `${from} does not match its manifest: ${oldHash.bytes} bytes with SHA-256 ${digest}, the manifest says ${archive.sizeBytes} bytes with ${archive.sha256}.`,
        {
          hint: 'The stored backup is damaged; it was left as it is. Rekey the other backups, and take a new one.',
        },
      );
    }
  });
  try {
    const source = await store.get(from);
    await Promise.all([
      pipeline(
        source,
        oldHash,
        meter,
        createDecryptStream(options.oldKeys),
        createEncryptStream(options.newKeys),
        newHash,
        body,
      ),
      // Nothing refers to the new key yet, so a leftover of an interrupted rekey is replaced.
      store.put(to, body, { overwrite: true }),
    ]);
  } catch (error) {
    await store.delete(to).catch(() => undefined);
    if (isLifeboatError(error, 'crypto') || isLifeboatError(error, 'key')) {
      throw new LifeboatError('key', `Cannot decrypt ${from} with the old key: ${error.message}`, {
        hint: 'Give the identity (or passphrase) the backup is encrypted to, through LIFEBOAT_IDENTITY or --identity-file; `lifeboat list` shows which key each backup needs.',
        cause: error,
      });
    }
    throw error;
  } finally {
    meter.stop();
  }
  return { sizeBytes: newHash.bytes, sha256: newHash.digest() };
}
