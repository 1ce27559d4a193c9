import type { MaskPlan } from './mask-plan.js';
import { byTable } from './mask-sql.js';

/** What a refresh did, as the job summary shows it. Pure. */
export interface RefreshReport {
  status: 'passed' | 'failed' | 'dry-run';
  backupId?: string;
  target: string;
  /** `swap` (fresh database, renamed in) or `in place` (one transaction), with why. */
  method?: string;
  plan?: MaskPlan;
  /** Rows of each masked table, as the backup counted them. */
  rows?: Map<string, number>;
  error?: string;
}

export interface MaskTotals {
  tables: number;
  columns: number;
  rows: number;
  truncated: number;
}

export function maskTotals(plan: MaskPlan, rows: Map<string, number>): MaskTotals {
  const tables = byTable(plan.columns);
  return {
    tables: tables.size,
    columns: plan.columns.length,
    rows: [...tables.keys()].reduce((sum, rel) => sum + (rows.get(rel) ?? 0), 0),
    truncated: plan.truncate.length,
  };
}

export function renderRefreshSummary(r: RefreshReport): string {
  const title = {
    passed: 'masked copy in place',
    failed: 'failed, nothing changed',
    'dry-run': 'dry run, nothing changed',
  }[r.status];
  const lines = [`### Lifeboat refresh: ${title}`, ''];
  lines.push(`Target: ${r.target}${r.backupId ? ` · backup ${r.backupId}` : ''}`);
  if (r.method) lines.push(`Method: ${r.method}`);
  if (r.plan && r.rows) {
    const t = maskTotals(r.plan, r.rows);
    lines.push(
      '',
      `Masked ${t.columns} ${t.columns === 1 ? 'column' : 'columns'} in ${t.tables} ${t.tables === 1 ? 'table' : 'tables'} (${t.rows} rows); emptied ${t.truncated} ${t.truncated === 1 ? 'table' : 'tables'}.`,
      '',
      '| Table | Column | Mask | Rows |',
      '| --- | --- | --- | ---: |',
    );
    for (const [rel, rules] of byTable(r.plan.columns)) {
      for (const c of rules)
        lines.push(
          `| ${c.schema}.${c.table} | ${[c.column, ...c.path].join('.')} | ${c.kind}${c.origin === 'default' ? ' (Supabase default)' : ''} | ${r.rows.get(rel) ?? '?'} |`,
        );
    }
    for (const t of r.plan.truncate) lines.push(`| ${t.schema}.${t.table} | (all) | truncate | 0 |`);
    if (r.plan.unmasked.length) {
      lines.push(
        '',
        `**Warning:** ${r.plan.unmasked.length} ${r.plan.unmasked.length === 1 ? 'column looks' : 'columns look'} personal but no rule covers ${r.plan.unmasked.length === 1 ? 'it' : 'them'} (add a rule, or \`keep\` to silence this):`,
        '',
        ...r.plan.unmasked.map((c) => `- \`${c}\``),
      );
    }
  }
  if (r.error) lines.push('', '```text', r.error, '```', '', 'The target was not changed.');
  return `${lines.join('\n')}\n`;
}
