import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifest } from '../../src/archive/manifests.js';
import { readBack } from '../../src/backup/read-back.js';
import { archiveFeed, openPlainArchive } from '../../src/archive/plain-stream.js';
import { isLifeboatError } from '../../src/errors.js';
import { MemoryLog } from '../../src/log.js';
import { parseConnectionUrl } from '../../src/postgres/connection.js';
import { createToolFinder } from '../../src/postgres/tools.js';
import { runCleanRestore } from '../../src/restore/clean-restore.js';
import { listBackupIds } from '../../src/stores/store.js';
import { createPrivateTempDir } from '../../src/tempfiles.js';
import { backupFixture, startWorld, type BackupFixture, type World } from '../helpers/world.js';
import { expectNoSecrets, runLifeboat } from '../helpers/lifeboat.js';
import { confirmFor, type Cluster } from '../helpers/cluster.js';
import { databaseState, copyDatabase } from '../helpers/fixtures.js';

let world: World;
let cluster: Cluster;
let fx: BackupFixture;
let appUrl: string;
let backupId: string;
/** The database as the backup recorded it. */
let original: unknown;

/** What `confirm` must be for a database of the cluster. */
const at = (database = 'app') => confirmFor(cluster, database);

/** The catalog of a database with a content hash of every table, minus when it was taken. */
const snapshot = (database = 'app') => databaseState(cluster.url({ database }));

/** A restore from the fixture store into the app database unless the inputs say otherwise. */
const restoreApp = (inputs: Record<string, string>, answer?: string) =>
  runLifeboat(
    { mode: 'restore', store: fx.dir, 'target-url': appUrl, 'encryption-identity': fx.identity, ...inputs },
    { store: fx.store, answer, unmasked: true },
  );

const safetyIds = () => listBackupIds(fx.store, 'production-pre-restore');

beforeAll(async () => {
  // The shared world: the app database with the Supabase-shaped and awkward fixtures.
  world = await startWorld();
  ({ cluster, appUrl } = world);
  await cluster.exec(GUARD_SQL('public.clips', 'status'), 'app');
  fx = await backupFixture();
  const backup = await runLifeboat(
    { mode: 'backup', 'database-url': appUrl, store: fx.dir, 'encryption-identity': fx.identity },
    { store: fx.store },
  );
  expect(backup.error).toBeUndefined();
  backupId = backup.manifest!.backupId;
  original = await snapshot();
  await copyDatabase(cluster, 'app', 'app_as_backed_up');
});

/**
 * The app database as the backup recorded it, or with DAMAGE applied: each test starts from
 * the state it needs, whatever ran before it.
 */
async function freshApp(damaged = false): Promise<void> {
  await copyDatabase(cluster, 'app_as_backed_up', 'app');
  if (damaged) await cluster.exec(DAMAGE, 'app');
}

afterAll(async () => {
  await world?.close();
  await fx?.cleanup();
});

/**
 * An index whose function raises while the database setting `lifeboat_test.fail_index` is
 * on: a restore fails deep into its post-data section, after every row and large object,
 * whatever the restore dropped first (database settings are kept).
 */
const GUARD_SQL = (table: string, column: string) => `
  CREATE FUNCTION public.lifeboat_test_guard(value text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
  BEGIN
    IF current_setting('lifeboat_test.fail_index', true) = 'on' THEN
      RAISE EXCEPTION 'index build refused by lifeboat_test.fail_index';
    END IF;
    RETURN value;
  END $$;
  CREATE INDEX lifeboat_test_guard_idx ON ${table} (public.lifeboat_test_guard(${column}::text));`;
const failIndexes = (database: string, on: boolean) =>
  cluster.exec(
    on
      ? `ALTER DATABASE ${database} SET lifeboat_test.fail_index = 'on'`
      : `ALTER DATABASE ${database} RESET lifeboat_test.fail_index`,
    database,
  );

