/**
 * Lifeboat's GitHub REST client: the sticky comment and pull request facts in comments.ts,
 * issues and labels in issues.ts, the hidden data block in hidden-data.ts, context, client
 * and error translation in rest.ts, who the token is in identity.ts. Import from here.
 */
export {
  githubContextFromEnv,
  GitHubPermissionError,
  octokitFor,
  type GitHubContext,
  type GitHubPermission,
} from './rest.js';
export {
  addComment,
  createIssue,
  ensureLabels,
  listIssuesByLabel,
  updateIssue,
  type IssueChanges,
  type IssueSummary,
  type LabelSpec,
} from './issues.js';
export { embedData, extractData } from './hidden-data.js';
export { getPullRequest, upsertStickyComment, type PullRequestInfo } from './comments.js';
