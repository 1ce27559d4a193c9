/**
 * A stand-in for the GitHub REST API on loopback, for tests of anything that
 * comments or files issues. Every request is checked against GitHub's published
 * OpenAPI description: an unknown route, a bad parameter or body is answered 422
 * (404 for a route) and recorded as a violation, and every answer is checked
 * against the response schema too, so the stand-in and the real API cannot drift.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  deniedPermission,
  errorBody,
  paginate,
  readBody,
  send,
  type Access,
  type Permissions,
} from './github-http.js';
import { githubOpenApi, type Operation } from './github-openapi.js';
import {
  FakeRepository,
  type Reply,
  type StoredComment,
  type StoredIssue,
  type StoredLabel,
} from './github-state.js';

export type { Access } from './github-http.js';

export interface GitHubServerOptions {
  owner?: string;
  repo?: string;
  token?: string;
  /** What the token may do, like a workflow's `permissions:` block. Default: write to both. */
  permissions?: { issues?: Access; pullRequests?: Access };
  /** The login that issues and comments made through the API belong to. */
  actor?: string;
  /** Clock for created/updated/closed timestamps. */
  now?: () => Date;
  /** False: neither `GET /user` nor GraphQL says who the token is (404), as on some servers. */
  identity?: boolean;
}

export interface RecordedCall {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  operationId?: string;
  status: number;
}

export interface Violation {
  /** `request`: the real API would reject or ignore it; `response`: the stand-in answered off-schema. */
  kind: 'route' | 'json' | 'request' | 'response' | 'unimplemented';
  method: string;
  path: string;
  operationId?: string;
  message: string;
}

export interface PullRequestSeed {
  title?: string;
  /** `owner/repo` of the head branch; another repository than the base makes the pull request a fork's. */
  headRepo?: string;
  headRef?: string;
  headSha?: string;
  labels?: string[];
}

export interface GitHubServer {
  url: string;
  token: string;
  repo: { owner: string; repo: string };
  /** What a workflow run would have in its environment. */
  env: Record<string, string>;
  /** Every request received, in order, with the operation it matched and the status answered. */
  calls(): RecordedCall[];
  /** Requests the real API would reject or ignore, and answers off its schema; tests expect none. */
  violations(): Violation[];
  /** Issues only; pull requests share the numbering but are left out. */
  issues(): StoredIssue[];
  comments(issueNumber?: number): StoredComment[];
  labels(): StoredLabel[];
  addIssue(seed: Partial<StoredIssue> & { title: string }): StoredIssue;
  addPullRequest(seed?: PullRequestSeed): StoredIssue;
  /** A comment a person (`user`) wrote in the browser, not through the token. */
  addComment(issueNumber: number, body: string, user: string): StoredComment;
  setPermissions(permissions: { issues?: Access; pullRequests?: Access }): void;
  /** Answer the next `times` requests with `status`, as GitHub does during an incident. */
  failNext(status: number, times?: number): void;
  stop(): Promise<void>;
}

