/**
 * The issue, comment and label calls the drill report needs, each one REST
 * operation (or one paginated listing) with its failure translated.
 */
import { callGitHub, type GitHubContext } from './rest.js';

export interface IssueSummary {
  number: number;
  title: string;
  body: string;
  state: 'open' | 'closed';
  /** The page a person opens (html_url). */
  url: string;
  labels: string[];
  createdAt: string;
  closedAt: string | null;
}

export interface LabelSpec {
  name: string;
  /** Six hex digits, without `#`. */
  color: string;
  description: string;
}

export interface IssueChanges {
  title?: string;
  body?: string;
  /** Replaces the issue's labels. */
  labels?: string[];
  state?: 'open' | 'closed';
  stateReason?: 'completed' | 'not_planned';
}

interface RawIssue {
  number: number;
  title: string;
  body?: string | null;
  state: string;
  html_url: string;
  labels: (string | { name?: string })[];
  created_at: string;
  closed_at: string | null;
  pull_request?: unknown;
}

function summarize(issue: RawIssue): IssueSummary {
  return {
    number: issue.number,
    title: issue.title,
    body: issue.body ?? '',
    state: issue.state === 'closed' ? 'closed' : 'open',
    url: issue.html_url,
    labels: issue.labels.map((l) => (typeof l === 'string' ? l : (l.name ?? ''))).filter(Boolean),
    createdAt: issue.created_at,
    closedAt: issue.closed_at,
  };
}

/** Every issue carrying `label`, newest first, across all pages; pull requests are left out. */
export async function listIssuesByLabel(
  ctx: GitHubContext,
  label: string,
  state: 'open' | 'closed' | 'all',
): Promise<IssueSummary[]> {
  const issues = await callGitHub(ctx, `list issues labelled ${label}`, 'issues: read', (octokit) =>
    octokit.paginate(octokit.rest.issues.listForRepo, {
      owner: ctx.owner,
      repo: ctx.repo,
      labels: label,
      state,
      sort: 'created',
      direction: 'desc',
      per_page: 100,
    }),
  );
  // The issues endpoint lists pull requests too; they are told apart by this field.
  return issues.filter((issue) => !issue.pull_request).map(summarize);
}

export async function createIssue(
  ctx: GitHubContext,
  issue: { title: string; body: string; labels: string[] },
): Promise<IssueSummary> {
  const { data } = await callGitHub(ctx, 'open an issue', 'issues: write', (octokit) =>
    octokit.rest.issues.create({ owner: ctx.owner, repo: ctx.repo, ...issue }),
  );
  return summarize(data);
}

export async function updateIssue(
  ctx: GitHubContext,
  number: number,
  changes: IssueChanges,
): Promise<IssueSummary> {
  const { stateReason, ...rest } = changes;
  const { data } = await callGitHub(ctx, `update issue #${number}`, 'issues: write', (octokit) =>
    octokit.rest.issues.update({
      owner: ctx.owner,
      repo: ctx.repo,
      issue_number: number,
      ...rest,
      ...(stateReason ? { state_reason: stateReason } : {}),
    }),
  );
  return summarize(data);
}

export async function addComment(
  ctx: GitHubContext,
  number: number,
  body: string,
): Promise<{ id: number; url: string }> {
  const { data } = await callGitHub(ctx, `comment on issue #${number}`, 'issues: write', (octokit) =>
    octokit.rest.issues.createComment({ owner: ctx.owner, repo: ctx.repo, issue_number: number, body }),
  );
  return { id: data.id, url: data.html_url };
}

/** Creates the labels the repository lacks; existing ones keep whatever colour their owners gave them. */
export async function ensureLabels(ctx: GitHubContext, labels: LabelSpec[]): Promise<void> {
  const existing = await callGitHub(ctx, 'list labels', 'issues: read', (octokit) =>
    octokit.paginate(octokit.rest.issues.listLabelsForRepo, {
      owner: ctx.owner,
      repo: ctx.repo,
      per_page: 100,
    }),
  );
  // Label names are case-insensitive on GitHub.
  const have = new Set(existing.map((l) => l.name.toLowerCase()));
  for (const label of labels) {
    if (have.has(label.name.toLowerCase())) continue;
    await callGitHub(ctx, `create label ${label.name}`, 'issues: write', async (octokit) => {
      try {
        await octokit.rest.issues.createLabel({ owner: ctx.owner, repo: ctx.repo, ...label });
      } catch (error) {
        // Another job created it between our listing and now: that is what we wanted.
        if (!isAlreadyExists(error)) throw error;
      }
    });
  }
}

function isAlreadyExists(error: unknown): boolean {
  const data = (error as { status?: number; response?: { data?: { errors?: { code?: string }[] } } }) ?? {};
  return data.status === 422 && (data.response?.data?.errors ?? []).some((e) => e.code === 'already_exists');
}
