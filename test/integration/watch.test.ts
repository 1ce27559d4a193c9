/**
 * The watch on real stores: a local directory and the Actions cache stand-in, real backups
 * and real drills, and the GitHub stand-in holding the one tracking issue.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  it,
  vi,
  type MockInstance,
} from 'vitest';
import { readManifest } from '../../src/archive/manifests.js';
import { serializeManifest } from '../../src/archive/manifest.js';
import { Labels } from '../../src/settings/constants.js';
import { LocalStore } from '../../src/stores/local.js';
import { latestBackupId } from '../../src/stores/store.js';
import { Readable } from 'node:stream';
import { manifestKey } from '../../src/archive/store-keys.js';
import { execFile } from 'node:child_process';
import { runAction } from '../helpers/lifeboat.js';
import { startCacheServer, type CacheServer } from '../helpers/cache-server.js';
import { startGitHubServer, type GitHubServer } from '../helpers/github-server.js';
import { startWatchWorld, type ModeRun, type WatchWorld } from '../helpers/watch-world.js';

let w: WatchWorld;
/** A store with one readable backup and a passed drill, never changed: tests copy it. */
let good: string;
const HOUR = 3600 * 1000;

beforeAll(async () => {
  w = await startWatchWorld();
  good = await w.newStore();
  const backup = await w.backup(good);
  if (backup.error) throw backup.error;
  const drill = await w.drill(good);
  if (drill.error) throw drill.error;
});

afterAll(async () => {
  await w?.stop();
});

const problems = (run: ModeRun) =>
  JSON.parse(run.outputs.problems ?? '[]') as {
    name: string;
    check: string;
    reason: string;
    severity: string;
  }[];

/** Moves the newest backup of production back in time by rewriting its manifest. */
async function age(store: string, hours: number): Promise<void> {
  const local = new LocalStore(store);
  const id = (await latestBackupId(local, 'production'))!;
  const m = await readManifest(local, 'production', id);
  const at = new Date(Date.now() - hours * HOUR).toISOString();
  const next = { ...m, createdAt: at, completedAt: at };
  await local.put(manifestKey('production', id), Readable.from([serializeManifest(next)]), {
    overwrite: true,
  });
}

/** The drill records of a store directory, as files (local store keys are paths). */
async function drillRecordFile(store: string): Promise<string> {
  const id = (await latestBackupId(new LocalStore(store), 'production'))!;
  return path.join(store, 'production', `${id}.drill.json`);
}

