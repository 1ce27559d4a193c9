/**
 * The gate against the other stores (the Actions cache, S3-compatible storage) and its
 * sticky comment on pull requests, over the same world as gate.test.ts.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest';
import { Markers } from '../../src/settings/constants.js';
import { createActionsCacheStore } from '../../src/stores/actions-cache.js';
import { createS3Store } from '../../src/stores/s3.js';
import { LocalStore } from '../../src/stores/local.js';
import type { BackupStore } from '../../src/stores/store.js';
import { startCacheServer, type CacheServer } from '../helpers/cache-server.js';
import { startGitHubServer, type GitHubServer } from '../helpers/github-server.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';
import { HOUR, rewriteNewest, startGateWorld, takenAt, type GateWorld } from '../helpers/gate-world.js';

let w: GateWorld;
let work: string;
let appUrl: string;
let appStore: string;
const backup = (databaseUrl: string, store: BackupStore) => w.backup(databaseUrl, store);
const copyOf = (storeDir: string) => w.copyOf(storeDir);
const gate = (inputs: Record<string, string>, env: Record<string, string> = {}) => w.gate(inputs, env);

beforeAll(async () => {
  w = await startGateWorld();
  ({ work, appUrl, appStore } = w);
});

afterAll(async () => {
  await w?.stop();
});

describe('gate with the actions-cache store', () => {
  let cache: CacheServer;
  let stdout: MockInstance;

  beforeAll(async () => {
    // The cache client reports through @actions/core on stdout; keep the test output readable.
    stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    cache = await startCacheServer();
    const store = createActionsCacheStore({ env: cache.env });
    try {
      await backup(appUrl, store);
    } finally {
      await store.close();
    }
  });

  afterAll(async () => {
    await cache?.stop();
    stdout?.mockRestore();
  });

  /** A good newest backup, whatever an earlier test did to the one before it. */
  const freshBackup = async () => {
    const store = createActionsCacheStore({ env: cache.env });
    try {
      return await backup(appUrl, store);
    } finally {
      await store.close();
    }
  };

  it('passes a fresh backup read from the cache, downloading the manifest and never the archive', async () => {
    await freshBackup();
    const entriesBefore = cache.entries().length;
    const downloadsBefore = cache.downloads();
    const run = await gate({ store: 'actions-cache', 'database-url': appUrl }, cache.env);
    expect(run.error).toBeUndefined();
    expect(run.outputs.fresh).toBe('true');
    expect(run.summary).toMatch(/is in the store with the size the manifest records/);
    expect(cache.entries()).toHaveLength(entriesBefore);
    // The manifest is the one object read.
    expect(cache.downloads() - downloadsBefore).toBe(1);
  });

  it('checks the archive size with a lookup-only query, so it needs no REST token', async () => {
    await freshBackup();
    const { GITHUB_TOKEN: _token, ...withoutToken } = cache.env;
    const entriesBefore = cache.entries().length;
    const downloadsBefore = cache.downloads();
    const run = await gate({ store: 'actions-cache' }, withoutToken);
    expect(run.outputs.fresh).toBe('true');
    expect(run.log.lines.some((l) => l.level === 'warning')).toBe(false);
    expect(cache.entries()).toHaveLength(entriesBefore);
    expect(cache.downloads() - downloadsBefore).toBe(1);
  });

  it('fails when the archive was evicted from the cache', async () => {
    const manifest = await freshBackup();
    const store = createActionsCacheStore({ env: cache.env });
    try {
      await store.delete(manifest.archive.key);
      const run = await gate({ store: 'actions-cache' }, cache.env);
      expect(run.outputs.fresh).toBe('false');
      expect(run.error?.message).toMatch(/its archive .* is missing from the store/);
    } finally {
      await store.close();
    }
  });

  it('fails, never passes unchecked, on an archive entry that does not record its size', async () => {
    const store = createActionsCacheStore({ env: cache.env });
    try {
      const m = await backup(appUrl, store);
      const entry = cache
        .entries()
        .find((e) => e.key.startsWith(`lifeboat/production/archive/${m.backupId}/`))!;
      cache.rekey(entry.key, entry.key.replace(/-s\d+$/, ''));
    } finally {
      await store.close();
    }
    const downloadsBefore = cache.downloads();
    const run = await gate({ store: 'actions-cache', 'fail-on-stale': 'false' }, cache.env);
    expect(run.outputs.fresh).toBe('false');
    expect(run.outputs.reason).toMatch(
      /^Could not check that backup .* is in the store: .* does not record the size of its object/,
    );
    expect(cache.downloads() - downloadsBefore).toBe(1);
  });
});

