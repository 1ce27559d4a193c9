import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupFixture, type BackupFixture } from '../helpers/world.js';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { loadFixture, tableContents } from '../helpers/fixtures.js';
import { backupAs, drillKept } from '../helpers/drills.js';
import { runLifeboat } from '../helpers/lifeboat.js';
import { forgetRoleRecords } from '../helpers/older-backup.js';
import { MATRIX_ROLES, OBJECT_KIND_GROUPS, type ObjectKindGroup } from '../fixtures/object-kinds.js';

/**
 * The drill of a backup dumped in parts (`dump-jobs`): one `pg_restore --jobs` reads a
 * directory archive whose rows are named pipes, each part fed by a stream of its own. Run on
 * schemas it was not written for (Supabase's, awkward names, text that looks like SQL and
 * COPY framing in rows and names, partitions whose rows sit in a part and whose parent is in
 * the main archive), into PostgreSQL 15 and 17: every table comes
 * back with every value, and nothing in the backup's text runs.
 */
let v15: Cluster;
let v17: Cluster;
let fx: BackupFixture;
let dir: string;
let marker: string;
let source: Record<string, string>;

beforeAll(async () => {
  [v15, v17] = await Promise.all([startCluster(), startCluster({ major: 17 })]);
  await v15.exec(MATRIX_ROLES);
  await v17.exec(MATRIX_ROLES);
  dir = await mkdtemp(path.join(os.tmpdir(), 'lifeboat-piped-'));
  marker = path.join(dir, 'pwned');
  const url = await v15.createDatabase('app');
  await loadFixture(v15, 'app', 'supabase');
  await loadFixture(v15, 'app', 'awkward');
  const hostile = await readFile(new URL('../fixtures/hostile.sql', import.meta.url), 'utf8');
  await v15.exec(hostile.replaceAll('MARKER', marker), 'app');
  await v15.exec(
    `CREATE TABLE public.bulk (id int PRIMARY KEY, body text NOT NULL);
     INSERT INTO public.bulk SELECT n, md5(n::text) || E'\\t\\\\.\\n' || repeat('x', 80) FROM generate_series(1, 40000) AS n;
     CREATE TABLE public.readings (at date NOT NULL, value int) PARTITION BY RANGE (at);
     CREATE TABLE public.readings_2025 PARTITION OF public.readings FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
     CREATE TABLE public.readings_2026 PARTITION OF public.readings FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
     INSERT INTO public.readings SELECT date '2025-01-01' + (n % 700), n FROM generate_series(1, 30000) AS n;
     CREATE TABLE public.events (id int PRIMARY KEY, bulk_id int REFERENCES public.bulk, note text);
     INSERT INTO public.events SELECT n, n, 'COPY public.bulk (id) FROM stdin;' FROM generate_series(1, 20000) AS n;`,
    'app',
  );
  source = await tableContents(v15, 'app');
  fx = await backupFixture();
  const manifest = await backupInParts(url, 'parted', 3, { 'verify-content': 'true' });
  expect(manifest.archive.parts?.length).toBe(2);
}, 120_000);

