import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { decryptBytes, createDecryptStream } from './age/index.js';
import { HashCounter } from './hash.js';
import { archiveKeyOf, checkManifestKeys, generationOf } from './store-keys.js';
import { storedArchives, type Manifest, type StoredArchive } from './manifest.js';
import { ProgressMeter } from './progress.js';
import { startDecompressor } from './zstd.js';
import type { DecryptKeys } from '../archive/age/index.js';
import { formatBytes } from '../duration.js';
import { pool } from '../pool.js';
import { isLifeboatError, LifeboatError } from '../errors.js';
import type { Log } from '../log.js';
import type { CatalogSnapshot } from '../postgres/catalog.js';
import type { BackupStore } from '../stores/store.js';

export interface FetchedDump {
  sizeBytes: number;
  sha256: string;
  dumpBytes: number;
}

/** A decrypted archive on disk: part 1 is the main archive, 2…N the data parts. */
export interface FetchedPart extends FetchedDump {
  part: number;
  file: string;
}

/** How many archives of a parallel backup are fetched at once. */
const FETCH_CONCURRENCY = 4;

/**
 * Fetches the archives of a backup, each to its own file: `file` for the main one,
 * `file.part-K` for part K. `parts` picks some, in ascending order (1 is the main
 * archive); default all. Results come in the same order.
 */
export async function fetchDumps(options: {
  store: BackupStore;
  manifest: Manifest;
  keys: DecryptKeys;
  file: string;
  log: Log;
  signal?: AbortSignal;
  parts?: number[];
}): Promise<FetchedPart[]> {
  const archives = storedArchives(options.manifest);
  const wanted = options.parts ?? archives.map((_, i) => i + 1);
  // A failure stops the others (their work is no longer wanted) and is the one reported,
  // not the abort it caused in a sibling.
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  let first: { error: unknown } | undefined;
  return pool(
    FETCH_CONCURRENCY,
    wanted.map((part) => async (): Promise<FetchedPart> => {
      const file = part === 1 ? options.file : `${options.file}.part-${part}`;
      try {
        const got = await fetchDump({ ...options, archive: archives[part - 1]!, file, signal });
        return { ...got, part, file };
      } catch (error) {
        first ??= { error };
        stop.abort();
        throw first.error;
      }
    }),
  );
}

/**
 * store → SHA-256 → age → zstd → file, in one pass. zstd writes the file itself, so the
 * decompressed bytes (the bulk) never pass through Node. The hash is checked against the
 * manifest before anything is restored; age has already authenticated every chunk.
 */
export async function fetchDump(options: {
  store: BackupStore;
  manifest: Manifest;
  /** Which stored archive; the main one unless given. */
  archive?: StoredArchive;
  keys: DecryptKeys;
  file: string;
  log: Log;
  /** Stops the fetch early, its work no longer wanted. */
  signal?: AbortSignal;
}): Promise<FetchedDump> {
  const { log, manifest } = options;
  const archive = options.archive ?? manifest.archive;
  // Read from the key derived from the set name, backup id and part number, never from
  // the manifest's own field: a forged one could name another backup's archive.
  checkManifestKeys(manifest, `of backup ${manifest.name}/${manifest.backupId}`);
  const part = storedArchives(manifest).indexOf(archive) + 1;
  if (part === 0)
    throw new LifeboatError('internal', `${archive.key} is not an archive of backup ${manifest.backupId}.`);
  const key = archiveKeyOf(manifest.name, manifest.backupId, part, generationOf(manifest));
  const source = await options.store.get(key);
  const hasher = new HashCounter();
  const meter = new ProgressMeter(log, `Fetching ${key}`);
  const out = await open(options.file, 'wx', 0o600);
  const zstd = startDecompressor(out.fd);
  try {
    await Promise.all([
      pipeline(source, hasher, meter, createDecryptStream(options.keys), zstd.process.stdin!, {
        signal: options.signal,
      }),
      zstd.done,
    ]);
  } catch (error) {
    zstd.kill();
    source.destroy();
    if (/No space left on device/i.test(zstd.stderr())) throw outOfSpace(options.file, archive, error);
    // A backup may be several archives: say which one failed to decrypt.
    if (isLifeboatError(error, 'integrity') && !error.message.includes(key)) {
      throw new LifeboatError('integrity', `Reading ${key}: ${error.message}`, {
        hint: error.hint,
        cause: error,
      });
    }
    throw error;
  } finally {
    meter.stop();
    await out.close();
  }
  const sha256 = hasher.digest();
  if (hasher.bytes !== archive.sizeBytes || sha256 !== archive.sha256) {
    throw new LifeboatError(
      'integrity',
      `The stored archive ${key} does not match its manifest: ${hasher.bytes} bytes with SHA-256 ${sha256}, the manifest says ${archive.sizeBytes} bytes with ${archive.sha256}.`,
      { hint: 'The store lost or altered bytes since the backup; use another backup and check the store.' },
    );
  }
  const { size } = await stat(options.file);
  log.info(
    `Fetched ${formatBytes(hasher.bytes)}; SHA-256 matches the manifest; dump is ${formatBytes(size)}.`,
  );
  return { sizeBytes: hasher.bytes, sha256, dumpBytes: size };
}

function outOfSpace(file: string, archive: StoredArchive, cause: unknown): LifeboatError {
  const size = archive.dumpBytes === null ? '' : ` (${formatBytes(archive.dumpBytes)})`;
  return new LifeboatError(
    'disk',
    `The temporary directory ${path.dirname(file)} ran out of space while decompressing the dump${size}.`,
    {
      hint: 'Free space on the runner or point RUNNER_TEMP at a larger disk: the uncompressed dump must fit there while pg_restore reads it.',
      cause,
    },
  );
}

/** The catalog snapshot the backup recorded, decrypted from the manifest. */
export async function readExpectedCatalog(manifest: Manifest, keys: DecryptKeys): Promise<CatalogSnapshot> {
  const plain = await decryptBytes(Buffer.from(manifest.catalog, 'base64'), keys);
  try {
    return JSON.parse(plain.toString('utf8')) as CatalogSnapshot;
  } catch (error) {
    throw new LifeboatError(
      'integrity',
      `The catalog snapshot in the manifest of ${manifest.backupId} is not JSON.`,
      {
        hint: 'The manifest was written by another tool or damaged; use another backup.',
        cause: error,
      },
    );
  }
}
