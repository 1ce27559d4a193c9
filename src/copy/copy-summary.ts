import { formatBytes } from '../duration.js';
import type { SetCopy } from './copy-set.js';

export interface CopyReport {
  name: string;
  from: string;
  to: string;
  sets: SetCopy[];
  failed: { backupId: string; error: string }[];
}

/** The job summary of a copy: each backup set and what happened to it. */
export function renderCopySummary(report: CopyReport): string {
  const copied = report.sets.filter((s) => s.result === 'copied');
  const bytes = copied.reduce((sum, s) => sum + s.bytes, 0);
  const rows = [
    ...report.sets.map(
      (s) =>
        `| \`${s.backupId}\` | ${s.result === 'copied' ? `copied (${formatBytes(s.bytes)})` : 'already there'} |`,
    ),
    ...report.failed.map(
      (f) => `| \`${f.backupId}\` | **failed**: ${f.error.replace(/\|/g, '\\|').split('\n')[0]} |`,
    ),
  ];
  return [
    `### Lifeboat copy: ${report.failed.length ? 'failed' : 'done'}`,
    '',
    `Set \`${report.name}\` from ${report.from} to ${report.to}: ${copied.length} copied (${formatBytes(bytes)}), ${report.sets.length - copied.length} already there${report.failed.length ? `, ${report.failed.length} failed` : ''}. Every copied object was read back from the destination and matched its SHA-256.`,
    '',
    '| Backup | Result |',
    '| --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
