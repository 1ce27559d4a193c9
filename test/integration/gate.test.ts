import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest';
import { readManifest } from '../../src/archive/manifests.js';
import { serializeManifest, type Manifest } from '../../src/archive/manifest.js';
import { newBackupId } from '../../src/backup-id.js';
import { parseSettings } from '../../src/config.js';
import { Markers } from '../../src/constants.js';
import { isLifeboatError, type LifeboatError } from '../../src/errors.js';
import { MemoryLog, MemoryReporter } from '../../src/log.js';
import { runMode } from '../../src/run.js';
import { createActionsCacheStore } from '../../src/stores/actions-cache.js';
import { createS3Store } from '../../src/stores/s3.js';
import { LocalStore } from '../../src/stores/local.js';
import { latestBackupId, manifestKey, type BackupStore } from '../../src/stores/store.js';
import { backupFixture, tryBackup, type BackupFixture } from '../helpers/backup.js';
import { startCacheServer, type CacheServer } from '../helpers/cache-server.js';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { loadFixture } from '../helpers/fixtures.js';
import { startGitHubServer, type GitHubServer } from '../helpers/github-server.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';

const FOURTH = '20240401000000';
const MIGRATION_FILES = [
  '20240101000000_initial_schema.sql',
  '20240215093000_worker_jobs.sql',
  '20240320120000_billing_rls.sql',
  `${FOURTH}_add_invoices.sql`,
];
const HOUR = 3600 * 1000;

let cluster: Cluster;
let fx: BackupFixture;
let work: string;
let migrationsDir: string;
/** A Supabase-like database with three applied migrations, and a readable backup of it. */
let appUrl: string;
let appStore: string;
/** A database without a migrations table, and a backup of it. */
let plainUrl: string;
let plainStore: string;

beforeAll(async () => {
  cluster = await startCluster();
  fx = await backupFixture();
  work = await mkdtemp(path.join(tmpdir(), 'lifeboat-gate-'));
  migrationsDir = path.join(work, 'supabase', 'migrations');
  await writeMigrations(migrationsDir);

  appUrl = await cluster.createDatabase('app');
  await loadFixture(cluster, 'app', 'supabase');
  appStore = path.join(work, 'app-store');
  await backup(appUrl, new LocalStore(appStore));

  plainUrl = await cluster.createDatabase('plain');
  await cluster.exec('CREATE TABLE public.notes (id int PRIMARY KEY, body text)', 'plain');
  plainStore = path.join(work, 'plain-store');
  await backup(plainUrl, new LocalStore(plainStore));
});

afterAll(async () => {
  await cluster?.stop();
  await fx?.cleanup();
  if (work) await rm(work, { recursive: true, force: true });
});

async function writeMigrations(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const file of MIGRATION_FILES) await writeFile(path.join(dir, file), '-- migration\n');
}

/** A readable backup (the identity lets it read its archive back). */
async function backup(databaseUrl: string, store: BackupStore): Promise<Manifest> {
  const run = await tryBackup(
    {
      'database-url': databaseUrl,
      'encryption-recipient': fx.recipient,
      'encryption-identity': fx.identity,
    },
    store,
  );
  if (run.error) throw run.error;
  return run.result!.manifest;
}

/** A private copy of a store directory, so a test can damage it freely. */
async function copyOf(storeDir: string): Promise<string> {
  const dir = await mkdtemp(path.join(work, 'store-'));
  await cp(storeDir, dir, { recursive: true });
  return dir;
}

async function rewriteNewest(store: BackupStore, change: (m: Manifest) => Manifest): Promise<Manifest> {
  const id = (await latestBackupId(store, 'production'))!;
  const next = change(await readManifest(store, 'production', id));
  await store.put(manifestKey('production', id), Readable.from([serializeManifest(next)]), {
    overwrite: true,
  });
  return next;
}