describe('gate with an S3 store', () => {
  let s3: S3TestServer;
  let url: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    s3 = await startS3Server();
    url = `s3://${s3.bucket}/team`;
    env = s3.env as Record<string, string>;
    const store = createS3Store(url, env);
    try {
      await backup(appUrl, store);
    } finally {
      await store.close();
    }
  });

  afterAll(() => s3?.stop());

  it('checks the archive with HEAD, never downloading it, and fails once it is gone', async () => {
    s3.operations.length = 0;
    const fresh = await gate({ store: url, 'database-url': appUrl }, env);
    expect(fresh.outputs.fresh).toBe('true');
    expect(s3.operations.filter((op) => op === 'HeadObject')).toHaveLength(1);
    // One GET: the manifest.
    expect(s3.operations.filter((op) => op === 'GetObject')).toHaveLength(1);

    const store = createS3Store(url, env);
    try {
      await store.delete(`production/${fresh.outputs['backup-id']}.dump.zst.age`);
    } finally {
      await store.close();
    }
    const gone = await gate({ store: url }, env);
    expect(gone.outputs.fresh).toBe('false');
    expect(gone.error?.message).toMatch(/its archive .* is missing from the store/);
  });

  it('fails, never passes unchecked, when the service cannot answer HEAD', async () => {
    const store = createS3Store(url, env);
    try {
      await backup(appUrl, store);
    } finally {
      await store.close();
    }
    s3.faults.failHead = true;
    try {
      const run = await gate({ store: url, 'fail-on-stale': 'false' }, env);
      expect(run.outputs.fresh).toBe('false');
      expect(run.outputs.reason).toMatch(
        /^Could not check that backup \S+'s archive production\/\S+\.dump\.zst\.age is in the store: /,
      );
    } finally {
      s3.faults.failHead = false;
    }
  });
});

