import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest';
import { newBackupId } from '../../src/archive/backup-id.js';
import { isLifeboatError, LifeboatError } from '../../src/errors.js';
import { MemoryLog } from '../../src/log.js';
import { createActionsCacheStore, type ActionsCacheStore } from '../../src/stores/actions-cache.js';
import { latestBackupId, listBackupIds } from '../../src/stores/store.js';
import { archiveKey, manifestKey } from '../../src/archive/store-keys.js';
import { startCacheServer, type CacheServer } from '../helpers/cache-server.js';
import { recordingTools } from '../helpers/recording-tools.js';

let server: CacheServer;
let tempDir: string;
let log: MemoryLog;
let store: ActionsCacheStore;
const outerEnv = { ...process.env };
let stdout: MockInstance;

beforeAll(async () => {
  stdout = vi.spyOn(process.stdout, 'write');
  // A small page cap makes every listing below page through the REST API.
  server = await startCacheServer({ maxPerPage: 2 });
  tempDir = await mkdtemp(path.join(os.tmpdir(), 'lifeboat-cache-store-'));
  log = new MemoryLog();
  store = createActionsCacheStore({ env: server.env, tempDir, log });
});

afterAll(async () => {
  stdout?.mockRestore();
  await store?.close();
  await server?.stop();
  await rm(tempDir, { recursive: true, force: true });
});

let clock = Date.parse('2026-11-24T00:03:12.345Z');
function nextId(): string {
  clock += 60_000;
  return newBackupId(new Date(clock));
}

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function rejection(promise: Promise<unknown>): Promise<LifeboatError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isLifeboatError(error)) throw new Error(`expected a LifeboatError, got ${String(error)}`);
  return error;
}

