import { Markers } from '../settings/constants.js';
import { describeError } from '../errors.js';
import type { Log } from '../log.js';
import { githubContextFromEnv, GitHubPermissionError, upsertStickyComment } from '../github/index.js';
import type { PullRequestContext } from './pull-request.js';

export interface GateCommentOptions {
  pullRequest: PullRequestContext | undefined;
  token: string | undefined;
  env: NodeJS.ProcessEnv;
  /** The gate's report; the marker that finds the comment again is added here. */
  markdown: string;
  log: Log;
}

export type CommentOutcome =
  | { posted: true; url: string; created: boolean }
  | { posted: false; why: 'not-a-pull-request' | 'fork' | 'no-token' | 'permission' | 'error' };

/**
 * Keeps the gate's one sticky comment on the pull request up to date. The comment is a
 * courtesy next to the job summary, so nothing here fails the gate: a fork's read-only
 * token, a missing permission or a GitHub outage each leave a log line and the summary.
 */
export async function updateGateComment(options: GateCommentOptions): Promise<CommentOutcome> {
  const { pullRequest: pr, log } = options;
  if (!pr) return { posted: false, why: 'not-a-pull-request' };
  // Under pull_request a fork's token is read-only: asking would only earn a 403.
  if (pr.fromFork && pr.event === 'pull_request') {
    log.info(
      `Pull request #${pr.number} comes from a fork, whose workflow token cannot comment; the verdict is in the job summary.`,
    );
    return { posted: false, why: 'fork' };
  }
  const github = githubContextFromEnv(options.token, options.env);
  if (!github) {
    log.info('No `github-token` (or no GITHUB_REPOSITORY): the verdict is in the job summary only.');
    return { posted: false, why: 'no-token' };
  }
  try {
    const body = `${Markers.GateComment}\n${options.markdown}`;
    const { url, created } = await upsertStickyComment(github, pr.number, Markers.GateComment, body);
    log.info(`${created ? 'Commented' : 'Updated the comment'} on pull request #${pr.number}: ${url}`);
    return { posted: true, url, created };
  } catch (error) {
    if (error instanceof GitHubPermissionError) {
      log.info(`Not commenting on pull request #${pr.number}: ${describeError(error)}`);
      return { posted: false, why: 'permission' };
    }
    log.warning(`Could not comment on pull request #${pr.number}: ${describeError(error)}`);
    return { posted: false, why: 'error' };
  }
}
