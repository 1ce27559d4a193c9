/**
 * The in-memory repository behind the GitHub stand-in: issues (pull requests are
 * issues too, sharing their numbers, as on GitHub), comments and labels, and the
 * handlers that read and change them. Bodies have passed the description's
 * schemas before they arrive here.
 */
import { errorBody } from './github-http.js';
import type { GitHubOpenApi } from './github-openapi.js';
import { GitHubShapes, type StoredComment, type StoredIssue, type StoredLabel } from './github-shapes.js';

export type { StoredComment, StoredIssue, StoredLabel } from './github-shapes.js';

export interface Reply {
  status: number;
  body?: unknown;
  /** Lists are paginated by the server from the whole result. */
  list?: boolean;
}

type Body = Record<string, unknown>;

// GitHub gives labels created implicitly (by naming them on an issue) this grey.
const DEFAULT_LABEL_COLOR = 'ededed';

export class FakeRepository {
  readonly issues = new Map<number, StoredIssue>();
  readonly comments = new Map<number, StoredComment>();
  /** By lower-cased name: GitHub compares label names case-insensitively. */
  readonly labels = new Map<string, StoredLabel>();
  readonly fullName: string;
  private readonly shapes: GitHubShapes;
  private nextId = 1000;

  constructor(
    private readonly api: GitHubOpenApi,
    private readonly where: { url: string; owner: string; repo: string; actor: string; now: () => Date },
  ) {
    this.fullName = `${where.owner}/${where.repo}`;
    this.shapes = new GitHubShapes(api, where.url, this.fullName);
  }

  addIssue(seed: Partial<StoredIssue> & { title: string }): StoredIssue {
    const now = this.timestamp();
    const issue: StoredIssue = {
      number: this.issues.size + 1,
      id: this.nextId++,
      body: null,
      state: 'open',
      stateReason: null,
      labels: [],
      user: this.where.actor,
      createdAt: now,
      updatedAt: now,
      closedAt: null,
      ...seed,
    };
    for (const name of issue.labels) this.label(name, true);
    this.issues.set(issue.number, issue);
    return issue;
  }

  /** A comment written by `user` (a person, say), not through the token. */
  addComment(issueNumber: number, body: string, user: string): StoredComment {
    const issue = this.issues.get(issueNumber);
    if (!issue) throw new Error(`no issue or pull request #${issueNumber}`);
    return Object.assign(this.createComment(issue, { body }), { user });
  }

  /**
   * `GET /user` as the token's owner: refused to an installation token (a `[bot]` actor),
   * as GitHub refuses the workflow's GITHUB_TOKEN, else the person's public profile.
   */
  authenticatedUser(operationId: string): Reply {
    const login = this.where.actor;
    if (login.endsWith('[bot]')) {
      return {
        status: 403,
        body: errorBody(403, 'Resource not accessible by integration', this.api.docsUrl(operationId)),
      };
    }
    const now = this.timestamp();
    const profile = { name: null, company: null, blog: '', location: null, email: null, hireable: null };
    const counts = { bio: null, public_repos: 0, public_gists: 0, followers: 0, following: 0 };
    const dates = { created_at: now, updated_at: now };
    return {
      status: 200,
      body: { ...this.shapes.user(login), user_view_type: 'public', ...profile, ...counts, ...dates },
    };
  }

  /** The login issues and comments made through the API belong to. */
  get actor(): string {
    return this.where.actor;
  }

  /** Whether a request's issue or comment belongs to a pull request (which widens who may write). */
  isPullRequestTarget(params: Record<string, string>): boolean {
    const number = params.issue_number ?? this.comments.get(Number(params.comment_id))?.issueNumber;
    return this.issues.get(Number(number))?.pull !== undefined;
  }

  handle(
    operationId: string,
    params: Record<string, string>,
    query: Record<string, string>,
    body: Body,
  ): Reply {
    const number = Number(params.issue_number ?? params.pull_number);
    const issue = this.issues.get(number);
    const comment = this.comments.get(Number(params.comment_id));
    const label = this.label(params.name ?? '', false);
    const found = (thing: unknown, status: number, json: () => unknown): Reply =>
      thing ? { status, body: json() } : this.notFound(operationId);
    switch (operationId) {
      case 'issues/list-for-repo':
        return { status: 200, list: true, body: this.listIssues(query).map((i) => this.issueJson(i)) };
      case 'issues/create':
        return { status: 201, body: this.issueJson(this.createIssue(body)) };
      case 'issues/get':
        return found(issue, 200, () => this.issueJson(issue!));
      case 'issues/update':
        return found(issue, 200, () => this.issueJson(this.updateIssue(issue!, body)));
      case 'issues/list-comments': {
        const list = [...this.comments.values()].filter((c) => c.issueNumber === number);
        return issue
          ? { status: 200, list: true, body: list.map((c) => this.shapes.comment(c)) }
          : this.notFound(operationId);
      }
      case 'issues/create-comment':
        return found(issue, 201, () => this.shapes.comment(this.createComment(issue!, body)));
      case 'issues/get-comment':
        return found(comment, 200, () => this.shapes.comment(comment!));
      case 'issues/update-comment':
        return found(comment, 200, () =>
          this.shapes.comment(
            Object.assign(comment!, { body: String(body.body), updatedAt: this.timestamp() }),
          ),
        );
      case 'issues/list-labels-for-repo':
        return { status: 200, list: true, body: [...this.labels.values()].map((l) => this.shapes.label(l)) };
      case 'issues/get-label':
        return found(label, 200, () => this.shapes.label(label!));
      case 'issues/create-label':
        return this.createLabel(operationId, body);
      case 'pulls/get':
        return found(issue?.pull, 200, () => this.shapes.pullRequest(issue!, this.labelsOf(issue!)));
      default:
        return { status: 501, body: { message: `${operationId} is not implemented by the GitHub stand-in` } };
    }
  }

