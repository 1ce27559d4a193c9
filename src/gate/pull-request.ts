import { readFile } from 'node:fs/promises';
import { workflowEvent } from '../settings/environment.js';

/**
 * The pull request a workflow run is about, read from the event the runner hands over
 * (`GITHUB_EVENT_NAME` and the JSON payload at `GITHUB_EVENT_PATH`). The gate comments
 * only on pull requests; everywhere else (push, schedule, workflow_dispatch, the CLI)
 * the job summary is the whole report.
 */
export interface PullRequestContext {
  event: 'pull_request' | 'pull_request_target';
  number: number;
  /**
   * The head branch lives in another repository than the base. Under `pull_request`
   * such a run gets a read-only token, so a comment cannot be written; under
   * `pull_request_target` the token may write.
   */
  fromFork: boolean;
}

const PR_EVENTS = new Set(['pull_request', 'pull_request_target']);

interface RepoRef {
  full_name?: unknown;
}

interface Payload {
  number?: unknown;
  pull_request?: {
    number?: unknown;
    head?: { repo?: RepoRef | null };
    base?: { repo?: RepoRef | null };
  };
}

/** The pull request in an event payload, or undefined for other events and odd payloads. */
export function pullRequestFromEvent(
  eventName: string | undefined,
  payload: unknown,
): PullRequestContext | undefined {
  if (!eventName || !PR_EVENTS.has(eventName)) return undefined;
  const body = (payload ?? {}) as Payload;
  const pr = body.pull_request;
  const number = Number(pr?.number ?? body.number);
  if (!pr || !Number.isInteger(number) || number <= 0) return undefined;
  const head = fullName(pr.head?.repo);
  const base = fullName(pr.base?.repo);
  return {
    event: eventName as PullRequestContext['event'],
    number,
    // A deleted fork leaves head.repo null: it was someone else's repository, so treat it as a fork.
    fromFork: head === undefined || base === undefined || head !== base,
  };
}

function fullName(repo: RepoRef | null | undefined): string | undefined {
  return typeof repo?.full_name === 'string' ? repo.full_name.toLowerCase() : undefined;
}

/** Reads the runner's event file; undefined outside pull requests or when there is no file. */
export async function readPullRequestContext(
  env: NodeJS.ProcessEnv,
): Promise<PullRequestContext | undefined> {
  const { name, path: file } = workflowEvent(env);
  if (!name || !PR_EVENTS.has(name) || !file) return undefined;
  const text = await readFile(file, 'utf8');
  return pullRequestFromEvent(name, JSON.parse(text));
}
