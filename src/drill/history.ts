import { formatDuration } from '../duration.js';

/**
 * The history of restore drills, as each drill issue records it in its hidden data block,
 * rendered as a table and a Mermaid chart of RTO over time. Pure.
 */
export interface DrillRecord {
  /** GITHUB_RUN_ID of the workflow run; a re-run of the same run updates its issue. */
  runId: string | null;
  name: string;
  backupId: string;
  startedAt: string;
  status: 'passed' | 'failed';
  rtoSeconds: number | null;
  rpoSeconds: number | null;
  rtoTargetSeconds: number | null;
  /** Where the record came from, filled in when read back from an issue. */
  issue?: { number: number; url: string };
}

/** Accepts what an issue body held only when it has the shape we wrote; bodies can be edited by hand. */
export function asDrillRecord(data: unknown): DrillRecord | undefined {
  const d = data as Partial<DrillRecord> | null;
  if (!d || typeof d !== 'object') return undefined;
  const num = (v: unknown) => v === null || (typeof v === 'number' && Number.isFinite(v));
  if (typeof d.name !== 'string' || typeof d.backupId !== 'string' || typeof d.startedAt !== 'string')
    return undefined;
  if (d.status !== 'passed' && d.status !== 'failed') return undefined;
  if (!num(d.rtoSeconds) || !num(d.rpoSeconds) || !num(d.rtoTargetSeconds ?? null)) return undefined;
  return {
    runId: typeof d.runId === 'string' ? d.runId : null,
    name: d.name,
    backupId: d.backupId,
    startedAt: d.startedAt,
    status: d.status,
    rtoSeconds: d.rtoSeconds ?? null,
    rpoSeconds: d.rpoSeconds ?? null,
    rtoTargetSeconds: d.rtoTargetSeconds ?? null,
  };
}

/** Newest first in the table; the chart runs left to right in time. */
export function renderHistory(records: DrillRecord[], limit = 24): string {
  const sorted = [...records].sort((a, b) => a.startedAt.localeCompare(b.startedAt)).slice(-limit);
  if (sorted.length === 0) return '_No drills recorded yet._';
  const rows = [...sorted].reverse().map((r) => {
    const issue = r.issue ? `[#${r.issue.number}](${r.issue.url})` : 'this issue';
    return `| ${r.startedAt.slice(0, 10)} | ${r.status === 'passed' ? '✅ passed' : '❌ failed'} | ${time(r.rtoSeconds)} | ${time(r.rpoSeconds)} | \`${r.backupId}\` | ${issue} |`;
  });
  const older =
    records.length > sorted.length ? `\n\n_${records.length - sorted.length} older drills not shown._` : '';
  const table = [
    '| Date | Result | RTO | RPO | Backup | Issue |',
    '| --- | --- | ---: | ---: | --- | --- |',
    ...rows,
  ];
  return `${table.join('\n')}${older}\n\n${renderRtoChart(sorted)}`;
}

/** A Mermaid `xychart-beta` of RTO per drill, with the target as a second line when one is set. */
export function renderRtoChart(records: DrillRecord[]): string {
  const points = records.filter((r) => r.rtoSeconds !== null);
  if (points.length === 0)
    return '_No drill has reached a verified restore yet, so there is no RTO to chart._';
  const targets = points.map((r) => r.rtoTargetSeconds);
  const top = Math.max(...points.map((r) => r.rtoSeconds!), ...targets.map((t) => t ?? 0));
  // Minutes read better once drills take longer than a few minutes.
  const [unit, divisor] = top >= 600 ? ['minutes', 60] : ['seconds', 1];
  const value = (s: number) => String(Math.round((s / divisor) * 10) / 10);
  const labels = uniqueLabels(points.map((r) => r.startedAt.slice(0, 10)));
  const lines = [
    '```mermaid',
    'xychart-beta',
    `  title "RTO per drill (${unit})"`,
    `  x-axis [${labels.map((l) => `"${l}"`).join(', ')}]`,
    `  y-axis "RTO (${unit})" 0 --> ${value(Math.max(top * 1.1, divisor))}`,
    `  bar [${points.map((r) => value(r.rtoSeconds!)).join(', ')}]`,
  ];
  if (targets.every((t) => t !== null)) lines.push(`  line [${targets.map((t) => value(t!)).join(', ')}]`);
  lines.push('```');
  return lines.join('\n');
}

/** Two drills on one day would share an axis label; number the repeats. */
function uniqueLabels(labels: string[]): string[] {
  const seen = new Map<string, number>();
  return labels.map((label) => {
    const n = (seen.get(label) ?? 0) + 1;
    seen.set(label, n);
    return n === 1 ? label : `${label} (${n})`;
  });
}

function time(seconds: number | null): string {
  if (seconds === null) return '–';
  return seconds < 60 ? `${seconds.toFixed(1)}s` : formatDuration(seconds);
}