function takenAt(m: Manifest, at: Date): Manifest {
  return { ...m, createdAt: at.toISOString(), completedAt: at.toISOString() };
}

interface GateRun {
  outputs: Record<string, string>;
  summary: string;
  log: MemoryLog;
  error?: LifeboatError;
}

/**
 * Runs the gate through the same door as the action: inputs parsed into settings, the
 * store opened from them. `env` stands in for the runner's environment; the host's own
 * GITHUB_* variables never leak in.
 */
async function gate(inputs: Record<string, string>, env: Record<string, string> = {}): Promise<GateRun> {
  const log = new MemoryLog();
  const reporter = new MemoryReporter();
  const all: Record<string, string> = { mode: 'gate', 'migrations-dir': migrationsDir, ...inputs };
  let error: LifeboatError | undefined;
  try {
    const settings = parseSettings(
      (name) => all[name] ?? '',
      (value) => log.secret(value),
    );
    await runMode(settings, { log, reporter, env: { ...env } });
  } catch (caught) {
    if (!isLifeboatError(caught)) throw caught;
    error = caught;
  }
  return { outputs: reporter.outputs, summary: reporter.summaries.join('\n'), log, error };
}

describe('gate with a local store and real PostgreSQL', () => {
  it('passes a fresh readable backup at production’s latest migration and lists the migration this change will apply', async () => {
    const run = await gate({ store: appStore, 'database-url': appUrl });
    expect(run.error).toBeUndefined();
    const id = (await latestBackupId(new LocalStore(appStore), 'production'))!;
    expect(run.outputs).toMatchObject({ fresh: 'true', 'backup-id': id });
    expect(Number(run.outputs['age-seconds'])).toBeLessThan(600);
    expect(run.outputs.reason).toMatch(
      new RegExp(
        `^Backup ${id} is .* old \\(max 1d\\), verified "readable" .* holds production's latest migration 20240320120000\\.$`,
      ),
    );
    expect(run.summary).toContain(`\`${id}\` of set \`production\``);
    expect(run.summary).toContain('backup `20240320120000` · production `20240320120000`');
    expect(run.summary).toContain(
      `1 migration in \`${migrationsDir}\` newer than production's \`20240320120000\`:`,
    );
    expect(run.summary).toContain(`- \`${FOURTH}_add_invoices.sql\``);
    expect(run.log.lines.filter((l) => l.level === 'warning')).toEqual([]);
  });

  it('fails a backup taken before the migration production applied since, and passes once a new backup is taken', async () => {
    const url = await cluster.createDatabase('moving');
    await loadFixture(cluster, 'moving', 'supabase');
    const store = path.join(work, 'moving-store');
    await backup(url, new LocalStore(store));
    await cluster.exec(
      `CREATE TABLE public.invoices (id bigint PRIMARY KEY);
       INSERT INTO supabase_migrations.schema_migrations (version, name) VALUES ('${FOURTH}', 'add_invoices');`,
      'moving',
    );

    const stale = await gate({ store, 'database-url': url });
    expect(stale.outputs.fresh).toBe('false');
    expect(stale.error?.code).toBe('gate');
    expect(stale.error?.message).toMatch(
      /holds migrations up to 20240320120000, but production has applied 20240401000000 since: it was taken before the last migration/,
    );
    expect(stale.error?.hint).toMatch(/Run the backup workflow \(mode: backup\)/);
    expect(stale.outputs.reason).toBe(stale.error?.message);
    expect(stale.summary).toContain('None: every migration in');

    await backup(url, new LocalStore(store));
    const fresh = await gate({ store, 'database-url': url });
    expect(fresh.outputs.fresh).toBe('true');
  });

  it('fails when the newest backup is older than max-age, and only warns when fail-on-stale is false', async () => {
    const store = await copyOf(appStore);
    await rewriteNewest(new LocalStore(store), (m) => takenAt(m, new Date(Date.now() - 49 * HOUR)));

    const failed = await gate({ store, 'max-age': '24h' });
    expect(failed.outputs).toMatchObject({ fresh: 'false' });
    expect(Number(failed.outputs['age-seconds'])).toBeGreaterThanOrEqual(49 * 3600);
    expect(failed.error?.message).toMatch(/is 2d 1h old, older than `max-age` 1d\.$/);

    const warned = await gate({ store, 'max-age': '24h', 'fail-on-stale': 'false' });
    expect(warned.error).toBeUndefined();
    expect(warned.outputs.fresh).toBe('false');
    expect(warned.log.lines).toContainEqual({
      level: 'warning',
      message: expect.stringMatching(/older than `max-age` 1d\. \(fail-on-stale is false/),
    });

    expect((await gate({ store, 'max-age': '7d' })).outputs.fresh).toBe('true');
  });

  it('fails when the backup is verified below the required level', async () => {
    const run = await gate({ store: appStore, require: 'restored' });
    expect(run.outputs.fresh).toBe('false');
    expect(run.error?.message).toMatch(/verified only as "readable", below the required "restored"/);
    expect(run.error?.hint).toMatch(/mode: drill/);
  });

  it('says so when the store holds no backup at all', async () => {
    const run = await gate({ store: path.join(work, 'empty-store') });
    expect(run.outputs).toEqual({
      fresh: 'false',
      'backup-id': '',
      'age-seconds': '',
      reason: expect.any(String),
    });
    expect(run.error?.message).toMatch(/holds no backup of "production"\.$/);
    expect(run.error?.hint).toMatch(/mode: backup/);
  });

  it('never reports fresh from a store it cannot read, even with fail-on-stale false', async () => {
    const notADirectory = path.join(work, 'store-is-a-file');
    await writeFile(notADirectory, 'oops');
    const strict = await gate({ store: notADirectory });
    expect(strict.outputs.fresh).toBe('false');
    expect(strict.error?.message).toMatch(/^Cannot read the store .*store-is-a-file: Cannot list/);

    const lenient = await gate({ store: notADirectory, 'fail-on-stale': 'false' });
    expect(lenient.error).toBeUndefined();
    expect(lenient.outputs.fresh).toBe('false');
    expect(
      lenient.log.lines.some((l) => l.level === 'warning' && /Cannot read the store/.test(l.message)),
    ).toBe(true);
  });

  it('passes on the parse error of a manifest written by a newer Lifeboat as the reason', async () => {
    const store = await copyOf(appStore);
    const current = await rewriteNewest(new LocalStore(store), (m) => m);
    const id = newBackupId(new Date(Date.now() + 1000));
    const future = { ...current, backupId: id, formatVersion: 2, somethingNew: true };
    await writeFile(path.join(store, manifestKey('production', id)), JSON.stringify(future));

    const run = await gate({ store });
    expect(run.outputs).toMatchObject({ fresh: 'false', 'backup-id': id });
    expect(run.error?.message).toMatch(/has format version 2, newer than this Lifeboat understands \(1\)\.$/);
    expect(run.error?.hint).toMatch(/Upgrade Lifeboat/);
  });

  it('treats a backup from the future as clock skew and names both times', async () => {
    const store = await copyOf(appStore);
    const future = new Date(Date.now() + 2 * HOUR);
    await rewriteNewest(new LocalStore(store), (m) => takenAt(m, future));
    const run = await gate({ store });
    expect(run.outputs.fresh).toBe('false');
    expect(run.error?.message).toContain(
      `was created at ${future.toISOString()}, 2h after this runner's clock (`,
    );
    expect(run.error?.hint).toMatch(/clocks/);
    // An age read off a wrong clock would only mislead.
    expect(run.outputs['age-seconds']).toBe('');
  });

  it('fails a manifest whose archive is missing, without downloading anything', async () => {
    const store = await copyOf(appStore);
    const m = await rewriteNewest(new LocalStore(store), (x) => x);
    await rm(path.join(store, m.archive.key));
    const run = await gate({ store });
    expect(run.outputs.fresh).toBe('false');
    expect(run.error?.message).toBe(
      `Backup ${m.backupId} has a manifest but its archive ${m.archive.key} is missing from the store, so it cannot be restored.`,
    );
  });

  it('passes when neither production nor the backup has a migrations table, and says the check had nothing to compare', async () => {
    const run = await gate({ store: plainStore, 'database-url': plainUrl });
    expect(run.error).toBeUndefined();
    expect(run.outputs.reason).toMatch(
      /neither production nor the backup has a migrations table supabase_migrations\.schema_migrations\.$/,
    );
    expect(run.summary).toContain(
      'backup no table · production no table supabase_migrations.schema_migrations',
    );
    // Production has applied nothing, so every file in the repository is still to come.
    expect(run.summary).toContain('4 migrations in');
  });

  it('fails when only production has the migrations table', async () => {
    const run = await gate({ store: plainStore, 'database-url': appUrl });
    expect(run.error?.message).toMatch(
      /^Production records migrations in supabase_migrations\.schema_migrations \(latest 20240320120000\), but backup \S+ recorded none/,
    );
  });

  it('fails when only the backup has the migrations table', async () => {
    const run = await gate({ store: appStore, 'database-url': plainUrl });
    expect(run.error?.message).toMatch(
      /but production has no table supabase_migrations\.schema_migrations\.$/,
    );
    expect(run.error?.hint).toMatch(/migrations-table/);
  });

  it('is not fresh when production cannot be reached, and explains the connection failure', async () => {
    const closed = cluster.url({ database: 'app' }).replace(`:${cluster.port}/`, ':1/');
    const run = await gate({ store: appStore, 'database-url': closed, 'fail-on-stale': 'false' });
    expect(run.outputs.fresh).toBe('false');
    expect(run.outputs.reason).toMatch(/^Cannot read production's migrations: /);
    expect(run.outputs.reason).not.toContain(cluster.password);
  });

  it('leaves the pending list out when the repository has no migrations directory', async () => {
    const run = await gate({ store: appStore, 'migrations-dir': path.join(work, 'nowhere') });
    expect(run.outputs.fresh).toBe('true');
    expect(run.summary).not.toContain('Migrations this change will apply');
  });
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

  it('passes a fresh backup read from the cache, manifests only', async () => {
    const entriesBefore = cache.entries().length;
    const run = await gate({ store: 'actions-cache', 'database-url': appUrl }, cache.env);
    expect(run.error).toBeUndefined();
    expect(run.outputs.fresh).toBe('true');
    expect(run.outputs.reason).not.toMatch(/archive not checked/);
    expect(cache.entries()).toHaveLength(entriesBefore);
  });

  it('checks the archive with a lookup-only query, so it needs no REST token', async () => {
    const { GITHUB_TOKEN: _token, ...withoutToken } = cache.env;
    const entriesBefore = cache.entries().length;
    const run = await gate({ store: 'actions-cache' }, withoutToken);
    expect(run.outputs.fresh).toBe('true');
    expect(run.outputs.reason).not.toMatch(/archive not checked/);
    expect(run.log.lines.some((l) => l.level === 'warning')).toBe(false);
    expect(cache.entries()).toHaveLength(entriesBefore);
  });

  it('fails when the archive was evicted from the cache', async () => {
    const store = createActionsCacheStore({ env: cache.env });
    try {
      const id = (await latestBackupId(store, 'production'))!;
      const manifest = await readManifest(store, 'production', id);
      await store.delete(manifest.archive.key);
      const run = await gate({ store: 'actions-cache' }, cache.env);
      expect(run.outputs.fresh).toBe('false');
      expect(run.error?.message).toMatch(/its archive .* is missing from the store/);
    } finally {
      await store.close();
    }
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
    expect(s3.operations).toContain('HeadObject');
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