  /** The label by name, created (GitHub's way when an issue names a missing one) when asked to. */
  private label(name: string, create: boolean): StoredLabel | undefined {
    const key = name.toLowerCase();
    if (create && !this.labels.has(key)) {
      this.labels.set(key, { id: this.nextId++, name, color: DEFAULT_LABEL_COLOR, description: null });
    }
    return this.labels.get(key);
  }

  private labelsOf(issue: StoredIssue): StoredLabel[] {
    return issue.labels.map((name) => this.label(name, true)!);
  }

  private issueJson(issue: StoredIssue): unknown {
    const comments = [...this.comments.values()].filter((c) => c.issueNumber === issue.number).length;
    return this.shapes.issue(issue, this.labelsOf(issue), comments);
  }

  private timestamp(): string {
    // GitHub's timestamps carry whole seconds.
    return this.where
      .now()
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z');
  }

  private listIssues(query: Record<string, string>): StoredIssue[] {
    const state = query.state ?? 'open';
    const wanted = (query.labels ?? '')
      .split(',')
      .map((l) => l.trim().toLowerCase())
      .filter(Boolean);
    const key = query.sort === 'updated' ? 'updatedAt' : 'createdAt';
    const sign = query.direction === 'asc' ? 1 : -1;
    return [...this.issues.values()]
      .filter((i) => state === 'all' || i.state === state)
      .filter((i) => wanted.every((w) => i.labels.some((l) => l.toLowerCase() === w)))
      .sort((a, b) => sign * (a[key].localeCompare(b[key]) || a.number - b.number));
  }

  private createIssue(body: Body): StoredIssue {
    const labels = labelNames(body.labels);
    return this.addIssue({
      title: String(body.title),
      body: (body.body as string | undefined) ?? null,
      labels,
    });
  }

  private updateIssue(issue: StoredIssue, body: Body): StoredIssue {
    const now = this.timestamp();
    if (body.title !== undefined && body.title !== null) issue.title = String(body.title);
    if (body.body !== undefined) issue.body = body.body as string | null;
    if (body.labels !== undefined) issue.labels = labelNames(body.labels);
    this.labelsOf(issue);
    if (body.state !== undefined && body.state !== issue.state) {
      issue.state = body.state as 'open' | 'closed';
      issue.closedAt = issue.state === 'closed' ? now : null;
      const reason = (body.state_reason as string | undefined) ?? 'completed';
      issue.stateReason = issue.state === 'closed' ? reason : 'reopened';
    }
    issue.updatedAt = now;
    return issue;
  }

  private createComment(issue: StoredIssue, body: Body): StoredComment {
    const now = this.timestamp();
    const id = this.nextId++;
    const comment = {
      id,
      issueNumber: issue.number,
      body: String(body.body),
      user: this.where.actor,
      createdAt: now,
      updatedAt: now,
    };
    this.comments.set(id, comment);
    issue.updatedAt = now;
    return comment;
  }

  private createLabel(operationId: string, body: Body): Reply {
    const name = String(body.name);
    const color = String(body.color ?? DEFAULT_LABEL_COLOR).replace(/^#/, '');
    const invalid = this.label(name, false)
      ? { field: 'name', code: 'already_exists' }
      : /^[0-9a-f]{6}$/i.test(color)
        ? undefined
        : { field: 'color', code: 'invalid' };
    if (invalid) {
      const docs = this.api.docsUrl(operationId);
      const errors = [{ resource: 'Label', ...invalid }];
      return { status: 422, body: { ...errorBody(422, 'Validation Failed', docs), errors } };
    }
    const label = this.label(name, true)!;
    Object.assign(label, { color, description: (body.description as string | undefined) ?? null });
    return { status: 201, body: this.shapes.label(label) };
  }

  private notFound(operationId: string): Reply {
    return { status: 404, body: errorBody(404, 'Not Found', this.api.docsUrl(operationId)) };
  }
}

function labelNames(labels: unknown): string[] {
  if (!Array.isArray(labels)) return [];
  return labels
    .map((l: unknown) => (typeof l === 'string' ? l : String((l as { name?: unknown }).name ?? '')))
    .filter(Boolean);
}
