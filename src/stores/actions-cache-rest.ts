import { LifeboatError } from '../errors.js';
import { githubContextFromEnv, octokitFor, type GitHubContext } from '../github/index.js';
import { repositoryName } from '../settings/environment.js';

/**
 * The two REST calls the cache service itself lacks: listing entries and deleting them,
 * through the Octokit client of github/ (pagination, retries of reads, one client per
 * token). They need a token with `actions: read` (list) or `actions: write` (delete); the
 * runtime token the cache client uses is not accepted there.
 */
export interface CacheEntryInfo {
  key: string;
  ref: string;
  sizeInBytes: number;
  createdAt: string;
  /** When the service last served or stored the entry; eviction follows 7 days without. */
  lastAccessedAt: string;
}

const PER_PAGE = 100;

export class CachesApi {
  constructor(private readonly ctx: GitHubContext) {}

  /** Every entry whose key starts with `keyPrefix`, all pages. */
  async list(keyPrefix: string): Promise<CacheEntryInfo[]> {
    const { owner, repo } = this.ctx;
    const entries: CacheEntryInfo[] = [];
    for (let page = 1; ; page++) {
      const body = await this.call('list the GitHub Actions cache', async (octokit) => {
        const query = { owner, repo, key: keyPrefix, per_page: PER_PAGE, page };
        return (await octokit.rest.actions.getActionsCacheList(query)).data;
      });
      const items = body.actions_caches ?? [];
      entries.push(
        ...items.map((c) => ({
          key: c.key ?? '',
          ref: c.ref ?? '',
          sizeInBytes: c.size_in_bytes ?? 0,
          createdAt: c.created_at ?? '',
          lastAccessedAt: c.last_accessed_at ?? c.created_at ?? '',
        })),
      );
      // Stop on the total, not on a short page: the server may cap per_page below what we ask.
      if (items.length === 0 || entries.length >= body.total_count) return entries;
    }
  }

  /** Deletes every entry with exactly this key; an absent key is not an error. */
  async delete(key: string): Promise<void> {
    const { owner, repo } = this.ctx;
    await this.call(
      `delete ${key} from the GitHub Actions cache`,
      (octokit) => octokit.rest.actions.deleteActionsCacheByKey({ owner, repo, key }),
      [404],
    );
  }

  /** One call, its failure told as the store's (or the token's) to fix. */
  private async call<T>(
    what: string,
    request: (octokit: Awaited<ReturnType<typeof octokitFor>>) => Promise<T>,
    acceptable: number[] = [],
  ): Promise<T> {
    const octokit = await octokitFor(this.ctx);
    try {
      return await request(octokit);
    } catch (error) {
      const status = (error as { status?: unknown }).status;
      if (typeof status !== 'number') {
        throw new LifeboatError('store', `Could not ${what}: ${(error as Error).message}`, {
          hint: `Check that ${this.ctx.apiUrl} is reachable from this runner.`,
          cause: error,
        });
      }
      if (acceptable.includes(status)) return undefined as T;
      const data = (error as { response?: { data?: unknown } }).response?.data;
      const detail = typeof data === 'string' ? data : JSON.stringify(data ?? '');
      const message = `Could not ${what}: HTTP ${status} ${detail.slice(0, 200)}`.trim();
      if (status === 401 || status === 403) {
        throw new LifeboatError('permission', message, {
          hint: 'Pass `github-token` with `actions: write` permission (`actions: read` is enough to list).',
        });
      }
      throw new LifeboatError('store', message, {
        hint: 'The GitHub API refused the request; re-run the job.',
      });
    }
  }
}

/** The REST client for a store's settings; without a token only lookups by prefix work. */
export function cachesApiFor(
  env: NodeJS.ProcessEnv,
  token: string | undefined,
  verb: 'list' | 'delete',
): CachesApi {
  const ctx = githubContextFromEnv(token, env);
  if (!ctx) {
    const permission = verb === 'list' ? 'actions: read' : 'actions: write';
    const where = repositoryName(env) ? '' : ', and run inside a workflow so GITHUB_REPOSITORY is set';
    throw new LifeboatError(
      'unsupported',
      `The actions-cache store cannot ${verb} entries without a GitHub token.`,
      {
        hint: `Pass \`github-token\` (a token with \`${permission}\` permission) so Lifeboat can use the REST caches API${where}.`,
      },
    );
  }
  return new CachesApi(ctx);
}