/** Damage of the kinds a bad deploy or a slip at the console does. */
const DAMAGE = `
  DELETE FROM public.clips WHERE status = 'draft';
  UPDATE public.subscriptions SET amount = amount * 10 WHERE plan = 'pro';
  INSERT INTO public.job_events (job_id, stage) SELECT id, 'replayed' FROM public.jobs LIMIT 7;
  DROP POLICY "members read clips" ON public.clips;
  ALTER TABLE public.projects ADD COLUMN archived boolean NOT NULL DEFAULT false;
  ALTER TABLE public.subscriptions NO FORCE ROW LEVEL SECURITY;
  DROP INDEX public.clips_project_id_idx;
  CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $$ SELECT NULL::uuid $$;
  DELETE FROM "Mixed Case"."weird ""quoted"" name" WHERE id = 5;
  DROP TABLE "données"."vide";
`;

describe('restore, full', () => {
  it('refuses a wrong or empty confirm, a missing backup and an unreachable target, and changes nothing', async () => {
    await freshApp();
    const safetyBefore = await safetyIds();
    const before = await snapshot();
    const wrong = await restoreApp({ confirm: 'production' });
    expect(isLifeboatError(wrong.error, 'confirm')).toBe(true);
    expect(wrong.shown).toContain(
      `is "production", but it must name the target, host:port/database, "${at()}"`,
    );
    expect((wrong.error as { hint: string }).hint).toContain(`confirm: ${at()}`);
    // The database name alone names no target: every Supabase database is "postgres".
    const nameOnly = await restoreApp({ confirm: 'app' });
    expect(isLifeboatError(nameOnly.error, 'confirm')).toBe(true);
    const empty = await restoreApp({});
    expect(isLifeboatError(empty.error, 'confirm')).toBe(true);
    const typedWrong = await restoreApp({}, 'app');
    expect(typedWrong.questions).toEqual([`Type the target (${at()}) to restore over it: `]);
    expect(isLifeboatError(typedWrong.error, 'confirm')).toBe(true);
    const missing = await restoreApp({ confirm: at(), 'backup-id': '20200101_000000_000_00000000' });
    expect(isLifeboatError(missing.error, 'not-found')).toBe(true);
    const unreachable = await restoreApp({
      confirm: `${cluster.host}:1/app`,
      'target-url': cluster.url({ database: 'app' }).replace(`:${cluster.port}/`, ':1/'),
    });
    expect(isLifeboatError(unreachable.error, 'connection')).toBe(true);

    for (const run of [wrong, nameOnly, empty, typedWrong, missing, unreachable]) {
      expect(run.outputs.status).toBe('failed');
      expect(run.outputs['safety-backup-id']).toBeUndefined();
      expect(run.shown).toMatch(/Nothing was changed/);
      expectNoSecrets(run, [cluster.password]);
    }
    expect(await safetyIds()).toEqual(safetyBefore);
    expect(await snapshot()).toEqual(before);
    expect(before).toEqual(original);
  });

  it('prints the plan on a dry run and changes nothing, without asking for confirm', async () => {
    await freshApp(true);
    const safetyBefore = await safetyIds();
    const before = await snapshot();
    const dry = await restoreApp({ 'dry-run': 'true' }, 'never asked');
    expect(dry.error).toBeUndefined();
    expect(dry.questions).toEqual([]);
    expect(await snapshot()).toEqual(before);
    expect(await safetyIds()).toEqual(safetyBefore);
    const text = dry.shown;
    expect(text).toContain(`${backupId} of "production"`);
    expect(text).toMatch(/verified: readable/);
    expect(text).toContain(`${cluster.host}:${cluster.port}/app`);
    expect(text).toContain(`the real run needs \`confirm: ${at()}\``);
    expect(text).toMatch(/public\.clips: 1600 rows \(\d+ in the target, \d+ more after the restore\)/);
    expect(text).toMatch(
      /Policy "members read clips" on public\.clips is not in the target: the restore creates it/,
    );
    expect(text).toMatch(/Table données\.vide is not in the target/);
    expectNoSecrets(dry, [cluster.password]);
    expect(dry.outputs).toEqual({ 'backup-id': backupId, status: 'passed', 'confirm-with': at() });
  });

  it('returns a changed database to the backup, and its safety backup returns it to the changed state', async () => {
    await freshApp(true);
    const changed = await snapshot();
    expect(changed).not.toEqual(original);
    const safetyBefore = await safetyIds();
    // Confirmed at the prompt, as a person at a terminal does, after reading the plan.
    const restore = await restoreApp({}, at());
    expect(restore.error).toBeUndefined();
    expect(restore.questions).toEqual([`Type the target (${at()}) to restore over it: `]);
    expect(restore.log.text()).toContain(`type \`${at()}\` at the prompt to go ahead`);
    const { outputs } = restore;
    expect(outputs).toMatchObject({ 'backup-id': backupId, status: 'passed' });
    expect(outputs['safety-backup-id']).toMatch(/^\d{8}_\d{6}_\d{3}_[0-9a-f]{8}$/);
    expect((await safetyIds()).filter((id) => !safetyBefore.includes(id))).toEqual([
      outputs['safety-backup-id'],
    ]);
    expect(restore.shown).toMatch(/Verified: the target matches the backup's catalog/);
    expectNoSecrets(restore, [cluster.password]);

    expect(await snapshot()).toEqual(original);

    const back = await restoreApp({
      name: 'production-pre-restore',
      'backup-id': outputs['safety-backup-id']!,
      confirm: at(),
    });
    expect(back.error).toBeUndefined();
    expect(await snapshot()).toEqual(changed);
  });

  it('restores into an empty database without a safety backup, since there is nothing to lose', async () => {
    const freshUrl = await cluster.createDatabase('fresh');
    const run = await restoreApp({ 'target-url': freshUrl, confirm: at('fresh') });
    expect(run.error).toBeUndefined();
    expect(run.outputs).toEqual({
      'backup-id': backupId,
      status: 'passed',
      'confirm-with': at('fresh'),
    });
    expect(run.shown).toContain('Take no safety backup');
    expect({ ...((await snapshot('fresh')) as object), database: 'app' }).toEqual(original);
  });

  it('refuses, changing nothing, a full restore that would drop a column of an earlier selective restore', async () => {
    await freshApp(true);
    // public.jobs.status is of type public.job_status, which a full restore drops and recreates.
    const selective = await restoreApp({ tables: 'public.jobs', confirm: at() });
    expect(selective.error).toBeUndefined();
    const side = `lifeboat_restore_${backupId}`;
    const before = await snapshot();
    const safetyBefore = await safetyIds();
    const full = await restoreApp({ confirm: at() });
    expect(isLifeboatError(full.error, 'restore')).toBe(true);
    expect((full.error as Error).message).toContain(`${side}.jobs.status (public.job_status)`);
    expect((full.error as Error).message).toMatch(/Nothing was changed/);
    expect(await snapshot()).toEqual(before);
    expect(await safetyIds()).toEqual(safetyBefore);
  });

  it("cancels a restore stuck behind the application's lock, rolling it back and leaving the application alone", async () => {
    await freshApp();
    const app = new pg.Client({
      connectionString: cluster.url({ database: 'app' }),
      application_name: 'web',
    });
    await app.connect();
    const temp = await createPrivateTempDir('lifeboat-test-');
    try {
      await app.query('BEGIN');
      const seen = (await app.query('SELECT count(*)::int AS n FROM public.clips')).rows;
      const manifest = await readManifest(fx.store, 'production', backupId);
      const open = () =>
        openPlainArchive({ store: fx.store, manifest, part: 1, keys: { identities: [fx.identity] } });
      const before = await snapshot();
      const admin = new pg.Client({ connectionString: cluster.url({ database: 'app' }) });
      await admin.connect();
      const pgRestore = await createToolFinder().forServer('pg_restore', 15, '15');
      const restore = runCleanRestore({
        tool: pgRestore,
        psql: path.join(path.dirname(pgRestore.path), 'psql'),
        target: parseConnectionUrl(appUrl, 'target-url'),
        archive: (_part, whole) => archiveFeed(open, whole),
        parts: 0,
        // Its first statement waits for the lock the application holds.
        drops: [{ label: 'table public.clips', sql: 'DROP TABLE IF EXISTS public.clips CASCADE' }],
        profile: 'supabase',
        admin,
        log: new MemoryLog(),
        lockWaitSeconds: 2,
      }).finally(() => admin.end());
      await expect(restore).rejects.toThrow(/held by pid \d+ \(web, idle in transaction\).*rolled back/s);
      expect((await app.query('SELECT count(*)::int AS n FROM public.clips')).rows).toEqual(seen);
      await app.query('ROLLBACK');
      expect(await snapshot()).toEqual(before);
    } finally {
      await app.end();
      await temp.remove();
    }
  });

  it('keeps a restore with large objects in one transaction, up to its last statement', async () => {
    const url = await cluster.createDatabase('blobs');
    await cluster.exec(
      `CREATE TABLE public.notes (id int PRIMARY KEY, body text);
       INSERT INTO public.notes VALUES (1, 'as backed up');
       SELECT lo_from_bytea(0, 'a large object');
       ${GUARD_SQL('public.notes', 'body')}`,
      'blobs',
    );
    const inputs = { name: 'blobs', 'target-url': url, confirm: at('blobs') };
    const backup = await runLifeboat(
      { mode: 'backup', ...inputs, 'database-url': url, store: fx.dir, 'encryption-identity': fx.identity },
      { store: fx.store },
    );
    expect(backup.error).toBeUndefined();
    // pg_restore writes large objects before the indexes, and an index fails this time.
    await cluster.exec(
      `UPDATE public.notes SET body = 'changed';
       SELECT lo_unlink(oid) FROM pg_largeobject_metadata;`,
      'blobs',
    );
    await failIndexes('blobs', true);
    const before = await snapshot('blobs');
    const failed = await restoreApp(inputs);
    expect((failed.error as Error).message).toMatch(
      /at INDEX public\.lifeboat_test_guard_idx: index build refused/,
    );
    expect(await snapshot('blobs')).toEqual(before);

    await failIndexes('blobs', false);
    const restored = await restoreApp(inputs);
    expect(restored.error).toBeUndefined();
    expect(await cluster.query('SELECT body FROM public.notes', [], 'blobs')).toEqual([
      { body: 'as backed up' },
    ]);
    expect(
      await cluster.query(
        `SELECT convert_from(lo_get(oid), 'UTF8') AS data FROM pg_largeobject_metadata`,
        [],
        'blobs',
      ),
    ).toEqual([{ data: 'a large object' }]);
  });

  it('rolls a failed restore back whole, and says how to use the intact safety backup', async () => {
    // An index the restore builds after loading every row fails, deep into the restore.
    await freshApp(true);
    const before = await snapshot();
    await failIndexes('app', true);
    const failed = await restoreApp({ confirm: at() });
    await failIndexes('app', false);
    expect(isLifeboatError(failed.error, 'restore')).toBe(true);
    const error = failed.error as { message: string; hint: string };
    expect(error.message).toMatch(/at INDEX public\.lifeboat_test_guard_idx: index build refused/);
    expect(error.message).toContain('Command was: CREATE INDEX lifeboat_test_guard_idx ON public.clips');
    expect(error.message).toMatch(/rolled back: the target is as it was before/);
    const safety = failed.outputs['safety-backup-id']!;
    expect(failed.outputs.status).toBe('failed');
    expect(error.hint).toContain(
      `lifeboat restore --store ${fx.dir} --name production-pre-restore --backup-id ${safety} --confirm ${at()}`,
    );
    expect(error.hint).toContain(`name: production-pre-restore, backup-id: ${safety}, confirm: ${at()}`);
    expect(failed.summary).toContain(`--backup-id ${safety}`);
    expect(await snapshot()).toEqual(before);

    const manifest = await readManifest(fx.store, 'production-pre-restore', safety);
    const pgRestore = await createToolFinder().forServer('pg_restore', 15, '15');
    const check = await readBack({
      store: fx.store,
      key: manifest.archive.key,
      sha256: manifest.archive.sha256,
      sizeBytes: manifest.archive.sizeBytes,
      keys: { identities: [fx.identity] },
      pgRestore,
      log: new MemoryLog(),
    });
    expect(check.level).toBe('readable');
  });
});
