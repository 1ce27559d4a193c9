/** The sticky deploy-gate comment and the pull request facts the gate reads. */
import { callGitHub, type GitHubContext } from './rest.js';
import { rememberIdentity, tokenIdentity } from './identity.js';

/**
 * Keeps one comment on an issue or pull request, found again by `marker` (a hidden HTML
 * comment): created the first time, edited in place afterwards, so re-runs never pile up.
 * Only a comment the token's own identity wrote is ever edited: anyone can paste the
 * marker into a comment of theirs, and the gate must not rewrite a person's words.
 * (Should GitHub not say who the token is, only a bot's comment is taken for ours.)
 */
export async function upsertStickyComment(
  ctx: GitHubContext,
  issueNumber: number,
  marker: string,
  body: string,
): Promise<{ url: string; created: boolean }> {
  const text = body.includes(marker) ? body : `${marker}\n${body}`;
  const comments = await callGitHub(
    ctx,
    `read the comments on #${issueNumber}`,
    'pull-requests: read',
    (octokit) =>
      octokit.paginate(octokit.rest.issues.listComments, {
        owner: ctx.owner,
        repo: ctx.repo,
        issue_number: issueNumber,
        per_page: 100,
      }),
  );
  const marked = comments.filter((c) => c.body?.includes(marker));
  const self = marked.length > 0 ? await tokenIdentity(ctx) : undefined;
  // When GitHub would not say who the token is, a bot's comment may be ours, a person's never is.
  const ours = (c: (typeof marked)[number]) =>
    self === undefined ? c.user?.type === 'Bot' : c.user?.login === self;
  const existing = marked.find(ours);
  if (existing?.body === text) return { url: existing.html_url, created: false };
  const url = await callGitHub(ctx, `comment on #${issueNumber}`, 'pull-requests: write', async (octokit) => {
    const target = { owner: ctx.owner, repo: ctx.repo, body: text };
    const { data } = existing
      ? await octokit.rest.issues.updateComment({ ...target, comment_id: existing.id })
      : await octokit.rest.issues.createComment({ ...target, issue_number: issueNumber });
    // Who wrote it is who the token is: the next run need not ask.
    if (data.user?.login) rememberIdentity(ctx, data.user.login);
    return data.html_url;
  });
  return { url, created: !existing };
}

export interface PullRequestInfo {
  number: number;
  /** `owner/repo` the head branch lives in; undefined when that repository was deleted. */
  headRepo: string | undefined;
  headSha: string;
  /** From another repository than the base: its workflow token is read-only and secrets are withheld. */
  fromFork: boolean;
}

export async function getPullRequest(ctx: GitHubContext, number: number): Promise<PullRequestInfo> {
  const { data } = await callGitHub(ctx, `read pull request #${number}`, 'pull-requests: read', (octokit) =>
    octokit.rest.pulls.get({ owner: ctx.owner, repo: ctx.repo, pull_number: number }),
  );
  // The description calls head.repo required, but GitHub sends null once a fork is deleted.
  const head = (data.head.repo as { full_name: string } | null) ?? undefined;
  return {
    number: data.number,
    headRepo: head?.full_name,
    headSha: data.head.sha,
    fromFork: head === undefined || head.full_name.toLowerCase() !== data.base.repo.full_name.toLowerCase(),
  };
}
