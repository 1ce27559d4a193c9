import { TEMP_LIMIT_BYTES } from '../disk-usage.js';
import { errorsOf, warningsOf, type Check, type CheckKind } from '../postgres/verify/checks.js';
import type { DrillReport } from './report.js';
import { STEPS } from './steps.js';
import { formatBytes, formatDuration } from '../duration.js';

/**
 * The job summary of a drill: the verdict, the objectives, each step with its duration,
 * a table of what was checked, and every difference by name. Pure; the issue body
 * reuses it with a longer list.
 */
const KINDS: [CheckKind, string][] = [
  ['restore', 'Restore (pg_restore, stop on first error)'],
  ['table', 'Tables present, owners'],
  ['rows', 'Exact row counts'],
  ['content', 'Table contents (fingerprint)'],
  ['rls', 'RLS enabled / forced'],
  ['policy', 'Policies (command, roles, expressions)'],
  ['privilege', 'Privileges per grantee and object'],
  ['membership', 'Role memberships'],
  ['function', 'Functions (signature, body)'],
  ['trigger', 'Triggers'],
  ['view', 'Views and materialized views'],
  ['index', 'Indexes'],
  ['constraint', 'Constraints incl. foreign keys'],
  ['fk-orphans', 'Foreign keys without orphans'],
  ['sequence', 'Sequences'],
  ['sequence-max', 'Sequences ahead of their column'],
  ['extension', 'Extensions'],
  ['setting', 'Database settings'],
  ['schema', 'Schemas'],
  ['migration', 'Latest migration'],
  ['large-objects', 'Large objects'],
  ['verify-sql', 'verify-sql checks'],
  ['storage', 'Storage objects (SHA-256, storage.objects rows)'],
  ['skipped', 'Skipped by the profile'],
];

export function renderDrillSummary(report: DrillReport, options: { listLimit?: number } = {}): string {
  const limit = options.listLimit ?? 50;
  const passed = report.status === 'passed';
  const out = [`### ${passed ? '✅' : '❌'} Lifeboat restore drill ${report.status}: \`${report.name}\``, ''];
  out.push(describe(report), '');
  out.push('| Objective | Measured | Target | |', '| --- | ---: | ---: | --- |');
  out.push(objective('RTO (start → verified)', report.rtoSeconds, report.rtoTargetSeconds));
  out.push(objective('RPO (backup age at start)', report.rpoSeconds, report.rpoTargetSeconds));
  out.push(tempPeak(report.tempPeakBytes), '');
  if (report.failure) {
    out.push(`**Failed at “${report.failure.step}”:** ${report.failure.message}`);
    if (report.failure.hint) out.push('', `_Hint:_ ${report.failure.hint}`);
    out.push('');
  }
  out.push('#### Steps', '', '| Step | Duration | |', '| --- | ---: | --- |');
  for (const s of report.steps) {
    const mark = s.status === 'ok' ? '✅' : s.status === 'failed' ? '❌' : '⏭️ skipped';
    out.push(
      `| ${s.name} | ${s.status === 'skipped' ? '–' : seconds(s.seconds)} | ${mark} ${cell(s.detail ?? '')} |`,
    );
  }
  out.push('', '#### Checks', '', '| Check | Compared | Result |', '| --- | ---: | --- |');
  for (const [kind, label] of KINDS) {
    const mine = report.checks.filter((c) => c.kind === kind);
    const compared = report.compared[kind];
    if (compared === undefined && mine.length === 0) continue;
    out.push(`| ${label} | ${compared ?? '–'} | ${verdict(mine)} |`);
  }
  out.push('');
  // A step's failure is shown above with its hint; listing it again would only repeat it.
  const failed = errorsOf(report.checks).filter((c) => c.message !== report.failure?.message);
  out.push(...list('Failed checks', failed, limit));
  out.push(...list('Warnings', warningsOf(report.checks), limit));
  return out.join('\n');
}

function describe(r: DrillReport): string {
  const parts = [`Backup \`${r.backupId}\``];
  if (r.backup) {
    const size = r.backup.dumpBytes ? formatBytes(r.backup.dumpBytes) : formatBytes(r.backup.sizeBytes);
    parts.push(`(${size}, PostgreSQL ${r.backup.serverVersion}, completed ${r.backup.completedAt})`);
  }
  const where = `${r.target.server}${r.target.database ? `/${r.target.database}` : ''}`;
  // A drill that stopped before pg_restore finished restored nothing, whatever it meant to.
  const restored = r.steps.some((step) => step.name === STEPS.restore && step.status === 'ok');
  parts.push(restored ? `restored into ${where}` : `not restored (target ${where})`);
  if (r.target.serverVersion) parts.push(`(PostgreSQL ${r.target.serverVersion})`);
  if (r.profile.used)
    parts.push(`with profile \`${r.profile.used}\`${r.profile.reason ? ` (${r.profile.reason})` : ''}`);
  if (r.restore.pgRestore) parts.push(`using pg_restore ${r.restore.pgRestore} with ${r.restore.jobs} jobs`);
  const kept =
    r.target.kept && r.target.database ? ` The drill database \`${r.target.database}\` was kept.` : '';
  return `${parts.join(' ')}.${kept}`;
}

function objective(label: string, value: number | null, target: number | null): string {
  const measured = value === null ? '–' : formatDuration(value);
  const goal = target === null ? 'none set' : formatDuration(target);
  const mark =
    value === null || target === null
      ? ''
      : value <= target
        ? '✅'
        : `❌ over by ${formatDuration(value - target)}`;
  return `| ${label} | ${measured} | ${goal} | ${mark} |`;
}

/** Temporary disk beyond the restored database: the dump streams, so only small lists touch it. */
function tempPeak(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined)
    return `| Peak temporary disk | – | ≤ ${formatBytes(TEMP_LIMIT_BYTES)} | |`;
  const mark = bytes <= TEMP_LIMIT_BYTES ? '✅' : '❌';
  return `| Peak temporary disk | ${formatBytes(bytes)} | ≤ ${formatBytes(TEMP_LIMIT_BYTES)} | ${mark} |`;
}

function verdict(checks: Check[]): string {
  const errors = errorsOf(checks).length;
  const warnings = warningsOf(checks).length;
  if (errors === 0 && warnings === 0) return '✅';
  const parts = [
    errors && `❌ ${errors} failed`,
    warnings && `⚠️ ${warnings} warning${warnings === 1 ? '' : 's'}`,
  ];
  return parts.filter(Boolean).join(', ');
}

function list(title: string, checks: Check[], limit: number): string[] {
  if (checks.length === 0) return [];
  const lines = [`#### ${title} (${checks.length})`, ''];
  for (const c of checks.slice(0, limit)) {
    lines.push(`- ${cell(c.message)}${c.hint ? ` _${cell(c.hint)}_` : ''}`);
  }
  if (checks.length > limit) lines.push(`- … and ${checks.length - limit} more in the JSON report.`);
  lines.push('');
  return lines;
}

/** Table cells and list items must stay on one line, and a `|` would split the cell. */
function cell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
}

function seconds(value: number): string {
  return value < 60 ? `${value.toFixed(1)}s` : formatDuration(value);
}
