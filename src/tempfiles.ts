import { createWriteStream, rmSync, type WriteStream } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LifeboatError } from './errors.js';
import { onInterrupt } from './interrupt.js';
import { tempRoot } from './settings/environment.js';

/**
 * A private scratch directory (0700, files 0600) for the small files a restore needs (lists
 * of archive entries for pg_restore; the dump itself streams and never touches the disk). It is removed on every way out: the
 * caller's finally, process exit, and SIGINT/SIGTERM, which would otherwise skip finally.
 */
export interface PrivateTempDir {
  readonly path: string;
  /** A path inside the directory; the name must be a plain file name. */
  file(name: string): string;
  remove(): Promise<void>;
}

const live = new Set<string>();
let releaseOnSignal: (() => void) | undefined;

export async function createPrivateTempDir(
  prefix: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<PrivateTempDir> {
  const base = tempRoot(env);
  const dir = await mkdtemp(path.join(base, prefix));
  // mkdtemp already uses 0700; say so explicitly rather than trust the platform.
  await chmod(dir, 0o700);
  track(dir);
  return {
    path: dir,
    file(name) {
      if (name !== path.basename(name) || name === '.' || name === '..') {
        throw new Error(`Not a plain file name: ${name}`);
      }
      return path.join(dir, name);
    },
    async remove() {
      await rm(dir, { recursive: true, force: true, maxRetries: 3 });
      untrack(dir);
    },
  };
}

/** Creates a file only its owner can read; fails if it exists. */
export function privateWriteStream(file: string): WriteStream {
  return createWriteStream(file, { flags: 'wx', mode: 0o600 });
}

export async function writePrivateFile(file: string, data: string | Buffer): Promise<void> {
  try {
    await writeFile(file, data, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
    await rm(file, { force: true });
    throw new LifeboatError(
      'disk',
      `The temporary directory ${path.dirname(file)} ran out of space writing ${path.basename(file)} (${Buffer.byteLength(data)} bytes).`,
      {
        hint: 'Free space on the runner or point RUNNER_TEMP at a larger disk. The dump itself streams from the store and never touches it: Lifeboat needs only small files there (64 MiB at most).',
        cause: error,
      },
    );
  }
}

/**
 * Removes `path` (a file or directory) on process exit and on SIGINT/SIGTERM, unless the
 * returned function is called first, once the path was moved into place or removed.
 */
export function removeOnExit(path: string): () => void {
  track(path);
  return () => untrack(path);
}

function track(dir: string): void {
  if (live.size === 0) {
    process.on('exit', removeAllNow);
    releaseOnSignal = onInterrupt(async () => removeAllNow());
  }
  live.add(dir);
}

function untrack(dir: string): void {
  live.delete(dir);
  if (live.size === 0) unhook();
}

function unhook(): void {
  process.off('exit', removeAllNow);
  releaseOnSignal?.();
  releaseOnSignal = undefined;
}

/** Synchronous, because 'exit' and a dying process allow nothing else. */
function removeAllNow(): void {
  for (const dir of live) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  live.clear();
}
