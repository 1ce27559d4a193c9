import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isLifeboatError } from '../errors.js';
import type { Log } from '../log.js';
import { preferChildError, type Child } from '../process.js';
import type { BackupStore } from '../stores/store.js';
import { createEncryptStream, type EncryptKeys } from '../archive/age/index.js';
import { EndGate, HashCounter } from '../archive/hash.js';
import { ProgressMeter } from '../archive/progress.js';
import { startCompressor } from '../archive/zstd.js';

export interface WrittenArchive {
  sizeBytes: number;
  sha256: string;
}

/**
 * pg_dump → zstd → age → SHA-256 → store, streamed end to end: memory stays flat and no
 * plaintext touches the disk. pg_dump's stdout feeds zstd directly (no copy through
 * Node); the store sees the end of the stream only after both processes exited cleanly,
 * so a killed pg_dump can never leave a complete-looking archive behind.
 */
export async function writeArchive(options: {
  dump: Child;
  store: BackupStore;
  key: string;
  keys: EncryptKeys;
  log: Log;
  /** Which part of a parallel backup this is, for the progress lines. */
  label?: string;
}): Promise<WrittenArchive> {
  const { dump, store, key, keys, log } = options;
  const stdout = dump.process.stdout;
  if (!stdout) throw new Error('pg_dump was started without a stdout pipe');
  const zstd = startCompressor(stdout);
  // zstd holds its own copy of the pipe now; ours would keep pg_dump's 'close' from firing.
  stdout.destroy();
  const hasher = new HashCounter();
  const meter = new ProgressMeter(
    log,
    `Backing up${options.label ? ` ${options.label}` : ''} (compressed, encrypted)`,
  );
  const body = new PassThrough();
  const children = () => Promise.all([dump.done, zstd.done]).then(() => undefined);
  const flowing = pipeline(
    zstd.process.stdout!,
    new EndGate(children),
    createEncryptStream(keys),
    hasher,
    meter,
    body,
  );
  const stored = store.put(key, body);
  try {
    await Promise.all([flowing, stored, children()]);
  } catch (error) {
    const alreadyExited = [dump, zstd].filter(
      (c) => c.process.exitCode !== null || c.process.signalCode !== null,
    );
    dump.kill();
    zstd.kill();
    body.destroy();
    await flowing.catch(() => undefined);
    // A store that failed says why (a full disk, a refused upload); the broken pipe it caused upstream does not.
    const storeError = await stored.then(
      () => undefined,
      (e: unknown) => e,
    );
    // A store may have finished just before a child's failure surfaced: never leave it.
    await store.delete(key).catch(() => undefined);
    throw await preferChildError(isLifeboatError(storeError) ? storeError : error, alreadyExited);
  } finally {
    meter.stop();
  }
  meter.report();
  return { sizeBytes: hasher.bytes, sha256: hasher.digest() };
}
