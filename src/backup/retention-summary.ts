import { formatBytes } from '../duration.js';
import type { Orphan } from '../archive/orphans.js';
import type { PlannedBackup } from './retention.js';

export interface RetentionOutcome {
  name: string;
  plan: PlannedBackup[];
  /** Deleted (or, in a dry run, to be deleted). */
  deleted: string[];
  /** The plan deletes them, but S3 Object Lock retains them until then: kept, and said. */
  locked: { backupId: string; until: Date }[];
  orphans: Orphan[];
  dryRun: boolean;
}

/** What happens to one backup, in words: the rules that keep it, or its deletion. */
function verdict(outcome: RetentionOutcome, backupId: string, keptBy: string[], ruled: boolean): string {
  const locked = outcome.locked.find((l) => l.backupId === backupId);
  if (locked) return `locked until ${locked.until.toISOString()} (no rule keeps it; Object Lock does)`;
  if (keptBy.length > 0) return `kept by ${keptBy.join(', ')}`;
  if (!ruled) return 'kept (no retention rule)';
  return outcome.dryRun ? 'delete (dry run: not deleted)' : 'delete';
}

/** The plan as log lines: every backup of the set, newest first. */
export function renderPlanLines(outcome: RetentionOutcome, ruled: boolean): string[] {
  const { name, plan } = outcome;
  if (plan.length === 0) return [`Retention: no backups of "${name}".`];
  const verb = outcome.dryRun ? 'would delete' : 'deleted';
  return [
    `Retention of "${name}": ${plan.length} backup(s), ${verb} ${outcome.deleted.length}` +
      (outcome.locked.length ? `, ${outcome.locked.length} locked` : '') +
      '.',
    ...plan.map((p) => `  ${p.backupId}  ${verdict(outcome, p.backupId, p.keptBy, ruled)}`),
  ];
}

/** The plan in the job summary: a table of every backup and what keeps or deletes it. */
export function renderRetentionSummary(outcome: RetentionOutcome, ruled: boolean): string {
  const rows = outcome.plan.map(
    (p) =>
      `| \`${p.backupId}\` | ${p.createdAt.toISOString()} | ${verdict(outcome, p.backupId, p.keptBy, ruled)} |`,
  );
  const orphans = outcome.orphans.map(
    (o) =>
      `- ${outcome.dryRun ? 'would remove' : 'removed'} \`${o.key}\` (${o.what}, ${o.sizeBytes === undefined ? 'size unknown' : formatBytes(o.sizeBytes)})`,
  );
  return [
    `### Retention of \`${outcome.name}\``,
    '',
    '| Backup | Taken (UTC) | Retention |',
    '| --- | --- | --- |',
    ...rows,
    ...(orphans.length ? ['', 'Orphans past the grace period:', ...orphans] : []),
    '',
  ].join('\n');
}
