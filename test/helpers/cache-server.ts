import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { BLOB_HOST, BlobBackend } from './cache-server-blob.js';
import { CacheEntries, type CacheEntry } from './cache-server-entries.js';
import { handleRest, isRestPath } from './cache-server-rest.js';
import { handleTwirp, TWIRP_PREFIX } from './cache-server-twirp.js';

/**
 * A local GitHub Actions cache, for tests that drive the real @actions/cache client: the
 * cache service v2 (twirp), the REST caches API subset, and the signed-URL blob traffic,
 * all on one loopback HTTP server, with a real Azurite blob service behind it.
 *
 * Hand `env` to the code under test (or to the store's `env` option); it names every
 * variable the client and the store read. It includes HTTP_PROXY pointing at the peer,
 * which is how blob traffic for the (unresolvable) production-style host reaches Azurite;
 * loopback requests bypass proxies, so the service calls go direct.
 */
export interface CacheServerOptions {
  /** owner/name the REST API answers for. */
  repository?: string;
  /** Cap on REST per_page; lower it to make listing page. */
  maxPerPage?: number;
  /** Branch ref stamped on entries. */
  ref?: string;
}

export interface CacheServer {
  env: Record<string, string>;
  /** Every entry, reserved or finalized, in creation order. */
  entries(): CacheEntry[];
  /** Renames the entries of one cache key in place (an entry written by an older layout). */
  rekey(key: string, to: string): void;
  /** Blob reads so far (each GET of a signed download URL): a lookup-only query makes none. */
  downloads(): number;
  /** Ages the entries under a cache key prefix: last accessed at `at`; returns how many. */
  setLastAccessed(prefix: string, at: Date): number;
  /** The next blob upload is refused after its bytes arrive; the entry stays reserved and never becomes visible. */
  failNextUpload(): void;
  stop(): Promise<void>;
}

export async function startCacheServer(options: CacheServerOptions = {}): Promise<CacheServer> {
  const repository = options.repository ?? 'lifeboat-tests/cache-peer';
  const runtimeToken = `runtime-${randomBytes(12).toString('hex')}`;
  const githubToken = `ghs_${randomBytes(12).toString('hex')}`;
  const runnerTemp = await mkdtemp(path.join(os.tmpdir(), 'lifeboat-cache-peer-'));
  const blobs = await BlobBackend.start();
  const entries = new CacheEntries(options.ref ?? 'refs/heads/main');
  let publicBase = '';
  let downloads = 0;

  const server = http.createServer((req, res) => {
    // A proxied request carries an absolute URL; a direct one only a path.
    const url = new URL(req.url ?? '/', publicBase);
    if (url.hostname === BLOB_HOST) {
      if (req.method === 'GET') downloads++;
      return blobs.forward(req, res, url);
    }
    const done = (promise: Promise<unknown>) =>
      promise.catch((error: Error) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(error.message);
      });
    if (url.pathname.startsWith(TWIRP_PREFIX)) {
      const context = { entries, blobs, runtimeToken };
      return void done(handleTwirp(req, res, url.pathname.slice(TWIRP_PREFIX.length), context));
    }
    if (isRestPath(url.pathname)) {
      const context = {
        entries,
        blobs,
        repository,
        token: githubToken,
        maxPerPage: options.maxPerPage ?? 100,
      };
      return void done(handleRest(req, res, url, context));
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not part of the cache peer');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  publicBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    env: {
      ACTIONS_CACHE_SERVICE_V2: 'True',
      ACTIONS_RESULTS_URL: `${publicBase}/`,
      ACTIONS_RUNTIME_TOKEN: runtimeToken,
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_API_URL: publicBase,
      GITHUB_REPOSITORY: repository,
      GITHUB_TOKEN: githubToken,
      RUNNER_TEMP: runnerTemp,
      HTTP_PROXY: publicBase,
    },
    entries: () => entries.snapshot(),
    downloads: () => downloads,
    rekey: (key, to) => entries.rekey(key, to),
    failNextUpload: () => blobs.failNextUpload(),
    setLastAccessed: (prefix, at) => entries.setLastAccessed(prefix, at),
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await blobs.stop();
      await rm(runnerTemp, { recursive: true, force: true });
    },
  };
}
