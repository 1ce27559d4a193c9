import type http from 'node:http';
import type { BlobBackend } from './cache-server-blob.js';
import type { CacheEntries, CacheEntry } from './cache-server-entries.js';
import { credential, sendJson } from './cache-server-http.js';

/**
 * The REST caches API subset: `GET /repos/{owner}/{repo}/actions/caches` (key prefix,
 * ref, per_page capped at `maxPerPage`, page) and `DELETE` of the same path by exact key.
 */
export interface RestContext {
  entries: CacheEntries;
  blobs: BlobBackend;
  repository: string;
  token: string;
  /** GitHub caps per_page at 100; a test lowers the cap to exercise paging. */
  maxPerPage: number;
}

export function isRestPath(pathname: string): boolean {
  return /^\/repos\/[^/]+\/[^/]+\/actions\/caches$/.test(pathname);
}

function describe(entry: CacheEntry): Record<string, unknown> {
  return {
    id: entry.id,
    ref: entry.ref,
    key: entry.key,
    version: entry.version,
    last_accessed_at: (entry.lastAccessedAt ?? entry.createdAt).toISOString(),
    created_at: entry.createdAt.toISOString(),
    size_in_bytes: entry.sizeBytes,
  };
}

export async function handleRest(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
  context: RestContext,
) {
  if (credential(req) !== context.token) {
    return sendJson(res, 401, { message: 'Bad credentials', status: '401' });
  }
  if (url.pathname !== `/repos/${context.repository}/actions/caches`) {
    return sendJson(res, 404, { message: 'Not Found', status: '404' });
  }
  const params = url.searchParams;
  const ref = params.get('ref') ?? undefined;
  if (req.method === 'GET') {
    const matching = context.entries
      .listed(params.get('key') ?? '')
      .filter((e) => ref === undefined || e.ref === ref);
    const perPage = Math.min(Number(params.get('per_page') ?? 30) || 30, context.maxPerPage);
    const page = Math.max(Number(params.get('page') ?? 1) || 1, 1);
    const slice = matching.slice((page - 1) * perPage, page * perPage);
    return sendJson(res, 200, { total_count: matching.length, actions_caches: slice.map(describe) });
  }
  if (req.method === 'DELETE') {
    const key = params.get('key');
    if (!key) return sendJson(res, 422, { message: 'key is required', status: '422' });
    const gone = context.entries.removeKey(key, ref);
    await Promise.all(gone.map((e) => context.blobs.remove(e.blobName)));
    if (gone.length === 0) return sendJson(res, 404, { message: 'Not Found', status: '404' });
    return sendJson(res, 200, { total_count: gone.length, actions_caches: gone.map(describe) });
  }
  return sendJson(res, 405, { message: 'Method Not Allowed', status: '405' });
}
