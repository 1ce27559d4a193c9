import { applyRetention, hasRules } from '../backup/index.js';
import type { Log } from '../log.js';
import type { RetentionRules } from '../settings/keep.js';
import type { BackupStore } from '../stores/store.js';

/**
 * `lifeboat prune [--dry-run]`: one store's retention on its own, as a backup applies it,
 * with the plan printed (every backup and the rule that keeps it, or "delete") and orphans
 * past the grace period swept. Without any rule it deletes no backup and sweeps orphans only.
 */
export async function pruneSet(
  store: BackupStore,
  name: string,
  options: { rules: RetentionRules; orphanGraceSeconds: number; dryRun: boolean; json: boolean },
  log: Log,
): Promise<void> {
  if (!hasRules(options.rules)) {
    log.info(
      'No retention rule given (--keep, --keep-daily, --keep-weekly, --keep-monthly, --keep-yearly): every backup is kept; only orphans are swept.',
    );
  }
  if (options.dryRun) log.info('Dry run: nothing is deleted.');
  const outcome = await applyRetention(store, name, options, log);
  if (options.json) {
    const plan = outcome.plan.map((p) => ({
      backupId: p.backupId,
      keptBy: p.keptBy,
      delete: outcome.deleted.includes(p.backupId),
      lockedUntil: outcome.locked.find((l) => l.backupId === p.backupId)?.until.toISOString() ?? null,
    }));
    const orphans = outcome.orphans.map((o) => ({
      key: o.key,
      what: o.what,
      sizeBytes: o.sizeBytes ?? null,
    }));
    const result = { store: store.location, name, dryRun: outcome.dryRun, plan, orphansRemoved: orphans };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  }
}
