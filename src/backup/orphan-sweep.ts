import { findOrphans, type Orphan } from '../archive/orphans.js';
import { formatBytes, formatDuration } from '../duration.js';
import type { Log } from '../log.js';
import type { BackupStore } from '../stores/store.js';

export interface SweepResult {
  removed: Orphan[];
  /** Past the grace period but held by S3 Object Lock: kept, and said. */
  locked: Orphan[];
  /** Younger than the grace period: perhaps a backup still running, never touched. */
  young: Orphan[];
}

/**
 * Removes the orphans of a set older than `graceSeconds`, and says what it removed. Anything
 * younger may belong to a backup still running (its archive is written before its manifest)
 * and is left alone.
 */
export async function sweepOrphans(
  store: BackupStore,
  name: string,
  graceSeconds: number,
  log: Log,
  options: { dryRun?: boolean; now?: Date } = {},
): Promise<SweepResult> {
  const now = (options.now ?? new Date()).getTime();
  const result: SweepResult = { removed: [], locked: [], young: [] };
  for (const orphan of await findOrphans(store, name)) {
    const age = (now - orphan.since.getTime()) / 1000;
    if (age < graceSeconds) {
      result.young.push(orphan);
      continue;
    }
    const what = `${orphan.key} (${orphan.what}, ${describeSize(orphan)}, ${formatDuration(age)} old)`;
    const until = await orphan.lockedUntil?.();
    if (until) {
      log.info(`Kept the orphan ${what}: Object Lock holds it until ${until.toISOString()}.`);
      result.locked.push(orphan);
      continue;
    }
    if (options.dryRun) {
      log.info(`Would remove the orphan ${what}.`);
    } else {
      await orphan.remove();
      log.info(`Removed the orphan ${what}.`);
    }
    result.removed.push(orphan);
  }
  if (result.young.length > 0) {
    log.info(
      `Left ${result.young.length} incomplete object(s) younger than the grace period of ${formatDuration(graceSeconds)} alone (a backup may still be writing them).`,
    );
  }
  return result;
}

export function describeSize(orphan: Orphan): string {
  return orphan.sizeBytes === undefined ? 'size unknown' : formatBytes(orphan.sizeBytes);
}
