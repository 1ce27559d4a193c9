import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Log } from '../log.js';
import { tempRoot } from '../settings/environment.js';
import { LIFEBOAT_VERSION } from '../version.js';
import type { WatchCheck, WatchRules } from './watch-checks.js';

/** The watch's verdict as JSON for a workflow to upload, and as the job summary. */
export interface WatchReport {
  format: 'lifeboat-watch-report';
  formatVersion: 1;
  lifeboatVersion: string;
  checkedAt: string;
  healthy: boolean;
  store: string;
  names: string[];
  rules: WatchRules;
  checks: WatchCheck[];
  run: { url: string | null };
  issueUrl: string | null;
}

const ICON = { ok: '✅', warning: '⚠️', problem: '❌' } as const;

export function renderWatchSummary(report: WatchReport): string {
  const verdict = report.healthy
    ? `✅ **Healthy**: every watched set (${report.names.join(', ')}) has a fresh backup.`
    : `❌ **Unhealthy**: ${report.checks.filter((c) => c.severity === 'problem').length} problem(s) in ${report.store}.`;
  return [
    '### Lifeboat watch',
    '',
    verdict,
    '',
    '| | Set | Check | Reason |',
    '| --- | --- | --- | --- |',
    ...report.checks.map(
      (c) => `| ${ICON[c.severity]} | \`${c.name}\` | ${c.check} | ${c.reason.replace(/\|/g, '\\|')} |`,
    ),
    '',
  ].join('\n');
}

/** A private directory of its own (0700), the file created exclusively (0600), as the drill's report. */
export async function writeWatchReport(
  report: WatchReport,
  log: Log,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  const dir = await mkdtemp(path.join(tempRoot(env), 'lifeboat-report-'));
  try {
    await chmod(dir, 0o700);
    const file = path.join(dir, 'lifeboat-watch.json');
    await writeFile(file, `${log.mask(JSON.stringify(report, null, 2))}\n`, { flag: 'wx', mode: 0o600 });
    return file;
  } catch (error) {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    throw error;
  }
}

export function newReport(
  fields: Omit<WatchReport, 'format' | 'formatVersion' | 'lifeboatVersion'>,
): WatchReport {
  return { format: 'lifeboat-watch-report', formatVersion: 1, lifeboatVersion: LIFEBOAT_VERSION, ...fields };
}
