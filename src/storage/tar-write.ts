import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { createEncryptStream, type EncryptKeys } from '../archive/age/index.js';
import { EndGate, HashCounter } from '../archive/hash.js';
import { ProgressMeter } from '../archive/progress.js';
import { startCompressor } from '../archive/zstd.js';
import type { Log } from '../log.js';
import type { BackupStore } from '../stores/store.js';
import { memberName, type StorageObjectEntry } from './object-catalog.js';
import type { FetchedObject, ListedObject, StorageClient } from './storage-client.js';

/** Objects up to this size are fetched ahead whole; larger ones stream when their turn comes. */
const SMALL_OBJECT = 1024 * 1024;
/** How many objects are fetched ahead at once: at most this many small objects in memory. */
export const FETCH_WINDOW = 32;

export interface WrittenStorage {
  sizeBytes: number;
  sha256: string;
  objects: StorageObjectEntry[];
  /** Listed, then gone before they could be read: deleted during the backup. */
  vanished: ListedObject[];
}

/** A small object read whole, a large one left for its turn, or one gone since the listing. */
type Fetched = { object: FetchedObject; data?: Buffer } | 'later' | 'gone';

/**
 * Bucket objects → tar → zstd → age → SHA-256 → store, streamed. Objects go into the tar
 * one after another (tar has no other order), but up to FETCH_WINDOW small ones are fetched
 * ahead at once: with many small files (avatars) the round trips, not the bytes, set the pace.
 * Memory holds at most the window of small objects; a large one streams straight through.
 */
export async function writeStorageArchive(options: {
  client: StorageClient;
  objects: ListedObject[];
  store: BackupStore;
  key: string;
  keys: EncryptKeys;
  log: Log;
  /** Stops the archive between objects (the database dump beside it failed). */
  signal?: AbortSignal;
}): Promise<WrittenStorage> {
  const { client, objects, store, key, keys, log } = options;
  const pack = tar.pack();
  const zstd = startCompressor('pipe');
  const hasher = new HashCounter();
  const meter = new ProgressMeter(log, 'Backing up Storage objects (compressed, encrypted)');
  const body = new PassThrough();
  const feeding = pipeline(Readable.from(pack), zstd.process.stdin!);
  const flowing = pipeline(
    zstd.process.stdout!,
    new EndGate(() => zstd.done),
    createEncryptStream(keys),
    hasher,
    meter,
    body,
  );
  const stored = store.put(key, body);
  const written: StorageObjectEntry[] = [];
  const vanished: ListedObject[] = [];
  const fetch = async (o: ListedObject): Promise<Fetched> => {
    if (o.sizeBytes > SMALL_OBJECT) return 'later';
    const object = await client.get(o.bucket, o.key);
    if (!object) return 'gone';
    return { object, data: Buffer.concat(await object.body.toArray()) };
  };
  const produce = async () => {
    const ahead: Promise<Fetched>[] = [];
    for (let i = 0; i < Math.min(FETCH_WINDOW, objects.length); i++) ahead.push(guard(fetch(objects[i]!)));
    for (let i = 0; i < objects.length; i++) {
      options.signal?.throwIfAborted();
      const listed = objects[i]!;
      let got = await ahead.shift()!;
      if (i + FETCH_WINDOW < objects.length) ahead.push(guard(fetch(objects[i + FETCH_WINDOW]!)));
      if (got === 'later') {
        const object = await client.get(listed.bucket, listed.key);
        got = object ? { object } : 'gone';
      }
      if (got === 'gone') {
        vanished.push(listed);
        continue;
      }
      written.push(await addEntry(pack, listed, got));
    }
    pack.finalize();
  };
  try {
    await Promise.all([produce(), feeding, flowing, stored, zstd.done]);
  } catch (error) {
    pack.destroy(error as Error);
    zstd.kill();
    body.destroy();
    await Promise.allSettled([feeding, flowing, stored]);
    // A store may have finished just before the failure surfaced: never leave it.
    await store.delete(key).catch(() => undefined);
    throw error;
  } finally {
    meter.stop();
  }
  meter.report();
  return { sizeBytes: hasher.bytes, sha256: hasher.digest(), objects: written, vanished };
}

/** A fetch that fails is awaited only at its turn; until then its rejection is held, not unhandled. */
function guard(p: Promise<Fetched>): Promise<Fetched> {
  p.catch(() => undefined);
  return p;
}

/** One tar member, hashed as it passes; the size is what the GET answered, so a short body fails the tar. */
async function addEntry(
  pack: tar.Pack,
  listed: ListedObject,
  got: { object: FetchedObject; data?: Buffer },
): Promise<StorageObjectEntry> {
  const { object, data } = got;
  const size = data ? data.length : object.sizeBytes;
  const hash = createHash('sha256');
  let finished!: Promise<void>;
  const sink = await new Promise<tar.EntrySink>((resolve) => {
    finished = new Promise<void>((done, fail) => {
      resolve(
        pack.entry(
          {
            name: memberName(listed.bucket, listed.key),
            size,
            mode: 0o644,
            mtime: listed.modified ?? new Date(0),
            type: 'file',
          },
          (error) => (error ? fail(error) : done()),
        ),
      );
    });
  });
  const chunks: AsyncIterable<Buffer> | Buffer[] = data ? [data] : object.body;
  for await (const chunk of chunks) {
    hash.update(chunk);
    if (!sink.write(chunk)) await once(sink, 'drain');
  }
  sink.end();
  await finished;
  return {
    bucket: listed.bucket,
    key: listed.key,
    sizeBytes: size,
    sha256: hash.digest('hex'),
    ...(object.contentType ? { contentType: object.contentType } : {}),
    ...(object.cacheControl ? { cacheControl: object.cacheControl } : {}),
    metadata: object.metadata,
  };
}
