import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { decryptBytes, createDecryptStream } from '../archive/age/index.js';
import { HashCounter } from '../archive/hash.js';
import type { Manifest } from '../archive/manifest.js';
import { ProgressMeter } from '../archive/progress.js';
import { startDecompressor } from '../archive/zstd.js';
import type { DecryptKeys } from '../archive/readback.js';
import { formatBytes } from '../duration.js';
import { LifeboatError } from '../errors.js';
import type { Log } from '../log.js';
import type { CatalogSnapshot } from '../postgres/catalog.js';
import type { BackupStore } from '../stores/store.js';

export interface FetchedDump {
  sizeBytes: number;
  sha256: string;
  dumpBytes: number;
}

/**
 * store → SHA-256 → age → zstd → file, in one pass. zstd writes the file itself, so the
 * decompressed bytes (the bulk) never pass through Node. The hash is checked against the
 * manifest before anything is restored; age has already authenticated every chunk.
 */
export async function fetchDump(options: {
  store: BackupStore;
  manifest: Manifest;
  keys: DecryptKeys;
  file: string;
  log: Log;
  /** Stops the fetch early, its work no longer wanted. */
  signal?: AbortSignal;
}): Promise<FetchedDump> {
  const { manifest, log } = options;
  const key = manifest.archive.key;
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
    if (/No space left on device/i.test(zstd.stderr())) throw outOfSpace(options.file, manifest, error);
    throw error;
  } finally {
    meter.stop();
    await out.close();
  }
  const sha256 = hasher.digest();
  if (hasher.bytes !== manifest.archive.sizeBytes || sha256 !== manifest.archive.sha256) {
    throw new LifeboatError(
      'integrity',
      `The stored archive ${key} does not match its manifest: ${hasher.bytes} bytes with SHA-256 ${sha256}, the manifest says ${manifest.archive.sizeBytes} bytes with ${manifest.archive.sha256}.`,
      { hint: 'The store lost or altered bytes since the backup; use another backup and check the store.' },
    );
  }
  const { size } = await stat(options.file);
  log.info(
    `Fetched ${formatBytes(hasher.bytes)}; SHA-256 matches the manifest; dump is ${formatBytes(size)}.`,
  );
  return { sizeBytes: hasher.bytes, sha256, dumpBytes: size };
}

function outOfSpace(file: string, manifest: Manifest, cause: unknown): LifeboatError {
  const size = manifest.archive.dumpBytes === null ? '' : ` (${formatBytes(manifest.archive.dumpBytes)})`;
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
