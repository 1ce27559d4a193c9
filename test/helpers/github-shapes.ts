/**
 * The stand-in's records in the REST API's JSON shapes (issue, issue-comment,
 * label, simple-user, pull-request), with URLs on the stand-in's own origin.
 * The server checks every one against the description's response schema.
 */
import type { GitHubOpenApi } from './github-openapi.js';

export interface StoredIssue {
  number: number;
  id: number;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  stateReason: string | null;
  labels: string[];
  user: string;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  /** Set for pull requests: the head repository's full name, the branch and the commit. */
  pull?: { headRepo: string; headRef: string; headSha: string };
}

export interface StoredComment {
  id: number;
  issueNumber: number;
  body: string;
  user: string;
  createdAt: string;
  updatedAt: string;
}

export interface StoredLabel {
  id: number;
  name: string;
  color: string;
  description: string | null;
}

type JsonObject = Record<string, unknown>;

export class GitHubShapes {
  constructor(
    private readonly api: GitHubOpenApi,
    private readonly url: string,
    private readonly fullName: string,
  ) {}

  private get apiRepo(): string {
    return `${this.url}/repos/${this.fullName}`;
  }

  user(login: string): JsonObject {
    const url = `${this.url}/users/${encodeURIComponent(login)}`;
    return {
      login,
      id: [...login].reduce((sum, c) => (sum * 31 + c.charCodeAt(0)) % 1e8, 7),
      node_id: `U_${login}`,
      avatar_url: `${this.url}/avatars/${encodeURIComponent(login)}`,
      gravatar_id: '',
      url,
      html_url: `${this.url}/${encodeURIComponent(login)}`,
      followers_url: `${url}/followers`,
      following_url: `${url}/following{/other_user}`,
      gists_url: `${url}/gists{/gist_id}`,
      starred_url: `${url}/starred{/owner}{/repo}`,
      subscriptions_url: `${url}/subscriptions`,
      organizations_url: `${url}/orgs`,
      repos_url: `${url}/repos`,
      events_url: `${url}/events{/privacy}`,
      received_events_url: `${url}/received_events`,
      type: login.endsWith('[bot]') ? 'Bot' : 'User',
      site_admin: false,
    };
  }

  label({ id, name, color, description }: StoredLabel): JsonObject {
    const url = `${this.apiRepo}/labels/${encodeURIComponent(name)}`;
    return { id, node_id: `LA_${id}`, url, name, description, color, default: false };
  }

  issue(issue: StoredIssue, labels: StoredLabel[], comments: number): JsonObject {
    const url = `${this.apiRepo}/issues/${issue.number}`;
    const html = `${this.url}/${this.fullName}/${issue.pull ? 'pull' : 'issues'}/${issue.number}`;
    const pullRequest = {
      url: `${this.apiRepo}/pulls/${issue.number}`,
      html_url: html,
      diff_url: `${html}.diff`,
      patch_url: `${html}.patch`,
      merged_at: null,
    };
    return {
      id: issue.id,
      node_id: `I_${issue.id}`,
      url,
      repository_url: this.apiRepo,
      labels_url: `${url}/labels{/name}`,
      comments_url: `${url}/comments`,
      events_url: `${url}/events`,
      html_url: html,
      number: issue.number,
      state: issue.state,
      state_reason: issue.stateReason,
      title: issue.title,
      body: issue.body,
      user: this.user(issue.user),
      labels: labels.map((l) => this.label(l)),
      assignee: null,
      assignees: [],
      milestone: null,
      locked: false,
      active_lock_reason: null,
      comments,
      // The issues endpoints tell pull requests apart by this field alone.
      ...(issue.pull ? { pull_request: pullRequest } : {}),
      closed_at: issue.closedAt,
      created_at: issue.createdAt,
      updated_at: issue.updatedAt,
      author_association: 'NONE',
    };
  }

  comment(comment: StoredComment): JsonObject {
    const issue = `${this.apiRepo}/issues/${comment.issueNumber}`;
    return {
      id: comment.id,
      node_id: `IC_${comment.id}`,
      url: `${this.apiRepo}/issues/comments/${comment.id}`,
      body: comment.body,
      html_url: `${this.url}/${this.fullName}/issues/${comment.issueNumber}#issuecomment-${comment.id}`,
      user: this.user(comment.user),
      created_at: comment.createdAt,
      updated_at: comment.updatedAt,
      issue_url: issue,
      author_association: 'NONE',
    };
  }

  /** A pull request has ~50 required fields; the description's own example is the template, our state laid over it. */
  pullRequest(issue: StoredIssue, labels: StoredLabel[]): JsonObject {
    const pull = issue.pull!;
    const template = this.api.example('pull-request') as Record<string, JsonObject>;
    const repo = (fullName: string): JsonObject => {
      const [owner = '', name = ''] = fullName.split('/');
      return {
        ...(template.base!.repo as JsonObject),
        name,
        full_name: fullName,
        owner: this.user(owner),
        fork: fullName.toLowerCase() !== this.fullName.toLowerCase(),
        html_url: `${this.url}/${fullName}`,
        url: `${this.url}/repos/${fullName}`,
      };
    };
    const asIssue = this.issue(issue, labels, 0);
    const shared = ['id', 'node_id', 'number', 'state', 'title', 'body', 'user', 'labels', 'html_url'];
    return {
      ...template,
      ...Object.fromEntries(shared.map((key) => [key, asIssue[key]])),
      url: `${this.apiRepo}/pulls/${issue.number}`,
      closed_at: issue.closedAt,
      created_at: issue.createdAt,
      updated_at: issue.updatedAt,
      assignee: null,
      assignees: [],
      milestone: null,
      // The example's teams lack a field the schema requires; none is the honest answer anyway.
      requested_teams: [],
      requested_reviewers: [],
      head: {
        ...template.head,
        label: `${pull.headRepo.split('/')[0]}:${pull.headRef}`,
        ref: pull.headRef,
        sha: pull.headSha,
        repo: repo(pull.headRepo),
      },
      base: {
        ...template.base,
        label: `${this.fullName.split('/')[0]}:main`,
        ref: 'main',
        repo: repo(this.fullName),
      },
    };
  }
}
