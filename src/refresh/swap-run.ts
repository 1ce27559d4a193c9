import { onInterrupt } from '../interrupt.js';
import type { Log } from '../log.js';
import type { PgTarget } from '../postgres/connection.js';
import { createScratch, dropDatabase, dropLeftovers, openAdmin, scratchName, swapIn } from './swap.js';

/**
 * Builds the masked copy in a scratch database (`build` restores and masks it) and swaps it
 * in for the target. Any failure, or a signal, before the swap drops the scratch database
 * and leaves the target as it was; a kill that allows no cleanup leaves a scratch database
 * the next refresh of the same target drops.
 */
export async function guardedSwap(
  target: PgTarget,
  missing: boolean,
  log: Log,
  build: (scratch: string) => Promise<void>,
): Promise<void> {
  const admin = await openAdmin(target);
  try {
    await dropLeftovers(admin, target.database, log);
    const scratch = scratchName(target.database);
    await createScratch(admin, target.database, scratch);
    log.info(`Building the masked copy in ${scratch}; ${target.database} keeps serving until the swap.`);
    const release = onInterrupt(() =>
      openAdmin(target).then((a) => dropDatabase(a, scratch).finally(() => a.end())),
    );
    try {
      await build(scratch);
    } catch (error) {
      await dropDatabase(admin, scratch).catch((e: unknown) =>
        log.warning(`Could not drop ${scratch}: ${(e as Error).message}; the next refresh drops it.`),
      );
      throw error;
    } finally {
      release();
    }
    await swapIn(admin, target.database, scratch, log, missing);
    log.info(`Swapped the masked copy in as ${target.database}.`);
  } finally {
    await admin.end().catch(() => undefined);
  }
}
