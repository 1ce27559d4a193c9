/**
 * Where and as whom Lifeboat talks to the GitHub REST API, and how its failures
 * become `LifeboatError`s. A token without the permission a call needs is the
 * common case in a workflow, so it gets its own error that callers can catch,
 * report and carry on past.
 */
import type { getOctokit } from '@actions/github';
import { LifeboatError } from '../errors.js';
import { githubApiUrl, repositoryName } from '../settings/environment.js';

export interface GitHubContext {
  token: string;
  /** REST API root: https://api.github.com, or a GitHub Enterprise Server's /api/v3. */
  apiUrl: string;
  owner: string;
  repo: string;
}

/** The permission a workflow's `permissions:` block must grant, e.g. `issues: write`. */
export type GitHubPermission =
  'issues: write' | 'issues: read' | 'pull-requests: write' | 'pull-requests: read';

export class GitHubPermissionError extends LifeboatError {
  readonly permission: GitHubPermission;

  constructor(message: string, permission: GitHubPermission, cause?: unknown) {
    super('permission', message, { hint: permissionHint(permission), cause });
    this.name = 'GitHubPermissionError';
    this.permission = permission;
  }
}

function permissionHint(permission: GitHubPermission): string {
  const [scope, level] = permission.split(': ');
  const fork =
    scope === 'pull-requests'
      ? ' A workflow run for a pull request from a fork always gets a read-only token; use pull_request_target or skip the comment there.'
      : '';
  return `Grant it in the workflow: \`permissions:\` with \`${scope}: ${level}\` on the job (the default GITHUB_TOKEN is often read-only).${fork}`;
}

/**
 * The context for the repository a workflow runs in, or undefined when there is no token
 * or no repository to talk to (a local CLI run), so callers can skip GitHub reporting.
 */
export function githubContextFromEnv(
  token: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): GitHubContext | undefined {
  const repository = repositoryName(env);
  if (!token || !repository) return undefined;
  const [owner, repo, ...rest] = repository.split('/');
  if (!owner || !repo || rest.length > 0) {
    throw new LifeboatError('input', `GITHUB_REPOSITORY must look like owner/repo, got "${repository}"`, {
      hint: 'Leave GITHUB_REPOSITORY as the runner sets it, or set it to owner/repo when running the CLI.',
    });
  }
  const apiUrl = githubApiUrl(env);
  return { token, apiUrl, owner, repo };
}

export type Octokit = ReturnType<typeof getOctokit>;

const clients = new WeakMap<GitHubContext, Octokit>();
// Loaded on first use: most runs (a backup into a local store, say) never call GitHub,
// and the client's modules add tens of megabytes to the process and to its start.
let loadOctokit: Promise<typeof getOctokit> | undefined;
// Reads and edits are safe to repeat; a create is not (a lost answer would make a duplicate).
const RETRIED_METHODS = new Set(['GET', 'PATCH']);
const RETRY_DELAYS_MS = [500, 2000];

/** One client per context, reused for every call. */
export async function octokitFor(ctx: GitHubContext): Promise<Octokit> {
  let client = clients.get(ctx);
  if (!client) {
    loadOctokit ??= import('@actions/github').then((m) => m.getOctokit);
    client = (await loadOctokit)(ctx.token, { baseUrl: ctx.apiUrl, userAgent: 'lifeboat' });
    // @actions/github brings pagination but no retry plugin: ride out GitHub's brief 5xx bursts here.
    client.hook.wrap('request', async (request, options) => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await request(options);
        } catch (error) {
          const delay = RETRY_DELAYS_MS[attempt];
          const status = statusOf(error);
          const transient = status === undefined || status >= 500;
          if (delay === undefined || !transient || !RETRIED_METHODS.has(options.method)) throw error;
          await new Promise((resolve) => setTimeout(resolve, delay));
        }
      }
    });
    clients.set(ctx, client);
  }
  return client;
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}

function messageOf(error: unknown): string {
  const data = (error as { response?: { data?: { message?: unknown } } } | null)?.response?.data;
  if (typeof data?.message === 'string') return data.message;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs one API call and translates its failure: permission problems into
 * `GitHubPermissionError`, the rest into a `LifeboatError` that says what was being done.
 */
export async function callGitHub<T>(
  ctx: GitHubContext,
  what: string,
  permission: GitHubPermission,
  call: (octokit: Octokit) => Promise<T>,
): Promise<T> {
  try {
    return await call(await octokitFor(ctx));
  } catch (error) {
    throw translate(ctx, what, permission, error);
  }
}

function translate(ctx: GitHubContext, what: string, permission: GitHubPermission, error: unknown): Error {
  if (error instanceof LifeboatError) return error;
  const status = statusOf(error);
  const message = messageOf(error);
  const repo = `${ctx.owner}/${ctx.repo}`;
  // GitHub says "Resource not accessible by integration" (GITHUB_TOKEN, apps) or "... by personal access token".
  if (status === 403 && /not accessible|must have|permission/i.test(message)) {
    return new GitHubPermissionError(
      `Cannot ${what} in ${repo}: the token lacks ${permission} (${message})`,
      permission,
      error,
    );
  }
  if (status === 401) {
    return new LifeboatError('auth', `Cannot ${what} in ${repo}: GitHub rejected the token (${message})`, {
      hint: 'Pass a valid token as github-token; the default is the workflow GITHUB_TOKEN.',
      cause: error,
    });
  }
  if (status === 404) {
    return new LifeboatError('not-found', `Cannot ${what} in ${repo}: GitHub answered 404 (${message})`, {
      hint: 'Check that GITHUB_REPOSITORY names the repository and that the token can see it.',
      cause: error,
    });
  }
  const why = status === undefined ? message : `HTTP ${status}: ${message}`;
  return new LifeboatError('connection', `Cannot ${what} in ${repo} (${why})`, {
    hint: 'GitHub may be having trouble or rate-limiting the token; re-run the job later.',
    cause: error,
  });
}
