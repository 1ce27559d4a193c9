import { errorsOf, warningsOf, type Check } from '../postgres/verify/checks.js';
import { formatBytes, formatDuration } from '../duration.js';
import { diffText, type TableDiff } from './copy-back.js';
import type { RestorePlan } from './plan.js';
import { confirmText, kindText, tableText } from './plan-text.js';

/** Everything the job summary of a restore shows: the plan, and what became of it. */
export interface RestoreReport {
  plan: RestorePlan;
  status: 'passed' | 'failed' | 'dry-run';
  store: string;
  safetyBackupId?: string;
  /** How to undo the restore with the safety backup, once there is one. */
  rollback?: string;
  /** The verification of a full restore: only differences. */
  checks: Check[];
  selective?: {
    sideSchema: string;
    /** How the rows reached the side schema. */
    method: string;
    tables: { table: string; side: string; diff: TableDiff | undefined }[];
    copyBack: string;
    review: { table: string; queries: { label: string; sql: string }[] }[];
  };
  error?: string;
  /** The restore failed before it could change anything. */
  unchanged?: boolean;
}

const TITLES = { passed: 'passed', failed: 'failed', 'dry-run': 'dry run, nothing changed' } as const;
const MAX_ROWS = 100;

export function renderRestoreSummary(report: RestoreReport): string {
  const { plan } = report;
  const b = plan.backup;
  const rows: [string, string][] = [
    [
      'Backup',
      `\`${b.id}\` of \`${b.name}\`, taken ${b.completedAt} (${formatDuration(b.ageSeconds)} ago), verified: ${b.level}; database ${b.database}, PostgreSQL ${b.serverVersion}, ${formatBytes(b.sizeBytes)}`,
    ],
    ['Target', `${plan.target.where} (PostgreSQL ${plan.target.serverVersion})`],
    ['Kind', kindText(plan)],
    ['Confirm', confirmText(plan)],
    ['Store', report.store],
  ];
  if (report.safetyBackupId) {
    rows.push(['Safety backup', `\`${report.safetyBackupId}\` in set \`${plan.safetyBackupName}\``]);
  }
  const out = [
    `### Lifeboat restore: ${TITLES[report.status]}`,
    '',
    '| | |',
    '| --- | --- |',
    ...rows.map(([k, v]) => `| ${k} | ${cell(v)} |`),
    '',
  ];
  if (report.error) out.push('**What went wrong**', '', fence('text', report.error), '');
  if (report.unchanged && plan.kind === 'full')
    out.push('The restore stopped before it changed anything.', '');
  if (report.rollback) out.push('**Rolling back**', '', fence('text', report.rollback), '');
  out.push('#### Plan', '', ...plan.steps.map((s, i) => `${i + 1}. ${s}`), '');
  out.push(...tableSection(plan));
  if (plan.objects.length) {
    out.push(`Also restored: ${plan.objects.map((o) => `${o.count} ${o.label}`).join(', ')}.`, '');
  }
  out.push(...listSection('What the restore changes besides rows', plan.differences));
  out.push(
    ...listSection(
      'In the target but not in the backup, dropped (the safety backup keeps them)',
      plan.drops.map((d) => d.label),
    ),
  );
  out.push(...listSection('In the target but not in the backup, kept', plan.leftInPlace));
  if (report.status !== 'dry-run' && plan.kind === 'full') out.push(...verificationSection(report.checks));
  if (report.selective) out.push(...selectiveSection(report.selective));
  return out.join('\n');
}

function tableSection(plan: RestorePlan): string[] {
  const shown = plan.tables.slice(0, MAX_ROWS);
  const more = plan.tables.length - shown.length;
  return [
    plan.kind === 'full' ? '#### Tables replaced' : '#### Tables restored',
    '',
    ...shown.map((t) => `- ${cell(tableText(plan, t))}`),
    ...(more > 0 ? [`- … and ${more} more`] : []),
    '',
  ];
}

function listSection(title: string, items: string[]): string[] {
  if (!items.length) return [];
  const shown = items.slice(0, MAX_ROWS).map((i) => `- ${cell(i)}`);
  if (items.length > MAX_ROWS) shown.push(`- … and ${items.length - MAX_ROWS} more`);
  return [`<details><summary>${title} (${items.length})</summary>`, '', ...shown, '', '</details>', ''];
}

function verificationSection(checks: Check[]): string[] {
  const errors = errorsOf(checks);
  const warnings = warningsOf(checks);
  const head =
    errors.length === 0
      ? `#### Verified: the target matches the backup's catalog${warnings.length ? ` (${warnings.length} warnings)` : ''}`
      : `#### Verification: ${errors.length} differences from the backup's catalog`;
  return [
    head,
    '',
    ...errors.slice(0, MAX_ROWS).map((c) => `- ❌ ${cell(c.message)}`),
    ...warnings.slice(0, MAX_ROWS).map((c) => `- ⚠️ ${cell(c.message)}`),
    '',
  ];
}

function selectiveSection(s: NonNullable<RestoreReport['selective']>): string[] {
  return [
    `#### Compared with the live tables`,
    '',
    s.method === 'scratch database'
      ? 'Loaded in a scratch database on the target server (dropped afterwards); only the rows reached the side schema.'
      : 'Rows read straight from the archive (the target-url user may not create a scratch database); column types from the live tables.',
    '',
    '| Table | Restored copy | Rows and differences |',
    '| --- | --- | --- |',
    ...s.tables.map((t) => `| ${cell(t.table)} | ${cell(t.side)} | ${cell(diffText(t.diff))} |`),
    '',
    '#### SQL to copy rows back (review it first; nothing has run)',
    '',
    fence('sql', s.copyBack),
    '',
    '<details><summary>Queries that list the differing rows</summary>',
    '',
    fence(
      'sql',
      s.review.flatMap((r) => r.queries.map((q) => `-- ${r.table}: ${q.label}\n${q.sql};`)).join('\n\n'),
    ),
    '',
    '</details>',
    '',
  ];
}

/** A table cell: no pipes or line breaks to break the row. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function fence(lang: string, text: string): string {
  const ticks = text.includes('```') ? '````' : '```';
  return `${ticks}${lang}\n${text}\n${ticks}`;
}
