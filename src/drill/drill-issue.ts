import { Labels, Markers } from '../settings/constants.js';
import type { DrillReport } from './report.js';
import {
  addComment,
  createIssue,
  embedData,
  ensureLabels,
  extractData,
  listIssuesByLabel,
  updateIssue,
  type GitHubContext,
  type IssueSummary,
} from '../github/index.js';
import { renderDrillSummary } from './drill-summary.js';
import { asDrillRecord, renderHistory, type DrillRecord } from './history.js';

/**
 * One issue per drill run, found again through the hidden data block it carries:
 *  - a re-run of the same workflow run (same GITHUB_RUN_ID) updates its issue;
 *  - a passed drill comments on every other open drill issue of the set and closes it;
 *  - a failed drill stays open, labelled drill-failed, until a later drill passes.
 * The history table and RTO chart are rebuilt from those blocks every time.
 */
const LABELS = [
  { name: Labels.Drill, color: '1d76db', description: 'Lifeboat restore drill' },
  { name: Labels.DrillFailed, color: 'd73a4a', description: 'A Lifeboat restore drill failed' },
];

// GitHub refuses issue bodies over 65,536 characters.
const MAX_BODY = 60_000;

export interface DrillIssueResult {
  url: string;
  number: number;
  created: boolean;
  closed: number[];
}

/** `mask` scrubs secrets from everything sent: an issue leaves by another door than the log. */
export async function publishDrillIssue(
  gh: GitHubContext,
  report: DrillReport,
  mask: (text: string) => string = (text) => text,
): Promise<DrillIssueResult> {
  await ensureLabels(gh, LABELS);
  const previous = (await listIssuesByLabel(gh, Labels.Drill, 'all'))
    .map((issue) => ({ issue, record: asDrillRecord(extractData(Markers.DrillData, issue.body)) }))
    .filter((p): p is { issue: IssueSummary; record: DrillRecord } => p.record?.name === report.name);
  const record = drillRecord(report);
  const mine = record.runId ? previous.find((p) => p.record.runId === record.runId) : undefined;
  const history = [
    ...previous
      .filter((p) => p !== mine)
      .map((p) => ({ ...p.record, issue: { number: p.issue.number, url: p.issue.url } })),
    record,
  ];
  const body = mask(renderIssueBody(report, record, history));
  const title = mask(issueTitle(report));
  const failed = report.status === 'failed';
  let issue: IssueSummary;
  if (mine) {
    // Keep whatever labels people added; only ours follow the result.
    const others = mine.issue.labels.filter((l) => l !== Labels.Drill && l !== Labels.DrillFailed);
    const labels = [Labels.Drill, ...(failed ? [Labels.DrillFailed] : []), ...others];
    issue = await updateIssue(gh, mine.issue.number, { title, body, labels });
  } else {
    issue = await createIssue(gh, {
      title,
      body,
      labels: [Labels.Drill, ...(failed ? [Labels.DrillFailed] : [])],
    });
  }
  const closed: number[] = [];
  if (!failed) {
    for (const p of previous) {
      if (p === mine || p.issue.state !== 'open') continue;
      const text =
        p.record.status === 'failed'
          ? `The restore drill passed again in #${issue.number} (${issue.url}). Closing this failure.`
          : `Superseded by the restore drill in #${issue.number} (${issue.url}).`;
      await addComment(gh, p.issue.number, mask(text));
      await updateIssue(gh, p.issue.number, { state: 'closed', stateReason: 'completed' });
      closed.push(p.issue.number);
    }
  }
  return { url: issue.url, number: issue.number, created: !mine, closed };
}

export function issueTitle(report: DrillReport): string {
  return `Restore drill ${report.startedAt.slice(0, 10)} · ${report.name} · ${report.status}`;
}

export function drillRecord(report: DrillReport): DrillRecord {
  return {
    runId: report.run.id,
    name: report.name,
    backupId: report.backupId,
    startedAt: report.startedAt,
    status: report.status,
    rtoSeconds: report.rtoSeconds,
    rpoSeconds: report.rpoSeconds,
    rtoTargetSeconds: report.rtoTargetSeconds,
  };
}

/** The summary with every failed check (as many as fit), the history, and the hidden block. */
export function renderIssueBody(report: DrillReport, record: DrillRecord, history: DrillRecord[]): string {
  const tail = [
    '',
    `#### History of \`${report.name}\` drills`,
    '',
    renderHistory(history),
    '',
    report.run.url ? `_Workflow run: ${report.run.url}_` : '',
    '',
    embedData(Markers.DrillData, record),
    '',
  ].join('\n');
  for (const listLimit of [10_000, 500, 100, 20]) {
    const body = `${renderDrillSummary(report, { listLimit })}\n${tail}`;
    if (body.length <= MAX_BODY) return body;
  }
  return `${renderDrillSummary(report, { listLimit: 5 }).slice(0, MAX_BODY - tail.length - 2)}…\n${tail}`;
}