describe('watch on a local store', () => {
  it('finds a fresh, readable, drilled backup healthy, with outputs and a report', async () => {
    const run = await w.watch(good);
    expect(run.error).toBeUndefined();
    expect(run.outputs.healthy).toBe('true');
    expect(problems(run)).toEqual([]);
    const report = JSON.parse(await readFile(run.outputs['report-path']!, 'utf8')) as { healthy: boolean };
    expect(report.healthy).toBe(true);
    expect(run.summary).toMatch(/Healthy/);
  });

  it('records every drill in the store as a plain record without names from the data', async () => {
    const text = await readFile(await drillRecordFile(good), 'utf8');
    const record = JSON.parse(text) as Record<string, unknown>;
    expect(record).toMatchObject({
      status: 'passed',
      name: 'production',
      lifeboatVersion: expect.any(String),
    });
    expect(record.rtoSeconds).toEqual(expect.any(Number));
    for (const table of ['zebra_ledger_7731', 'quokka_payroll_4410']) expect(text).not.toContain(table);
  });

  it('retention deletes the drill record of a backup together with the backup', async () => {
    const store = await w.copyOf(good);
    const record = await drillRecordFile(store);
    await expect(readFile(record)).resolves.toBeDefined();
    const run = await w.backup(store, { keep: '1' });
    expect(run.error).toBeUndefined();
    await expect(readFile(record)).rejects.toThrow(/ENOENT/);
  });

  it('reports a backup older than max-age as stale, and fails the job', async () => {
    const store = await w.copyOf(good);
    await age(store, 30);
    const run = await w.watch(store);
    expect(run.outputs.healthy).toBe('false');
    expect(run.error?.code).toBe('watch');
    expect(problems(run)).toEqual([
      expect.objectContaining({
        name: 'production',
        check: 'backup',
        reason: expect.stringMatching(/over max-age 1d 2h/),
      }),
    ]);
  });

  it('passes the job with fail-on-problem false, still reporting unhealthy', async () => {
    const store = await w.copyOf(good);
    await age(store, 30);
    const run = await w.watch(store, { 'fail-on-problem': 'false' });
    expect(run.error).toBeUndefined();
    expect(run.outputs.healthy).toBe('false');
  });

  it('reports an archive part missing from the store', async () => {
    const store = await w.copyOf(good);
    const id = (await latestBackupId(new LocalStore(store), 'production'))!;
    await rm(path.join(store, 'production', `${id}.dump.zst.age`));
    const run = await w.watch(store);
    expect(run.outputs.healthy).toBe('false');
    expect(problems(run)).toEqual([
      expect.objectContaining({ check: 'archive', reason: expect.stringMatching(/missing from the store/) }),
    ]);
  });

  it('reports a set without any drill, and skips the check with drill-max-age off', async () => {
    const store = await w.copyOf(good);
    await rm(await drillRecordFile(store));
    const run = await w.watch(store);
    expect(problems(run)).toEqual([
      expect.objectContaining({ check: 'drill', reason: expect.stringMatching(/No restore drill/) }),
    ]);
    const off = await w.watch(store, { 'drill-max-age': 'off' });
    expect(off.outputs.healthy).toBe('true');
  });

  it('reports a drill older than drill-max-age', async () => {
    const store = await w.copyOf(good);
    const file = await drillRecordFile(store);
    const record = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    const old = new Date(Date.now() - 40 * 24 * HOUR).toISOString();
    await writeFile(file, JSON.stringify({ ...record, startedAt: old, finishedAt: old }));
    const run = await w.watch(store);
    expect(problems(run)).toEqual([
      expect.objectContaining({ check: 'drill', reason: expect.stringMatching(/over drill-max-age 35d/) }),
    ]);
  });

  it('reports every watched set named in `names`, a missing one included', async () => {
    const run = await w.watch(good, { names: 'production, staging' });
    expect(problems(run)).toEqual([
      expect.objectContaining({
        name: 'staging',
        check: 'backup',
        reason: expect.stringMatching(/No backup/),
      }),
    ]);
  });

  it('refuses a bad drill-max-age naming the input and the accepted values', async () => {
    const run = await w.watch(good, { 'drill-max-age': 'monthly' });
    expect(run.error?.message).toMatch(
      /`drill-max-age` is "monthly"; accepted values: a duration .* or `off`/,
    );
  });
});

describe('the tracking issue', () => {
  let github: GitHubServer;

  beforeEach(async () => {
    github = await startGitHubServer();
  });
  afterEach(async () => {
    expect(github.violations()).toEqual([]);
    await github.stop();
  });

  it('is opened when a set goes stale, updated in place, closed with a comment once healthy again: one issue', async () => {
    const store = await w.copyOf(good);
    const watch = () => w.watch(store, { 'github-token': github.token }, github.env);

    // All is well: no issue.
    expect((await watch()).outputs.healthy).toBe('true');
    expect(github.issues()).toHaveLength(0);

    // Stale: one issue, labelled lifeboat-watch.
    await age(store, 30);
    const stale = await watch();
    expect(stale.outputs.healthy).toBe('false');
    expect(github.issues()).toHaveLength(1);
    const issue = github.issues()[0]!;
    expect(issue.state).toBe('open');
    expect(issue.labels).toContain(Labels.Watch);
    expect(issue.body).toMatch(/over max-age/);
    expect(stale.outputs['issue-url']).toMatch(/\/issues\/1$/);

    // A failed drill as well: the same issue, updated.
    const failed = await w.drill(store, { 'rto-target': '0.001s' });
    expect(failed.outputs.status).toBe('failed');
    const worse = await watch();
    expect(
      problems(worse)
        .map((p) => p.check)
        .sort(),
    ).toEqual(['backup', 'drill']);
    expect(github.issues()).toHaveLength(1);
    expect(github.issues()[0]!.body).toMatch(/last restore drill .* failed/);

    // A fresh backup alone is not enough: a failed last drill stays a problem until one passes.
    expect((await w.backup(store)).error).toBeUndefined();
    expect(problems(await watch()).map((p) => p.check)).toEqual(['drill']);
    expect(github.issues()[0]!.state).toBe('open');

    // A passed drill: healthy, the issue closed with a comment, still the only one.
    expect((await w.drill(store)).outputs.status).toBe('passed');
    const healthy = await watch();
    expect(healthy.outputs.healthy).toBe('true');
    expect(github.issues()).toHaveLength(1);
    expect(github.issues()[0]!.state).toBe('closed');
    expect(github.comments(1).map((c) => c.body)).toEqual([expect.stringMatching(/healthy again/)]);

    // Unhealthy again: the closed issue is reopened, never a second one.
    await age(store, 30);
    await watch();
    expect(github.issues().map((i) => i.state)).toEqual(['open']);
  });
});