describe('gate comment on pull requests', () => {
  let github: GitHubServer;

  afterEach(async () => {
    // Every request the gate made must be one the real API accepts as meant.
    expect(github.violations()).toEqual([]);
    await github.stop();
  });

  async function pullRequestEnv(options: { headRepo?: string; event?: string } = {}) {
    const pr = github.addPullRequest({ headRepo: options.headRepo });
    const event = path.join(await mkdtemp(path.join(work, 'event-')), 'event.json');
    const full = `${github.repo.owner}/${github.repo.repo}`;
    await writeFile(
      event,
      JSON.stringify({
        action: 'synchronize',
        number: pr.number,
        pull_request: {
          number: pr.number,
          head: { repo: { full_name: options.headRepo ?? full } },
          base: { repo: { full_name: full } },
        },
      }),
    );
    const env = {
      ...github.env,
      GITHUB_EVENT_NAME: options.event ?? 'pull_request',
      GITHUB_EVENT_PATH: event,
    };
    return { pr, env };
  }

  it('keeps one comment per pull request, created once and edited in place', async () => {
    github = await startGitHubServer();
    const { pr, env } = await pullRequestEnv();
    const store = await copyOf(appStore);
    const inputs = { store, 'database-url': appUrl, 'github-token': github.token };

    const first = await gate(inputs, env);
    expect(first.outputs.fresh).toBe('true');
    await rewriteNewest(new LocalStore(store), (m) => takenAt(m, new Date(Date.now() - 30 * HOUR)));
    const second = await gate({ ...inputs, 'fail-on-stale': 'false' }, env);
    expect(second.outputs.fresh).toBe('false');

    const comments = github.comments(pr.number);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body.startsWith(`${Markers.GateComment}\n`)).toBe(true);
    expect(comments[0]!.body).toContain('Lifeboat gate: no fresh backup');
    expect(comments[0]!.body).toContain(second.summary);
    const writes = github
      .calls()
      .filter((c) => c.method !== 'GET')
      .map((c) => c.operationId);
    expect(writes).toEqual(['issues/create-comment', 'issues/update-comment']);
  });

  it("leaves a person's comment that carries the gate's marker alone and writes its own", async () => {
    github = await startGitHubServer();
    const { pr, env } = await pullRequestEnv();
    const theirs = github.addComment(
      pr.number,
      `${Markers.GateComment}\nQuoting the gate: all good`,
      'octocat',
    );
    const run = await gate({ store: appStore, 'github-token': github.token }, env);
    expect(run.outputs.fresh).toBe('true');

    const comments = github.comments(pr.number);
    expect(comments).toHaveLength(2);
    expect(comments[0]).toEqual(theirs);
    expect(comments[1]!.user).toBe('github-actions[bot]');
    expect(comments[1]!.body).toContain('Lifeboat gate: a fresh backup protects this change');
    const writes = github
      .calls()
      .filter((c) => c.operationId?.startsWith('issues/') && c.method !== 'GET')
      .map((c) => c.operationId);
    expect(writes).toEqual(['issues/create-comment']);
    expect(github.violations()).toEqual([]);
  });

  it('does not try to comment on a pull request from a fork, and still gives the verdict in the summary', async () => {
    github = await startGitHubServer();
    const { pr, env } = await pullRequestEnv({ headRepo: 'mallory/shop' });
    const run = await gate({ store: appStore, 'github-token': github.token }, env);
    expect(run.outputs.fresh).toBe('true');
    expect(run.summary).toContain('Lifeboat gate: a fresh backup protects this change');
    expect(github.calls()).toEqual([]);
    expect(github.comments(pr.number)).toEqual([]);
    expect(run.log.text()).toMatch(/comes from a fork/);
  });

  it('comments on a fork’s pull request under pull_request_target, whose token may write', async () => {
    github = await startGitHubServer();
    const { pr, env } = await pullRequestEnv({ headRepo: 'mallory/shop', event: 'pull_request_target' });
    const run = await gate({ store: appStore, 'github-token': github.token }, env);
    expect(run.outputs.fresh).toBe('true');
    expect(github.comments(pr.number)).toHaveLength(1);
  });

  it('keeps the verdict when the event file cannot be read', async () => {
    github = await startGitHubServer();
    const env = {
      ...github.env,
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: path.join(work, 'gone.json'),
    };
    const run = await gate({ store: appStore, 'github-token': github.token }, env);
    expect(run.outputs.fresh).toBe('true');
    expect(run.log.lines.some((l) => l.level === 'warning' && /workflow event/.test(l.message))).toBe(true);
    expect(github.calls()).toEqual([]);
  });

  it('logs a notice and keeps the verdict when the token may not comment', async () => {
    github = await startGitHubServer({ permissions: { issues: 'read', pullRequests: 'read' } });
    const { pr, env } = await pullRequestEnv();
    const run = await gate({ store: appStore, 'github-token': github.token, require: 'restored' }, env);
    expect(run.outputs.fresh).toBe('false');
    expect(run.error?.code).toBe('gate');
    expect(github.comments(pr.number)).toEqual([]);
    const notice = run.log.lines.find((l) => /Not commenting on pull request/.test(l.message));
    expect(notice).toMatchObject({ level: 'info' });
    expect(notice!.message).toMatch(/pull-requests: write/);
  });

  it('comments on nothing outside pull requests', async () => {
    github = await startGitHubServer();
    const run = await gate(
      { store: appStore, 'github-token': github.token },
      { ...github.env, GITHUB_EVENT_NAME: 'push' },
    );
    expect(run.outputs.fresh).toBe('true');
    expect(github.calls()).toEqual([]);
  });
});
