import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isLifeboatError, LifeboatError } from '../errors.js';
import type { Log } from '../log.js';
import type { BackupStore } from '../stores/store.js';
import { EndGate, HashCounter } from './hash.js';
import { ProgressMeter } from './progress.js';

/** What a stored object must be: its exact size and SHA-256, as the manifest records them. */
export interface Expected {
  sizeBytes: number;
  sha256: string;
}

/**
 * Copies one object from one store to another, byte for byte, and proves it arrived: the
 * source's bytes are hashed on the way and the destination only finalizes the object when
 * they match `expected` (a damaged source never becomes a complete-looking copy), then the
 * copy is read back from the destination, every byte, and hashed again. A copy that does
 * not match is deleted and the error says which store altered it.
 *
 * `overwrite`: the caller knows nothing refers to the key yet (no manifest names it), so a
 * leftover of an interrupted copy may be replaced.
 */
export async function copyObject(options: {
  from: BackupStore;
  to: BackupStore;
  key: string;
  expected: Expected;
  log: Log;
  overwrite?: boolean;
}): Promise<void> {
  const { from, to, key, expected, log } = options;
  const hasher = new HashCounter();
  const meter = new ProgressMeter(log, `Copying ${key}`);
  try {
    const source = await from.get(key);
    const body = new EndGate(async () => {
      const problem = mismatch(hasher, expected);
      if (problem) throw damaged(key, from, problem, 'source');
    });
    await Promise.all([
      pipeline(source, hasher, meter, body),
      to.put(key, body, { overwrite: options.overwrite }),
    ]);
  } catch (error) {
    // Never leave part of a copy under the key (a store that finished just before the failure).
    await to.delete(key).catch(() => undefined);
    throw error;
  } finally {
    meter.stop();
  }
  await verifyObject(to, key, expected, log).catch(async (error: unknown) => {
    await to.delete(key).catch(() => undefined);
    throw error;
  });
}

/** Reads a stored object back, every byte, and requires the size and SHA-256 `expected`. */
export async function verifyObject(
  store: BackupStore,
  key: string,
  expected: Expected,
  log: Log,
): Promise<void> {
  const hasher = new HashCounter();
  const meter = new ProgressMeter(log, `Reading back ${key}`);
  try {
    const source = await store.get(key).catch((error: unknown) => {
      if (!isLifeboatError(error, 'not-found')) throw error;
      throw damaged(key, store, 'nothing is there', 'destination');
    });
    await pipeline(source, hasher, meter, sink());
  } finally {
    meter.stop();
  }
  const problem = mismatch(hasher, expected);
  if (problem) throw damaged(key, store, problem, 'destination');
}

function mismatch(hasher: HashCounter, expected: Expected): string | undefined {
  const digest = hasher.digest();
  if (hasher.bytes === expected.sizeBytes && digest === expected.sha256) return undefined;
  return `${hasher.bytes} bytes with SHA-256 ${digest}, the manifest says ${expected.sizeBytes} bytes with ${expected.sha256}`;
}

function damaged(key: string, store: BackupStore, problem: string, side: 'source' | 'destination') {
  return new LifeboatError(
    'integrity',
    `${key} in ${store.location} does not match its manifest: ${problem}.`,
    {
      hint:
        side === 'source'
          ? 'The backup in the source store is damaged: nothing of it was copied. Copy another backup, and check the source store.'
          : 'The destination store lost or altered bytes it acknowledged; the copy was removed. Check the destination store and run the copy again.',
    },
  );
}

function sink(): Writable {
  return new Writable({ write: (_chunk, _enc, cb) => cb() });
}
