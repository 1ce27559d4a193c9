import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { createDecryptStream, type DecryptKeys } from '../archive/age/index.js';
import { HashCounter } from '../archive/hash.js';
import { ProgressMeter } from '../archive/progress.js';
import { startDecompressor } from '../archive/zstd.js';
import { LifeboatError } from '../errors.js';
import type { Log } from '../log.js';
import type { BackupStore } from '../stores/store.js';

/** One object as the archive holds it. */
export interface ArchivedObject {
  bucket: string;
  key: string;
  sizeBytes: number;
  sha256: string;
}

/** What to do with one member: only hash it, or also hand its bytes to a consumer (an upload). */
export type MemberAction = 'hash' | ((body: Readable) => Promise<void>);

/**
 * Reads a stored Storage archive back, every byte: the stored bytes hash to the manifest's
 * SHA-256, every age chunk authenticates, zstd checks its frame checksum and the tar parses
 * to its end; each member is hashed. Nothing is written to disk. `each` may take a member's
 * bytes as they stream (restore puts them back into the bucket).
 */
export async function readStorageArchive(options: {
  store: BackupStore;
  key: string;
  sha256: string;
  sizeBytes: number;
  /** Without a key only the stored bytes are hashed (level `stored`), and no member is listed. */
  keys?: DecryptKeys;
  log: Log;
  label?: string;
  each?: (object: { bucket: string; key: string; sizeBytes: number }) => MemberAction;
}): Promise<ArchivedObject[]> {
  const { store, key, log } = options;
  const source = await store.get(key);
  const hasher = new HashCounter();
  const meter = new ProgressMeter(log, options.label ?? 'Reading back the Storage archive');
  if (!options.keys) {
    await pipeline(source, hasher, meter, new Writable({ write: (_c, _e, cb) => cb() })).finally(() =>
      meter.stop(),
    );
    checkStored(hasher, options);
    return [];
  }
  const zstd = startDecompressor('pipe');
  const extract = tar.extract();
  const feeding = pipeline(source, hasher, meter, createDecryptStream(options.keys), zstd.process.stdin!);
  const sink = toExtract(extract);
  const pumping = pipeline(zstd.process.stdout!, sink);
  const members: ArchivedObject[] = [];
  const reading = (async () => {
    for await (const entry of extract) {
      const name = entry.header.name;
      const slash = name.indexOf('/');
      if (entry.header.type !== 'file' || slash < 1) {
        throw new LifeboatError(
          'integrity',
          `The Storage archive ${key} holds "${name}", which is not an object Lifeboat wrote.`,
          {
            hint: 'The archive was written by another tool or altered; use another backup.',
          },
        );
      }
      const object = {
        bucket: name.slice(0, slash),
        key: name.slice(slash + 1),
        sizeBytes: entry.header.size,
      };
      const action = options.each?.(object) ?? 'hash';
      members.push({ ...object, sha256: await consume(entry, action) });
    }
  })();
  try {
    await Promise.all([feeding, pumping, reading, zstd.done]);
  } catch (error) {
    source.destroy();
    zstd.kill();
    extract.destroy(error as Error);
    sink.destroy(error as Error);
    await Promise.allSettled([feeding, pumping, reading]);
    throw error;
  } finally {
    meter.stop();
  }
  checkStored(hasher, options);
  return members;
}

function checkStored(
  hasher: HashCounter,
  expected: { key: string; sha256: string; sizeBytes: number },
): void {
  const digest = hasher.digest();
  if (hasher.bytes !== expected.sizeBytes || digest !== expected.sha256) {
    throw new LifeboatError(
      'integrity',
      `The stored Storage archive ${expected.key} does not match what was written: ${hasher.bytes} bytes with SHA-256 ${digest}, expected ${expected.sizeBytes} bytes with ${expected.sha256}.`,
      {
        hint: 'The store lost or altered bytes. Nothing was marked verified; check the store, and use or take another backup.',
      },
    );
  }
}

/** Hashes a member's bytes and, when asked, streams them to a consumer at its pace. */
async function consume(entry: tar.Entry, action: MemberAction): Promise<string> {
  const hash = createHash('sha256');
  if (action === 'hash') {
    for await (const chunk of entry) hash.update(chunk);
    return hash.digest('hex');
  }
  const body = new PassThrough();
  const taken = action(body);
  taken.catch(() => body.destroy());
  for await (const chunk of entry) {
    hash.update(chunk);
    if (!body.write(chunk)) await Promise.race([once(body, 'drain'), taken]);
  }
  body.end();
  await taken;
  return hash.digest('hex');
}

/** A Node writable in front of tar-stream's extractor, so `pipeline` carries back-pressure and errors. */
function toExtract(extract: tar.Extract): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (extract.write(chunk)) callback();
      else extract.once('drain', () => callback());
    },
    final(callback) {
      extract.end();
      callback();
    },
  });
}
