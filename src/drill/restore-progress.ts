import type pg from 'pg';
import { formatBytes } from '../duration.js';
import type { Log } from '../log.js';

/**
 * pg_restore says nothing until it is done; the size of the database it fills is the
 * honest measure of progress, read every few seconds on the idle admin connection.
 */
export function watchRestore(
  admin: pg.ClientBase,
  database: string,
  log: Log,
  intervalMs = 5000,
): { stop(): Promise<number> } {
  const started = Date.now();
  let bytes = 0;
  let busy = false;
  const sample = async (final = false) => {
    if (busy && !final) return;
    busy = true;
    try {
      const { rows } = await admin.query('SELECT pg_database_size($1)::bigint AS size', [database]);
      bytes = Number((rows[0] as { size?: string } | undefined)?.size ?? bytes);
      const rate = bytes / Math.max((Date.now() - started) / 1000, 0.001);
      if (!final) log.progress(`Restoring: ${formatBytes(bytes)} in ${database} (${formatBytes(rate)}/s)`);
    } catch {
      // A sample missed is no reason to disturb the restore.
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void sample(), intervalMs);
  timer.unref();
  return {
    /** Stops sampling and reads the size once more: what the restore wrote in the end. */
    async stop() {
      clearInterval(timer);
      await sample(true);
      return bytes;
    },
  };
}
