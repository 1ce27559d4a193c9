/**
 * Who the token is, so Lifeboat edits only comments it wrote itself. A personal or OAuth
 * token answers `GET /user`; an installation token (the workflow's GITHUB_TOKEN, a GitHub
 * App's) is refused there but answers GraphQL's `viewer`, as `github-actions[bot]` or
 * `<app>[bot]`. Learnt once per token and API, also from any comment the token writes.
 */
import { createHash } from 'node:crypto';
import { octokitFor, type GitHubContext } from './rest.js';

const known = new Map<string, string>();

function keyOf(ctx: GitHubContext): string {
  // A digest, so this map holds no second copy of the token.
  return createHash('sha256').update(`${ctx.apiUrl}\n${ctx.token}`).digest('hex');
}

/** Forgets every identity learnt, as a new process starts (tests of a later run use it). */
export function forgetIdentities(): void {
  known.clear();
}

export function rememberIdentity(ctx: GitHubContext, login: string): void {
  known.set(keyOf(ctx), login);
}

/** The token's login, or undefined when GitHub would not say (then nothing is edited). */
export async function tokenIdentity(ctx: GitHubContext): Promise<string | undefined> {
  const cached = known.get(keyOf(ctx));
  if (cached) return cached;
  const octokit = await octokitFor(ctx);
  let refused = false;
  let login = await octokit.rest.users.getAuthenticated().then(
    ({ data }) => data.login,
    (error: unknown) => {
      // 403 "Resource not accessible by integration": an installation token, which GraphQL knows.
      refused = (error as { status?: unknown } | null)?.status === 403;
      return undefined;
    },
  );
  if (!login && refused) {
    login = await octokit.graphql<{ viewer?: { login?: string } }>('query { viewer { login } }').then(
      (data) => data.viewer?.login,
      () => undefined,
    );
  }
  if (login) rememberIdentity(ctx, login);
  return login;
}
