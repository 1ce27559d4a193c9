import { createHash } from 'node:crypto';
import type { DecryptKeys } from '../archive/age/index.js';
import { LifeboatError } from '../errors.js';
import type { Log } from '../log.js';
import type { BackupStore } from '../stores/store.js';
import { memberName, someNames, type StorageObjectEntry } from './object-catalog.js';
import type { StorageClient } from './storage-client.js';
import { readStorageArchive } from './tar-read.js';

/** Objects up to this size are read whole and put a few at once; larger ones stream one by one. */
const SMALL_OBJECT = 1024 * 1024;
const PUTS_AT_ONCE = 16;

/**
 * Streams the Storage archive once and puts each chosen object back with its recorded
 * content type, cache control and metadata. Small objects go up several at once, so many
 * avatars do not wait on one round trip each; a large one streams from the archive
 * straight into its PUT. Every object's bytes are hashed on the way and must match the
 * catalog, or the restore fails naming them.
 */
export async function putBackObjects(options: {
  client: StorageClient;
  store: BackupStore;
  key: string;
  stored: { sha256: string; sizeBytes: number };
  keys: DecryptKeys;
  /** By member name (`bucket/key`): the objects to write. */
  objects: Map<string, StorageObjectEntry>;
  log: Log;
}): Promise<number> {
  const { client, objects } = options;
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  let written = 0;
  const start = (put: Promise<void>) => {
    const tracked = put.then(
      () => void inFlight.delete(tracked),
      (error: unknown) => {
        inFlight.delete(tracked);
        failure ??= error;
      },
    );
    inFlight.add(tracked);
  };
  const members = await readStorageArchive({
    store: options.store,
    key: options.key,
    sha256: options.stored.sha256,
    sizeBytes: options.stored.sizeBytes,
    keys: options.keys,
    log: options.log,
    label: 'Putting Storage objects back',
    each: (member) => {
      const entry = objects.get(memberName(member.bucket, member.key));
      if (!entry) return 'hash';
      const put = {
        bucket: entry.bucket,
        key: entry.key,
        sizeBytes: member.sizeBytes,
        contentType: entry.contentType,
        cacheControl: entry.cacheControl,
        metadata: entry.metadata,
      };
      return async (body) => {
        if (failure) throw failure;
        written++;
        if (member.sizeBytes > SMALL_OBJECT) return client.put({ ...put, body });
        const data = Buffer.concat(await body.toArray());
        // Read whole, a small object is checked before it is written; a large one after (see below).
        if (createHash('sha256').update(data).digest('hex') !== entry.sha256) return;
        while (inFlight.size >= PUTS_AT_ONCE) await Promise.race(inFlight);
        start(client.put({ ...put, body: data }));
      };
    },
  });
  await Promise.all(inFlight);
  if (failure) throw failure;
  const wrong = members.filter((m) => {
    const entry = objects.get(memberName(m.bucket, m.key));
    return entry && entry.sha256 !== m.sha256;
  });
  const found = new Set(members.map((m) => memberName(m.bucket, m.key)));
  const missing = [...objects.values()].filter((o) => !found.has(memberName(o.bucket, o.key)));
  if (wrong.length || missing.length)
    throw new LifeboatError(
      'integrity',
      `The Storage archive does not hold what its catalog recorded: ${[...wrong, ...missing].length} objects differ or are missing (${someNames([...wrong, ...missing])}).`,
      {
        hint: 'Use another backup. Small objects that did not match were not written; a large one may have been: the safety backup holds the buckets as they were.',
      },
    );
  return written;
}
