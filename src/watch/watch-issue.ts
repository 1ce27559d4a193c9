import { Labels, Markers } from '../settings/constants.js';
import {
  addComment,
  createIssue,
  embedData,
  ensureLabels,
  listIssuesByLabel,
  updateIssue,
  type GitHubContext,
} from '../github/index.js';
import type { WatchCheck } from './watch-checks.js';

/**
 * One tracking issue per repository, labelled lifeboat-watch: opened when the watch finds a
 * problem, updated in place while problems last (a closed one is reopened: never a second
 * issue), closed with a comment once every watched set is healthy again.
 */
const LABEL = { name: Labels.Watch, color: 'b60205', description: 'Lifeboat watch: backups need attention' };

export const WATCH_ISSUE_TITLE = 'Lifeboat watch: backups need attention';

export type WatchIssueOutcome =
  { action: 'opened' | 'updated' | 'reopened' | 'closed'; number: number; url: string } | { action: 'none' };

export async function trackWatchIssue(
  gh: GitHubContext,
  checks: WatchCheck[],
  runUrl: string | undefined,
  mask: (text: string) => string,
): Promise<WatchIssueOutcome> {
  const healthy = !checks.some((c) => c.severity === 'problem');
  await ensureLabels(gh, [LABEL]);
  // Newest first: the one issue, or the newest if people filed more by hand.
  const issues = await listIssuesByLabel(gh, Labels.Watch, 'all');
  const open = issues.find((i) => i.state === 'open');
  if (healthy) {
    if (!open) return { action: 'none' };
    const run = runUrl ? ` (${runUrl})` : '';
    await addComment(gh, open.number, mask(`Every watched backup set is healthy again${run}. Closing.`));
    const closed = await updateIssue(gh, open.number, { state: 'closed', stateReason: 'completed' });
    return { action: 'closed', number: closed.number, url: closed.url };
  }
  const body = mask(renderIssueBody(checks, runUrl));
  const existing = open ?? issues[0];
  if (existing) {
    const issue = await updateIssue(gh, existing.number, { title: WATCH_ISSUE_TITLE, body, state: 'open' });
    return { action: open ? 'updated' : 'reopened', number: issue.number, url: issue.url };
  }
  const issue = await createIssue(gh, { title: WATCH_ISSUE_TITLE, body, labels: [Labels.Watch] });
  return { action: 'opened', number: issue.number, url: issue.url };
}

export function renderIssueBody(checks: WatchCheck[], runUrl: string | undefined): string {
  const problems = checks.filter((c) => c.severity !== 'ok');
  const rows = problems.map((c) => `| \`${c.name}\` | ${c.check} | ${c.severity} | ${cell(c.reason)} |`);
  return [
    'The Lifeboat watch found backups that need attention. This issue is updated by every watch run and closed when all is well again.',
    '',
    '| Set | Check | Severity | Reason |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
    `_Last checked ${new Date().toISOString()}${runUrl ? ` by ${runUrl}` : ''}._`,
    '',
    embedData(Markers.WatchData, {
      problems: problems.map(({ name, check, reason }) => ({ name, check, reason })),
    }),
    '',
  ].join('\n');
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}
