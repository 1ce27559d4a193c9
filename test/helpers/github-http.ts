/**
 * The HTTP manners of the GitHub REST API that the stand-in copies: pagination
 * with a `Link` header, permission refusals the way a GITHUB_TOKEN gets them,
 * and JSON in and out.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Operation } from './github-openapi.js';

export type Access = 'write' | 'read' | 'none';
export interface Permissions {
  issues: Access;
  pullRequests: Access;
}

const LABEL_OPERATIONS = new Set(['issues/list-labels-for-repo', 'issues/get-label', 'issues/create-label']);

/**
 * The `x-accepted-github-permissions` value GitHub sends when the token lacks what an operation
 * needs, or undefined when it may go ahead. Reads need read, everything else write; comments
 * and edits on a pull request are allowed by either the issues or the pull requests permission.
 */
export function deniedPermission(
  op: Operation,
  granted: Permissions,
  onPullRequest: boolean,
): string | undefined {
  const level = op.method === 'get' ? 'read' : 'write';
  const enough = (access: Access): boolean => access === 'write' || (access === 'read' && level === 'read');
  if (op.operationId.startsWith('pulls/')) {
    return enough(granted.pullRequests) ? undefined : `pull_requests=${level}`;
  }
  const either = onPullRequest && !LABEL_OPERATIONS.has(op.operationId);
  if (enough(granted.issues) || (either && enough(granted.pullRequests))) return undefined;
  return either ? `issues=${level}; pull_requests=${level}` : `issues=${level}`;
}

/** One page of a list and GitHub's `Link` header for it (30 a page unless asked, at most 100). */
export function paginate(
  items: unknown[],
  query: Record<string, string>,
  self: URL,
): { items: unknown[]; link?: string } {
  const perPage = Math.min(Math.max(Number(query.per_page ?? 30), 1), 100);
  const page = Math.max(Number(query.page ?? 1), 1);
  const last = Math.max(Math.ceil(items.length / perPage), 1);
  const href = (n: number): string => {
    const url = new URL(self);
    for (const [k, v] of Object.entries({ ...query, page: String(n) })) url.searchParams.set(k, v);
    return `<${url.href}>`;
  };
  const rels: string[] = [];
  if (page > 1) rels.push(`${href(page - 1)}; rel="prev"`);
  if (page < last) rels.push(`${href(page + 1)}; rel="next"`, `${href(last)}; rel="last"`);
  if (page > 1) rels.push(`${href(1)}; rel="first"`);
  const slice = items.slice((page - 1) * perPage, page * perPage);
  return { items: slice, link: rels.length > 0 ? rels.join(', ') : undefined };
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(body === undefined ? '' : JSON.stringify(body));
}

/** GitHub's error body: a message, the operation's documentation page, the status as a string. */
export function errorBody(
  status: number,
  message: string,
  docs = 'https://docs.github.com/rest',
): Record<string, unknown> {
  return { message, documentation_url: docs, status: String(status) };
}