export async function startGitHubServer(options: GitHubServerOptions = {}): Promise<GitHubServer> {
  const api = githubOpenApi();
  const owner = options.owner ?? 'acme';
  const repoName = options.repo ?? 'shop';
  const token = options.token ?? `ghs_stand_in_${Math.random().toString(36).slice(2)}`;
  const permissions: Permissions = { issues: 'write', pullRequests: 'write', ...options.permissions };
  const calls: RecordedCall[] = [];
  const violations: Violation[] = [];
  let failures = { status: 0, times: 0 };

  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const repository = new FakeRepository(api, {
    url: baseUrl,
    owner,
    repo: repoName,
    actor: options.actor ?? 'github-actions[bot]',
    now: options.now ?? (() => new Date()),
  });

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    void handle(req, res).catch((error: unknown) => {
      const message = `stand-in failure: ${String(error)}`;
      violations.push({ kind: 'unimplemented', method: req.method ?? '', path: req.url ?? '', message });
      send(res, 500, errorBody(500, message));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', baseUrl);
    const method = req.method ?? 'GET';
    const query = Object.fromEntries(url.searchParams);
    const text = await readBody(req);
    const call: RecordedCall = { method, path: url.pathname, query, body: undefined, status: 0 };
    calls.push(call);
    const violation = (kind: Violation['kind'], message: string): void => {
      violations.push({ kind, method, path: url.pathname, operationId: call.operationId, message });
    };
    const reply = (op: Operation | undefined, result: Reply, headers: Record<string, string> = {}): void => {
      let body = result.body;
      if (result.list && Array.isArray(body)) {
        const page = paginate(body, query, new URL(url.pathname, baseUrl));
        body = page.items;
        if (page.link) headers.link = page.link;
      }
      const problems = op ? api.checkResponse(op, result.status, body) : [];
      for (const message of problems) violation('response', message);
      call.status = result.status;
      send(res, result.status, body, headers);
    };

    try {
      call.body = text ? JSON.parse(text) : undefined;
    } catch {
      violation('json', 'request body is not JSON');
      return reply(undefined, { status: 400, body: errorBody(400, 'Problems parsing JSON') });
    }
    const silent = options.identity === false;
    if (method === 'POST' && url.pathname === '/graphql') {
      return silent ? reply(undefined, { status: 404, body: errorBody(404, 'Not Found') }) : graphql();
    }
    const op = api.match(method, url.pathname);
    if (!op) {
      violation('route', `no operation in the GitHub description for ${method} ${url.pathname}`);
      return reply(undefined, { status: 404, body: errorBody(404, 'Not Found') });
    }
    call.operationId = op.operationId;
    const docs = api.docsUrl(op.operationId);
    const problems = api.checkRequest(op, query, call.body);
    if (problems.length > 0) {
      for (const message of problems) violation('request', message);
      const errors = problems.map((message) => ({ code: 'invalid', message }));
      return reply(op, { status: 422, body: { ...errorBody(422, 'Validation Failed', docs), errors } });
    }
    const given = (req.headers.authorization ?? '').replace(/^(token|bearer)\s+/i, '');
    if (given !== token) {
      return reply(op, {
        status: 401,
        body: errorBody(401, given ? 'Bad credentials' : 'Requires authentication'),
      });
    }
    const denied = deniedPermission(op, permissions, repository.isPullRequestTarget(op.params));
    if (denied) {
      const body = errorBody(403, 'Resource not accessible by integration', docs);
      return reply(op, { status: 403, body }, { 'x-accepted-github-permissions': denied });
    }
    if (failures.times > 0) {
      failures.times -= 1;
      return reply(op, { status: failures.status, body: errorBody(failures.status, 'Server Error') });
    }
    if (op.operationId === 'users/get-authenticated')
      return reply(op, repository.authenticatedUser(op.operationId));
    const ours = `${op.params.owner}/${op.params.repo}`.toLowerCase() === repository.fullName.toLowerCase();
    const result = ours
      ? repository.handle(op.operationId, op.params, query, (call.body ?? {}) as Record<string, unknown>)
      : { status: 404, body: errorBody(404, 'Not Found', docs) };
    if (result.status === 501) {
      violation('unimplemented', `${op.operationId} is not implemented by the stand-in`);
    }
    reply(op, result);

    /** GraphQL, as far as anyone asks it: who the token is (`viewer`), which every token may ask. */
    function graphql(): void {
      const given = (req.headers.authorization ?? '').replace(/^(token|bearer)\s+/i, '');
      if (given !== token) return reply(undefined, { status: 401, body: errorBody(401, 'Bad credentials') });
      const query = String((call.body as { query?: unknown } | undefined)?.query ?? '');
      if (/^\s*(query\s*)?\{\s*viewer\s*\{\s*login\s*\}\s*\}\s*$/.test(query)) {
        return reply(undefined, { status: 200, body: { data: { viewer: { login: repository.actor } } } });
      }
      violation('unimplemented', `GraphQL query not implemented by the stand-in: ${query}`);
      reply(undefined, { status: 200, body: { errors: [{ message: 'not implemented by the stand-in' }] } });
    }
  }

  return {
    url: baseUrl,
    token,
    repo: { owner, repo: repoName },
    env: { GITHUB_API_URL: baseUrl, GITHUB_SERVER_URL: baseUrl, GITHUB_REPOSITORY: `${owner}/${repoName}` },
    calls: () => calls.map((c) => ({ ...c })),
    violations: () => [...violations],
    issues: () =>
      [...repository.issues.values()].filter((i) => !i.pull).map((i) => ({ ...i, labels: [...i.labels] })),
    comments: (issueNumber) =>
      [...repository.comments.values()]
        .filter((c) => issueNumber === undefined || c.issueNumber === issueNumber)
        .map((c) => ({ ...c })),
    labels: () => [...repository.labels.values()].map((l) => ({ ...l })),
    addIssue: (seed) => repository.addIssue(seed),
    addPullRequest: (seed = {}) =>
      repository.addIssue({
        title: seed.title ?? 'Change the schema',
        user: 'octocat',
        labels: seed.labels ?? [],
        pull: {
          headRepo: seed.headRepo ?? `${owner}/${repoName}`,
          headRef: seed.headRef ?? 'feature',
          headSha: seed.headSha ?? 'a'.repeat(40),
        },
      }),
    addComment: (issueNumber, body, user) => ({ ...repository.addComment(issueNumber, body, user) }),
    setPermissions: (next) => Object.assign(permissions, next),
    failNext: (status, times = 1) => {
      failures = { status, times };
    },
    stop: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}
