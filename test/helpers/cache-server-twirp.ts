import type http from 'node:http';
import type { BlobBackend } from './cache-server-blob.js';
import type { CacheEntries } from './cache-server-entries.js';
import { credential, readJson, sendJson } from './cache-server-http.js';

/**
 * Cache service v2 as the @actions/cache client speaks it: twirp over JSON, field names
 * as in the proto (`signed_upload_url`), errors as `{ code, msg }` with the twirp status.
 */
export const TWIRP_PREFIX = '/twirp/github.actions.results.api.v1.CacheService/';

export interface TwirpContext {
  entries: CacheEntries;
  blobs: BlobBackend;
  runtimeToken: string;
}

class TwirpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

type Handler = (body: Record<string, unknown>, context: TwirpContext) => Promise<unknown>;

const handlers: Record<string, Handler> = {
  async CreateCacheEntry(body, { entries, blobs }) {
    const { key, version } = keyAndVersion(body);
    const entry = entries.reserve(key, version);
    if (!entry) {
      throw new TwirpError(
        409,
        'already_exists',
        'cache entry with the same key, version, and scope already exists',
      );
    }
    return { ok: true, signed_upload_url: blobs.signedUrl(entry.blobName, 'write') };
  },

  async FinalizeCacheEntryUpload(body, { entries, blobs }) {
    const { key, version } = keyAndVersion(body);
    const entry = entries.pending(key, version);
    if (!entry) throw new TwirpError(404, 'not_found', `no cache entry reserved for key ${key}`);
    const stored = await blobs.size(entry.blobName);
    const claimed = Number(body.size_bytes ?? 0);
    if (stored === undefined)
      throw new TwirpError(412, 'failed_precondition', 'no uploaded data for this entry');
    if (stored !== claimed) {
      throw new TwirpError(
        412,
        'failed_precondition',
        `uploaded ${stored} bytes, finalize claims ${claimed}`,
      );
    }
    entry.sizeBytes = stored;
    entry.finalized = true;
    return { ok: true, entry_id: String(entry.id) };
  },

  async GetCacheEntryDownloadURL(body, { entries, blobs }) {
    const { key, version } = keyAndVersion(body);
    const restoreKeys = Array.isArray(body.restore_keys) ? body.restore_keys.map(String) : [];
    const entry = entries.match(key, restoreKeys, version);
    if (!entry) return { ok: false, signed_download_url: '', matched_key: '' };
    return { ok: true, signed_download_url: blobs.signedUrl(entry.blobName, 'read'), matched_key: entry.key };
  },
};

function keyAndVersion(body: Record<string, unknown>): { key: string; version: string } {
  const key = typeof body.key === 'string' ? body.key : '';
  const version = typeof body.version === 'string' ? body.version : '';
  if (!key || !version) throw new TwirpError(400, 'invalid_argument', 'key and version are required');
  return { key, version };
}

export async function handleTwirp(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  method: string,
  context: TwirpContext,
): Promise<void> {
  try {
    if (req.method !== 'POST') throw new TwirpError(404, 'bad_route', 'twirp needs POST');
    if (credential(req) !== context.runtimeToken)
      throw new TwirpError(401, 'unauthenticated', 'invalid token');
    const handler = handlers[method];
    if (!handler) throw new TwirpError(404, 'bad_route', `no method ${method}`);
    sendJson(res, 200, await handler(await readJson(req), context));
  } catch (error) {
    if (error instanceof TwirpError) sendJson(res, error.status, { code: error.code, msg: error.message });
    else sendJson(res, 500, { code: 'internal', msg: (error as Error).message });
  }
}