describe('watch with the actions-cache store', () => {
  let cache: CacheServer;
  let stdout: MockInstance;

  beforeAll(async () => {
    stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    cache = await startCacheServer();
  });

  /** A new newest backup, so no earlier test's aging or eviction is the one watched; its archive's cache key prefix. */
  const freshBackup = async () => {
    const backup = await w.backup('actions-cache', {}, cache.env);
    if (backup.error) throw backup.error;
    return `lifeboat/production/archive/${backup.outputs['backup-id']}/`;
  };
  afterAll(async () => {
    await cache?.stop();
    stdout?.mockRestore();
  });

  it('is healthy while the archive entry was read recently', async () => {
    await freshBackup();
    const run = await w.watch('actions-cache', { 'drill-max-age': 'off' }, cache.env);
    expect(run.outputs.healthy).toBe('true');
    expect(problems(run)).toEqual([]);
  });

  it('warns when the archive entry has gone unread for more than 5 days, before eviction at 7', async () => {
    const archive = await freshBackup();
    expect(cache.setLastAccessed(archive, new Date(Date.now() - 6 * 24 * HOUR))).toBeGreaterThan(0);
    const run = await w.watch('actions-cache', { 'drill-max-age': 'off' }, cache.env);
    expect(run.outputs.healthy).toBe('true');
    expect(problems(run)).toEqual([
      expect.objectContaining({
        check: 'cache-access',
        severity: 'warning',
        reason: expect.stringMatching(/last read 6d .* evicts entries unread for 7 days/),
      }),
    ]);
    expect(run.log.lines.some((l) => l.level === 'warning' && /evicts/.test(l.message))).toBe(true);
  });

  it('reports the archive evicted from the cache', async () => {
    const archive = await freshBackup();
    for (const e of cache.entries().filter((e) => e.key.startsWith(archive)))
      cache.rekey(e.key, `gone/${e.key}`);
    const run = await w.watch('actions-cache', { 'drill-max-age': 'off' }, cache.env);
    expect(run.outputs.healthy).toBe('false');
    expect(problems(run)).toEqual([expect.objectContaining({ check: 'archive' })]);
  });
});

describe('the front doors', () => {
  /** The host's GITHUB_* must not reach a run that should see no repository. */
  const clean = () =>
    Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(GITHUB_|LIFEBOAT_|INPUT_)/.test(k)));

  it('`lifeboat watch` prints the verdict and exits 1 when unhealthy, 0 when healthy', async () => {
    const cli = (args: string[]) =>
      new Promise<{ code: number; stdout: string }>((resolve) => {
        execFile(
          process.execPath,
          ['--import', 'tsx', 'src/cli.ts', 'watch', ...args],
          { env: clean() },
          (error, stdout) =>
            resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout }),
        );
      });
    const healthy = await cli(['--store', good]);
    expect(healthy.stdout).toMatch(/^healthy=true$/m);
    expect(healthy.code).toBe(0);
    const empty = await w.newStore();
    const unhealthy = await cli(['--store', empty, '--names', 'production,staging', '--json']);
    expect(unhealthy.code).toBe(1);
    const out = JSON.parse(unhealthy.stdout) as Record<string, string>;
    expect(out.healthy).toBe('false');
    expect((JSON.parse(out.problems!) as { name: string }[]).map((p) => p.name)).toEqual([
      'production',
      'staging',
    ]);
  });

  it('the action (mode: watch) sets healthy, problems and report-path', async () => {
    const run = await runAction(
      { mode: 'watch', store: good, 'max-age': '26h', 'github-token': '' },
      { env: clean() },
    );
    expect(run.code).toBe(0);
    expect(run.outputs.healthy).toBe('true');
    expect(run.outputs.problems).toBe('[]');
    expect(run.outputs['report-path']).toMatch(/lifeboat-watch\.json$/);
  });
});
