import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * The bound on temporary disk a drill or restore may use beyond the restored database.
 * The dump streams from the store into pg_restore; only `--use-list` files (a line per
 * archive entry) are written, so this holds whatever the database's size.
 */
export const TEMP_LIMIT_BYTES = 64 * 1024 * 1024;

/** Bytes of every file under `dir`, now; 0 for a directory that is gone. */
export async function usedBytes(dir: string): Promise<number> {
  let total = 0;
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const info = await stat(path.join(entry.parentPath, entry.name)).catch(() => undefined);
    // Allocated blocks, not the apparent size: a sparse file takes no room.
    total += info ? Math.max(info.size, info.blocks * 512) : 0;
  }
  return total;
}

/**
 * Watches the high-water mark of `dir`'s size by sampling it every `intervalMs` until
 * `stop`, which samples once more and returns the peak. Measured, not estimated: anything a
 * tool writes there shows.
 */
export function watchDiskUsage(dir: string, intervalMs = 200): { stop(): Promise<number> } {
  let peak = 0;
  let sampling: Promise<void> = Promise.resolve();
  const sample = () => {
    sampling = sampling.then(async () => {
      peak = Math.max(peak, await usedBytes(dir));
    });
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      sample();
      await sampling;
      return peak;
    },
  };
}
