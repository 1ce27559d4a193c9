import { LifeboatError } from '../errors.js';
import { githubApiUrl, repositoryName } from '../settings/environment.js';

/**
 * The two REST calls the cache service itself lacks: listing entries and deleting them.
 * They need a token with `actions: read` (list) or `actions: write` (delete); the runtime
 * token the cache client uses is not accepted there.
 */
export interface CachesApiOptions {
  apiUrl: string;
  /** owner/name */
  repository: string;
  token: string;
}

export interface CacheEntryInfo {
  key: string;
  ref: string;
  sizeInBytes: number;
  createdAt: string;
}

interface ListPage {
  total_count: number;
  actions_caches: { key: string; ref: string; size_in_bytes: number; created_at: string }[];
}

const PER_PAGE = 100;

export class CachesApi {
  constructor(private readonly options: CachesApiOptions) {}

  /** Every entry whose key starts with `keyPrefix`, all pages. */
  async list(keyPrefix: string): Promise<CacheEntryInfo[]> {
    const entries: CacheEntryInfo[] = [];
    for (let page = 1; ; page++) {
      const query = new URLSearchParams({ key: keyPrefix, per_page: String(PER_PAGE), page: String(page) });
      const response = await this.request('GET', query, 'list the GitHub Actions cache');
      const body = (await response.json()) as ListPage;
      const items = body.actions_caches ?? [];
      entries.push(
        ...items.map((c) => ({
          key: c.key,
          ref: c.ref,
          sizeInBytes: c.size_in_bytes,
          createdAt: c.created_at,
        })),
      );
      // Stop on the total, not on a short page: the server may cap per_page below what we ask.
      if (items.length === 0 || entries.length >= body.total_count) return entries;
    }
  }

  /** Deletes every entry with exactly this key; an absent key is not an error. */
  async delete(key: string): Promise<void> {
    await this.request(
      'DELETE',
      new URLSearchParams({ key }),
      `delete ${key} from the GitHub Actions cache`,
      [404],
    );
  }

  private async request(
    method: string,
    query: URLSearchParams,
    what: string,
    acceptable: number[] = [],
  ): Promise<Response> {
    const url = `${this.options.apiUrl.replace(/\/+$/, '')}/repos/${this.options.repository}/actions/caches?${query}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          accept: 'application/vnd.github+json',
          authorization: `Bearer ${this.options.token}`,
          'x-github-api-version': '2022-11-28',
        },
      });
    } catch (error) {
      throw new LifeboatError('store', `Could not ${what}: ${(error as Error).message}`, {
        hint: `Check that ${this.options.apiUrl} is reachable from this runner.`,
        cause: error,
      });
    }
    if (response.ok || acceptable.includes(response.status)) return response;
    const detail = await response.text().catch(() => '');
    const message = `Could not ${what}: HTTP ${response.status} ${detail.slice(0, 200)}`.trim();
    if (response.status === 401 || response.status === 403) {
      throw new LifeboatError('permission', message, {
        hint: 'Pass `github-token` with `actions: write` permission (`actions: read` is enough to list).',
      });
    }
    throw new LifeboatError('store', message, {
      hint: 'The GitHub API refused the request; re-run the job.',
    });
  }
}

/** The REST client for a store's settings; without a token only lookups by prefix work. */
export function cachesApiFor(
  env: NodeJS.ProcessEnv,
  token: string | undefined,
  verb: 'list' | 'delete',
): CachesApi {
  const repository = repositoryName(env);
  if (!token || !repository) {
    const permission = verb === 'list' ? 'actions: read' : 'actions: write';
    const where = repository ? '' : ', and run inside a workflow so GITHUB_REPOSITORY is set';
    throw new LifeboatError(
      'unsupported',
      `The actions-cache store cannot ${verb} entries without a GitHub token.`,
      {
        hint: `Pass \`github-token\` (a token with \`${permission}\` permission) so Lifeboat can use the REST caches API${where}.`,
      },
    );
  }
  return new CachesApi({ apiUrl: githubApiUrl(env), repository, token });
}