/** `size` random bytes in 1 MiB chunks, and their SHA-256 once fully read. */
function randomStream(size: number): { stream: Readable; digest: () => string } {
  const hash = createHash('sha256');
  let left = size;
  const stream = new Readable({
    read() {
      if (left === 0) return void this.push(null);
      const chunk = randomBytes(Math.min(left, 1 << 20));
      left -= chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return { stream, digest: () => hash.digest('hex') };
}

describe('actions-cache store against a local cache service and Azurite', () => {
  it('round-trips a 20 MB encrypted archive byte for byte', async () => {
    const key = archiveKey('prod', nextId());
    const source = randomStream(20 * 1024 * 1024);
    await store.put(key, source.stream);

    const read = createHash('sha256');
    for await (const chunk of await store.get(key)) read.update(chunk as Buffer);
    expect(read.digest('hex')).toBe(source.digest());
    expect(await readdir(tempDir)).toEqual([]);
  });

  it('finds the newest of three backups by prefix, without listing', async () => {
    const ids = [nextId(), nextId(), nextId()];
    for (const id of ids) await store.put(manifestKey('latest', id), Readable.from([`{"id":"${id}"}`]));
    // A drill rewriting the oldest manifest must not make it the latest.
    await store.put(manifestKey('latest', ids[0]!), Readable.from(['{"level":"restored"}']), {
      overwrite: true,
    });

    const tokenless = createActionsCacheStore({ env: { ...server.env, GITHUB_TOKEN: '' }, tempDir });
    expect(await latestBackupId(tokenless, 'latest')).toBe(ids[2]);
    expect(await tokenless.latestBackupId('no-such-set')).toBeUndefined();
  });

  it('reports a missing key as not-found', async () => {
    const error = await rejection(store.get(manifestKey('prod', nextId())));
    expect(error.code).toBe('not-found');
  });

  it('rejects a put whose upload fails, and leaves nothing visible', async () => {
    const id = nextId();
    server.failNextUpload();
    const error = await rejection(
      store.put(archiveKey('broken', id), Readable.from([randomBytes(64 * 1024)])),
    );
    expect(error.code).toBe('store');
    expect(error.message).toMatch(/Could not save broken\/.* AuthenticationFailed|Signed expiry/);

    expect((await rejection(store.get(archiveKey('broken', id)))).code).toBe('not-found');
    expect(await store.list('broken/')).toEqual([]);
    expect(
      server
        .entries()
        .filter((e) => e.key.includes('/broken/'))
        .map((e) => e.finalized),
    ).toEqual([false]);
    expect(await readdir(tempDir)).toEqual([]);
  });

  it('rejects a read with a store error, not not-found, when the service is down', async () => {
    const down = await startCacheServer();
    await down.stop();
    const orphan = createActionsCacheStore({ env: down.env, tempDir });
    const error = await rejection(orphan.get(manifestKey('prod', nextId())));
    expect(error.code).toBe('store');
    expect(error.message).toMatch(/ECONNREFUSED/);
    expect((await rejection(orphan.latestBackupId('prod'))).code).toBe('store');
  });

  it('rewrites a manifest as a new revision and reads the newest', async () => {
    const key = manifestKey('drill', nextId());
    await store.put(key, Readable.from(['{"level":"stored"}']));
    const refusal = await rejection(store.put(key, Readable.from(['{"level":"forged"}'])));
    expect(refusal.message).toMatch(/already holds/);

    await store.put(key, Readable.from(['{"level":"readable"}']), { overwrite: true });
    await store.put(key, Readable.from(['{"level":"restored"}']), { overwrite: true });
    expect(await text(await store.get(key))).toBe('{"level":"restored"}');
    const written = server.entries().filter((e) => e.key.includes('/drill/'));
    expect(written.map((e) => e.key)).toEqual([
      expect.stringMatching(/^lifeboat\/drill\/manifest\/\d{8}_\d{6}_\d{3}_[0-9a-f]{8}\.json$/),
      expect.stringMatching(/^lifeboat\/drill\/manifest-rev\/.+\/\d{8}T\d{9}Z-[0-9a-f]{4}-s20$/),
      expect.stringMatching(/^lifeboat\/drill\/manifest-rev\//),
    ]);
  });

  it('lists and deletes through the REST caches API, every revision included', async () => {
    const [a, b] = [nextId(), nextId()];
    // Concurrent puts share one client, which the store takes turns with.
    await Promise.all([a, b].map((id) => store.put(archiveKey('rest', id), Readable.from(['archive']))));
    for (const id of [a, b]) await store.put(manifestKey('rest', id), Readable.from(['manifest']));
    await store.put(manifestKey('rest', a), Readable.from(['manifest v2']), { overwrite: true });

    expect((await store.list('rest/')).sort()).toEqual(
      [archiveKey('rest', a), archiveKey('rest', b), manifestKey('rest', a), manifestKey('rest', b)].sort(),
    );
    expect(await listBackupIds(store, 'rest')).toEqual([b, a]);

    await store.delete(manifestKey('rest', a));
    await store.delete(manifestKey('rest', a)); // absent: not an error
    expect((await rejection(store.get(manifestKey('rest', a)))).code).toBe('not-found');
    expect((await store.list('rest/')).sort()).toEqual(
      [archiveKey('rest', a), archiveKey('rest', b), manifestKey('rest', b)].sort(),
    );
  });

  it('needs a token to list, and says which permission', async () => {
    const tokenless = createActionsCacheStore({ env: { ...server.env, GITHUB_TOKEN: '' }, tempDir });
    const error = await rejection(tokenless.list('prod/'));
    expect(error.code).toBe('unsupported');
    expect(error.hint).toMatch(/github-token.*actions: read/);
    expect(tokenless.location).toBe(`actions-cache:${server.env.GITHUB_REPOSITORY}`);
  });

  it('leaves process.env as it found it and keeps the client off stdout', async () => {
    // A round trip of its own, so the log holds a cache hit whatever ran before.
    const key = archiveKey('env-check', nextId());
    await store.put(key, Readable.from([Buffer.from('env check')]));
    expect(await text(await store.get(key))).toBe('env check');
    expect({ ...process.env }).toEqual(outerEnv);
    expect(stdout.mock.calls.map(([chunk]) => String(chunk)).filter((c) => c.includes('::'))).toEqual([]);
    expect(log.text()).toMatch(/Cache hit for/);
    expect(log.text()).not.toContain(server.env.ACTIONS_RUNTIME_TOKEN);
    expect(log.text()).toMatch(/sig=\*\*\*/);
  });
});

describe("what the cache client's tar and zstd see", () => {
  it('hides the inputs, keys, AWS and GitHub secrets from them for the length of a call, and puts them back', async () => {
    const tools = await recordingTools({ onPath: ['tar', 'zstd'] });
    const secrets = {
      'INPUT_ENCRYPTION-IDENTITY': 'AGE-SECRET-KEY-1STANDINSTANDINSTANDIN',
      'INPUT_DATABASE-URL': 'postgresql://u:input-url-password@db/app',
      LIFEBOAT_PASSPHRASE: 'lifeboat-passphrase-standin',
      AWS_SECRET_ACCESS_KEY: 'aws-secret-standin',
      GITHUB_TOKEN: 'ghs_standin',
      PGPASSWORD: 'pg-password-standin',
    };
    const saved = {
      PATH: process.env.PATH,
      ...Object.fromEntries(Object.keys(secrets).map((k) => [k, process.env[k]])),
    };
    Object.assign(process.env, secrets, { PATH: `${tools.pathDir}${path.delimiter}${process.env.PATH}` });
    try {
      const id = nextId();
      await store.put(archiveKey('hidden', id), Readable.from([Buffer.from('encrypted bytes')]));
      expect(await text(await store.get(archiveKey('hidden', id)))).toBe('encrypted bytes');
      const starts = await tools.starts();
      expect(starts.map((s) => s.tool)).toContain('tar');
      for (const start of starts) {
        for (const [name, value] of Object.entries(secrets)) {
          expect(start.env[name], `${start.tool} got ${name}`).toBeUndefined();
          expect(Object.values(start.env).join('\n')).not.toContain(value);
        }
      }
      // Back as they were for everything else in the process.
      for (const [name, value] of Object.entries(secrets)) expect(process.env[name]).toBe(value);
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      await tools.remove();
    }
  });
});
