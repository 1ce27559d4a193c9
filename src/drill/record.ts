import { isBackupId } from '../archive/backup-id.js';
import { writeDrillRecord, type StoredDrillRecord } from '../archive/drill-record.js';
import { describeError } from '../errors.js';
import type { Log } from '../log.js';
import { errorsOf } from '../postgres/verify/checks.js';
import type { BackupStore } from '../stores/store.js';
import { LIFEBOAT_VERSION } from '../version.js';
import type { DrillReport } from './report.js';

/** The store's copy of a drill's result: the report without anything named after the data. */
export function storedRecordOf(report: DrillReport): StoredDrillRecord {
  return {
    format: 'lifeboat-drill-record',
    formatVersion: 1,
    name: report.name,
    backupId: report.backupId,
    status: report.status,
    startedAt: report.startedAt,
    finishedAt: report.finishedAt,
    rtoSeconds: report.rtoSeconds,
    rpoSeconds: report.rpoSeconds,
    rtoTargetSeconds: report.rtoTargetSeconds,
    rpoTargetSeconds: report.rpoTargetSeconds,
    failedStep: report.failure?.step ?? null,
    failedChecks: errorsOf(report.checks).length,
    lifeboatVersion: LIFEBOAT_VERSION,
    runUrl: report.run.url,
  };
}

/**
 * Records the drill in the store, passed or failed, so the watch sees it without GitHub. A
 * drill that never found its backup has no backup to record beside. Writing is reporting:
 * trouble is a warning, never the drill's verdict.
 */
export async function recordDrill(report: DrillReport, store: BackupStore, log: Log): Promise<void> {
  if (!isBackupId(report.backupId)) return;
  try {
    const key = await writeDrillRecord(store, storedRecordOf(report));
    log.info(`Drill result recorded in the store as ${key}.`);
  } catch (error) {
    log.warning(`The drill result was not recorded in the store: ${describeError(error)}`);
  }
}
