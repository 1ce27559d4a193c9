import { formatBytes, formatDuration } from '../duration.js';
import type { PlannedTable, RestorePlan } from './plan.js';

/**
 * The plan as plain lines for a log: what a person at a terminal reads before anything
 * happens. The job summary renders the same plan as markdown (report/restore-summary.ts).
 */
export function renderPlanText(plan: RestorePlan): string[] {
  const b = plan.backup;
  const lines = [
    plan.dryRun ? 'Restore plan (dry run: nothing will be changed)' : 'Restore plan',
    `  Backup:  ${b.id} of "${b.name}", taken ${b.completedAt} (${formatDuration(b.ageSeconds)} ago), verified: ${b.level}`,
    `           of database ${b.database} on PostgreSQL ${b.serverVersion}, ${formatBytes(b.sizeBytes)} stored`,
    `  Target:  ${plan.target.where} (PostgreSQL ${plan.target.serverVersion})`,
    `  Kind:    ${kindText(plan)}`,
    `  Confirm: ${confirmText(plan)}`,
    '  Steps:',
    ...plan.steps.map((s, i) => `    ${i + 1}. ${s}`),
    plan.kind === 'full'
      ? '  Tables (rows in the backup; rows in the target now, which are replaced):'
      : '  Tables:',
    ...plan.tables.map((t) => `    ${tableText(plan, t)}`),
  ];
  if (plan.objects.length) {
    lines.push(`  Also restored: ${plan.objects.map((o) => `${o.count} ${o.label}`).join(', ')}.`);
  }
  if (plan.differences.length) {
    lines.push(`  What the restore changes besides rows (${plan.differences.length}):`);
    lines.push(...plan.differences.slice(0, 50).map((d) => `    - ${d}`));
    if (plan.differences.length > 50) lines.push(`    … and ${plan.differences.length - 50} more`);
  } else if (plan.kind === 'full') {
    lines.push('  Besides rows, the target has the same objects as the backup.');
  }
  if (plan.drops.length) {
    lines.push(
      `  In the target but not in the backup, dropped (the safety backup keeps them) (${plan.drops.length}):`,
    );
    lines.push(...plan.drops.map((d) => `    - ${d.label}`));
  }
  if (plan.leftInPlace.length) {
    lines.push(`  In the target but not in the backup, kept: ${plan.leftInPlace.join('; ')}.`);
  }
  return lines;
}

export function kindText(plan: RestorePlan): string {
  if (plan.kind === 'selective') {
    return `selective: ${plan.tables.length === 1 ? 'one table' : `${plan.tables.length} tables`} into the new schema "${plan.sideSchema}"; live tables are not touched`;
  }
  if (plan.emptyTarget)
    return `full, into ${plan.target.database}, which is empty: every object in the backup is created`;
  return `full: every object in the backup is dropped and recreated in ${plan.target.database}, after a safety backup named "${plan.safetyBackupName}"`;
}

export function confirmText(plan: RestorePlan): string {
  const needed = `confirm: ${plan.confirm.needed}`;
  if (plan.dryRun) {
    if (!plan.confirm.given) return `the real run needs \`${needed}\``;
    return plan.confirm.matches
      ? `\`${needed}\` given; the real run will go ahead`
      : `"${plan.confirm.given}" given, which the real run would refuse: it needs \`${needed}\``;
  }
  return plan.confirm.given
    ? `\`${needed}\` given`
    : `type \`${plan.confirm.needed}\` at the prompt to go ahead`;
}

export function tableText(plan: RestorePlan, t: PlannedTable): string {
  const name = `${t.schema}.${t.name}`;
  const backup =
    t.backupRows == null ? 'rows not counted' : `${t.backupRows} ${t.backupRows === 1 ? 'row' : 'rows'}`;
  const live = !t.liveExists
    ? 'not in the target'
    : t.liveRows == null
      ? 'in the target'
      : `${t.liveRows} in the target`;
  if (plan.kind === 'selective') {
    return `${name}: ${backup} → ${plan.sideSchema}.${t.sideName} (live table: ${live})`;
  }
  return `${name}: ${backup} (${live}${delta(t)})`;
}

function delta(t: PlannedTable): string {
  if (t.backupRows == null || t.liveRows == null) return '';
  const d = t.backupRows - t.liveRows;
  if (d === 0) return ', same count';
  return d > 0 ? `, ${d} more after the restore` : `, ${-d} fewer after the restore`;
}