afterAll(async () => {
  await Promise.all([v15?.stop(), v17?.stop()]);
  await fx?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A backup of `url` dumped by `dumpJobs` pg_dump processes, as set `name`; its manifest. */
function backupInParts(url: string, name: string, dumpJobs: number, inputs: Record<string, string> = {}) {
  return backupAs(fx, url, name, { 'dump-jobs': String(dumpJobs), ...inputs });
}

/** A drill of set `name` into `target` and every table's contents in it; the database is dropped. */
async function drillInto(target: Cluster, name = 'parted') {
  const { run, report, db } = await drillKept(fx, target, name);
  try {
    return { run, report, restored: await tableContents(target, db) };
  } finally {
    await target.query(`DROP DATABASE "${db}" WITH (FORCE)`);
  }
}

describe('a drill of a backup in parts, through named pipes', () => {
  it('into PostgreSQL 15: every table back with every value, nothing of the text run', async () => {
    const { run, report, restored } = await drillInto(v15);
    expect(run.log.text()).toMatch(/through named pipes from 3 streams of the backup/);
    expect(report.status).toBe('passed');
    expect(report.checks.filter((c) => c.severity === 'error')).toEqual([]);
    expect(restored).toEqual(source);
    expect(existsSync(marker)).toBe(false);
  });

  it('falls back to a pg_restore per part, saying why, when the backup holds large objects', async () => {
    const url = await v15.createDatabase('with_blobs');
    await v15.exec(
      `CREATE TABLE public.a (id int PRIMARY KEY, body text);
       CREATE TABLE public.b (id int PRIMARY KEY, body text);
       INSERT INTO public.a SELECT n, repeat('a', 100) FROM generate_series(1, 20000) AS n;
       INSERT INTO public.b SELECT n, repeat('b', 100) FROM generate_series(1, 20000) AS n;
       SELECT lo_from_bytea(0, 'a large object');`,
      'with_blobs',
    );
    const manifest = await backupInParts(url, 'blobs', 2);
    expect(manifest.archive.parts?.length).toBe(1);
    const run = await runLifeboat(
      {
        mode: 'drill',
        store: fx.dir,
        name: 'blobs',
        'target-url': v15.url(),
        'encryption-identity': fx.identity,
      },
      { store: fx.store },
    );
    expect(run.error, String((run.error as Error | undefined)?.message)).toBeUndefined();
    expect(run.log.text()).toContain(
      'Restoring with several pg_restore processes: the archive holds large objects.',
    );
    expect(run.log.text()).toMatch(/Loading the rows \(and their tables' indexes\) in \d+ streams at once/);
  });

  it('into PostgreSQL 17: the same', async () => {
    const { run, report, restored } = await drillInto(v17);
    expect(run.log.text()).toMatch(/through named pipes from 3 streams of the backup/);
    expect(report.status).toBe('passed');
    expect(restored).toEqual(source);
    expect(existsSync(marker)).toBe(false);
  });

  it('stops at the first error a pg_restore worker meets, naming the object and the missing role, and drops the database', async () => {
    const bare = await startCluster();
    try {
      const manifest = await backupInParts(v15.url({ database: 'app' }), 'no-roles', 2);
      await forgetRoleRecords(fx.store, 'no-roles', manifest.backupId, fx.identity);
      const run = await runLifeboat(
        {
          mode: 'drill',
          store: fx.dir,
          name: 'no-roles',
          'target-url': bare.url(),
          'encryption-identity': fx.identity,
          profile: 'postgres',
        },
        { store: fx.store },
      );
      expect(run.log.text()).toMatch(/through named pipes/);
      expect(run.error?.message).toMatch(
        /failed at "pg_restore": pg_restore stopped at .+: role "(anon|authenticated|service_role)" does not exist\./,
      );
      expect(run.error?.hint).toContain('Use profile `supabase` or `auto`');
      expect(
        await bare.query(`SELECT datname FROM pg_database WHERE datname LIKE 'lifeboat_drill_%'`),
      ).toEqual([]);
    } finally {
      await bare.stop();
    }
  });
});

/**
 * The object kinds of PostgreSQL's own pg_dump tests, one database per group with two larger
 * tables beside the group's own, so a `dump-jobs: 2` backup holds parts: drilled through the
 * pipes into 15 and 17, every object verified against the catalog snapshot and every table's
 * contents equal to the source's. A group holding large objects is restored the other way.
 */
describe('the object kinds of pg_dump’s own tests, drilled from a backup in parts', () => {
  const groups = OBJECT_KIND_GROUPS.map((group, i) => [group.name, group, i] as const);
  it.each(groups)('%s', async (_name, group: ObjectKindGroup, i: number) => {
    const db = `kinds_${i}`;
    const url = await v15.createDatabase(db);
    await v15.exec(group.setup, db);
    await v15.exec(
      `CREATE TABLE public.lifeboat_bulk_a (id int PRIMARY KEY, body text);
       CREATE TABLE public.lifeboat_bulk_b (id int PRIMARY KEY, body text);
       INSERT INTO public.lifeboat_bulk_a SELECT n, repeat('a', 120) FROM generate_series(1, 20000) AS n;
       INSERT INTO public.lifeboat_bulk_b SELECT n, repeat('b', 120) FROM generate_series(1, 20000) AS n;`,
      db,
    );
    const original = await tableContents(v15, db);
    const manifest = await backupInParts(url, db, 2, { 'verify-content': 'true' });
    expect(manifest.archive.parts?.length).toBeGreaterThan(0);
    for (const target of [v15, v17]) {
      const { run, report, restored } = await drillInto(target, db);
      expect(run.log.text()).toMatch(/through named pipes from \d+ streams|the archive holds large objects/);
      expect(report.status).toBe('passed');
      expect(report.checks.filter((c) => c.severity === 'error')).toEqual([]);
      expect(restored).toEqual(original);
    }
  });
});
