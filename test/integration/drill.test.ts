import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readManifest } from '../../src/archive/manifests.js';
import { serializeManifest } from '../../src/archive/manifest.js';
import { writeArchive } from '../../src/backup/write.js';
import { cli } from '../../src/cli/program.js';
import { MemoryLog } from '../../src/log.js';
import { parseConnectionUrl } from '../../src/postgres/connection.js';
import { startPgDump } from '../../src/postgres/pg-dump.js';
import { createToolFinder } from '../../src/postgres/tools.js';
import { manifestKey } from '../../src/archive/store-keys.js';
import { backupFixture, startWorld, type BackupFixture, type World } from '../helpers/world.js';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { expectNoSecrets, runLifeboat, type LifeboatRun } from '../helpers/lifeboat.js';
import { copyWithoutRoleRecords } from '../helpers/older-backup.js';

let world: World;
let source: Cluster;
let target: Cluster;
let fx: BackupFixture;
let backupId: string;

beforeAll(async () => {
  // Separate servers, as in a workflow: roles are per server, so the target starts without Supabase's.
  world = await startWorld({ fixtures: ['supabase'], targets: 1 });
  [source, target] = [world.cluster, world.others[0]!];
  const url = world.appUrl;
  fx = await backupFixture();
  const backup = await runLifeboat(
    {
      mode: 'backup',
      'database-url': url,
      store: fx.dir,
      'encryption-recipient': fx.recipient,
      'encryption-identity': fx.identity,
    },
    { store: fx.store },
  );
  if (backup.error) throw backup.error;
  backupId = backup.manifest!.backupId;
});

afterAll(async () => {
  await world?.close();
  await fx?.cleanup();
});

/** A drill into `on` (the target server unless named), in a runner temp directory of its own. */
const drill = (inputs: Record<string, string>, on: Cluster = target) =>
  runLifeboat(
    { mode: 'drill', store: fx.dir, 'target-url': on.url(), 'encryption-identity': fx.identity, ...inputs },
    { store: fx.store, runnerTemp: true },
  );

/** Neither server's password, raw or percent-encoded, nor the age identity, anywhere a person or file could see. */
const secrets = () => [source.password, target.password, fx.identity];

async function drillDatabases(on: Cluster): Promise<string[]> {
  const rows = await on.query<{ datname: string }>(
    `SELECT datname FROM pg_database WHERE datname LIKE 'lifeboat_drill_%' ORDER BY 1`,
  );
  return rows.map((r) => r.datname);
}

describe('mode: drill', () => {
  it('creates the roles a Supabase backup recorded even with profile postgres, without passwords', async () => {
    const bare = await startCluster();
    try {
      const run = await drill({ profile: 'postgres', 'backup-id': backupId }, bare);
      expect(run.error).toBeUndefined();
      expect(run.log.text()).toContain('Created roles the backup expects: anon, authenticated, service_role');
      const roles = await bare.query<{ rolname: string; rolcanlogin: boolean; rolpassword: string | null }>(
        `SELECT rolname, rolcanlogin, rolpassword FROM pg_authid WHERE rolname IN ('anon', 'authenticated', 'service_role') ORDER BY 1`,
      );
      expect(roles).toEqual(
        ['anon', 'authenticated', 'service_role'].map((rolname) => ({
          rolname,
          rolcanlogin: false,
          rolpassword: null,
        })),
      );
    } finally {
      await bare.stop();
    }
  });

  it('fails with a clear missing-role message when profile postgres meets a Supabase backup that recorded no roles', async () => {
    const bare = await startCluster();
    try {
      await copyWithoutRoleRecords(fx, { name: 'production', backupId }, 'older');
      const run = await drill({ profile: 'postgres', name: 'older' }, bare);
      expect(run.log.text()).toContain('did not record roles and privileges');
      expect(run.error?.code).toBe('drill');
      expect(run.error?.message).toMatch(
        /failed at "pg_restore": pg_restore stopped at .+: role "(anon|authenticated|service_role)" does not exist\./,
      );
      expect(run.error?.hint).toContain('Use profile `supabase` or `auto`');
      expect(run.outputs).toMatchObject({ status: 'failed', 'rto-seconds': '', 'issue-url': '' });
      expect(run.report!.failure?.step).toBe('pg_restore');
      expect(run.report!.steps.at(-1)).toMatchObject({
        name: 'Verify against the catalog snapshot',
        status: 'skipped',
      });
      expect(run.log.text()).toMatch(
        /warning: The backup references roles this server lacks: anon, authenticated, service_role\./,
      );
      expect(await drillDatabases(bare)).toEqual([]);
      expectNoSecrets(run, secrets());
    } finally {
      await bare.stop();
    }
  });

  it('drills a Supabase-shaped backup clean into a bare server with profile auto, and marks it restored', async () => {
    const checks = path.join(fx.dir, 'checks.sql');
    await writeFile(
      checks,
      `-- name: every migration is there
SELECT count(*) = 3 FROM supabase_migrations.schema_migrations;
-- name: workers can still claim a job
SELECT (public.worker_claim_next_job('drill-worker')).id IS NOT NULL;
SELECT relforcerowsecurity FROM pg_class WHERE oid = 'public.subscriptions'::regclass;
`,
    );
    // By id: another test stores a damaged backup, which may be the newest by now. Into a
    // bare server of its own: an earlier drill leaves the roles it created on the shared one.
    const bare = await startCluster();
    let run: LifeboatRun;
    try {
      run = await drill(
        { 'backup-id': backupId, 'verify-sql': checks, 'rto-target': '10m', 'rpo-target': '1h' },
        bare,
      );
      expect(await drillDatabases(bare)).toEqual([]);
    } finally {
      await bare.stop();
    }
    expect(run.error).toBeUndefined();
    const { outputs } = run;
    expect(outputs).toMatchObject({ status: 'passed', 'backup-id': backupId, 'issue-url': '' });
    expect(Number(outputs['rto-seconds'])).toBeLessThan(60);
    expect(Number(outputs['rpo-seconds'])).toBeLessThan(600);
    // The report sits alone in a private directory of its own, created for it.
    const reportFile = outputs['report-path']!;
    expect(path.basename(reportFile)).toBe(`lifeboat-drill-${backupId}.json`);
    expect(path.dirname(path.dirname(reportFile))).toBe(run.runnerTemp!);
    expect(path.basename(path.dirname(reportFile))).toMatch(/^lifeboat-report-/);
    expect((await stat(path.dirname(reportFile))).mode & 0o777).toBe(0o700);
    expect((await stat(reportFile)).mode & 0o777).toBe(0o600);

    const report = run.report!;
    expect(report.profile).toMatchObject({ requested: 'auto', used: 'supabase' });
    expect(report.restore.prepared).toEqual(['role anon', 'role authenticated', 'role service_role']);
    expect(report.checks.filter((c) => c.severity === 'error')).toEqual([]);
    expect(report.compared).toMatchObject({
      table: 9,
      rows: 9,
      rls: 9,
      policy: 8,
      'fk-orphans': 9,
      'verify-sql': 3,
      migration: 1,
    });
    expect(report.steps.map((s) => [s.name, s.status])).toEqual([
      ['Read the manifest and its catalog snapshot', 'ok'],
      ['Connect to the target server, find pg_restore', 'ok'],
      ['Read the table of contents from the store', 'ok'],
      ['Create the drill database', 'ok'],
      ['Prepare for the profile', 'ok'],
      ['Replay database settings', 'ok'],
      ['pg_restore', 'ok'],
      ['Verify against the catalog snapshot', 'ok'],
    ]);
    expect(run.summary).toContain('| Exact row counts | 9 | ✅ |');

    // The gate can now require `restored`.
    const manifest = await readManifest(fx.store, 'production', backupId);
    expect(manifest.verification.level).toBe('restored');
    expect(manifest.verification.history.at(-1)).toMatchObject({ level: 'restored', by: 'drill' });

    // The throwaway database is gone (checked above), and so is the decrypted dump.
    expect(await readdir(run.runnerTemp!)).toEqual([path.basename(path.dirname(reportFile))]);
    expect(await readdir(path.dirname(reportFile))).toEqual([`lifeboat-drill-${backupId}.json`]);
    expectNoSecrets(run, secrets());
  });

  it('fails when the archive lost rows of one table, naming the table and both counts', async () => {
    const lost = await tamperedBackup();
    const run = await drill({ 'backup-id': lost });
    expect(run.error?.message).toContain(
      'failed: public.clips: 1200 rows restored, 1600 expected (400 missing).',
    );
    expect(run.outputs.status).toBe('failed');
    // The restore itself worked, so the RTO is known: a number, never the empty output of a drill that stopped early.
    expect(run.outputs['rto-seconds']).toMatch(/^\d+(\.\d+)?$/);
    const failed = run.report!.checks.filter((c) => c.severity === 'error');
    expect(failed).toEqual([
      expect.objectContaining({ kind: 'rows', object: 'public.clips', expected: 1600, actual: 1200 }),
    ]);
    expect(run.summary).toContain('| Exact row counts | 9 | ❌ 1 failed |');
    expect((await readManifest(fx.store, 'production', lost)).verification.level).not.toBe('restored');
    expectNoSecrets(run, secrets());
  });

  it('fails on a verify-sql check that returns false or errors, by label, and keeps the database when asked', async () => {
    const checks = path.join(fx.dir, 'failing.sql');
    await writeFile(
      checks,
      `-- name: no job is stuck
SELECT count(*) = 0 FROM public.jobs WHERE status = 'running';
-- name: the audit table exists
SELECT count(*) > 0 FROM public.audit_log;
`,
    );
    const run = await drill({ 'verify-sql': checks, 'keep-database': 'true', 'backup-id': backupId });
    const failed = run.report!.checks.filter((c) => c.kind === 'verify-sql');
    expect(failed.map((c) => c.message)).toEqual([
      'verify-sql check "no job is stuck" (line 2) returned false.',
      'verify-sql check "the audit table exists" (line 4) failed: relation "public.audit_log" does not exist.',
    ]);
    expect(run.outputs.status).toBe('failed');
    const kept = await drillDatabases(target);
    expect(kept).toEqual([run.report!.target.database]);
    await target.query(`DROP DATABASE "${kept[0]}"`);
  });

  it('runs from the command line as `lifeboat drill`', async () => {
    const keyFile = path.join(fx.dir, 'key.txt');
    await writeFile(keyFile, `${fx.identity}\n`, { mode: 0o600 });
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let code: number;
    let printed = '';
    let said = '';
    try {
      const runnerTemp = await mkdtemp(path.join(tmpdir(), 'lifeboat-runner-'));
      code = await cli(['drill', '--store', fx.dir, '--identity-file', keyFile, '--backup-id', backupId], {
        PATH: process.env.PATH,
        RUNNER_TEMP: runnerTemp,
        LIFEBOAT_TARGET_URL: target.url(),
      });
      await rm(runnerTemp, { recursive: true, force: true });
    } finally {
      printed = out.mock.calls.map((c) => String(c[0])).join('');
      said = err.mock.calls.map((c) => String(c[0])).join('');
      out.mockRestore();
      err.mockRestore();
    }
    expect(code, said).toBe(0);
    expect(printed).toContain('status=passed\n');
    expectNoSecrets([printed, said], [target.password]);
  });
});

/**
 * A second backup whose archive was rebuilt from a copy missing 400 clips: encrypted to the
 * right key and with a manifest checksum that matches, but the manifest's catalog snapshot
 * unchanged, so only the drill's comparison can notice.
 */
async function tamperedBackup(): Promise<string> {
  const backup = await runLifeboat(
    {
      mode: 'backup',
      'database-url': source.url({ database: 'app' }),
      store: fx.dir,
      'encryption-recipient': fx.recipient,
    },
    { store: fx.store },
  );
  if (backup.error) throw backup.error;
  const manifest = backup.manifest!;
  await source.query('CREATE DATABASE app_lost TEMPLATE app');
  try {
    await source.query(
      'DELETE FROM public.clips WHERE id IN (SELECT id FROM public.clips ORDER BY id LIMIT 400)',
      [],
      'app_lost',
    );
    const pgDump = await createToolFinder().forServer('pg_dump', source.major, String(source.major));
    const log = new MemoryLog();
    const dump = startPgDump(
      pgDump,
      parseConnectionUrl(source.url({ database: 'app_lost' }), 'database-url'),
      undefined,
      (t) => log.mask(t),
    );
    await fx.store.delete(manifest.archive.key);
    const written = await writeArchive({
      dump,
      store: fx.store,
      key: manifest.archive.key,
      keys: { recipients: [fx.recipient] },
      log,
    });
    const rebuilt = {
      ...manifest,
      archive: { ...manifest.archive, sha256: written.sha256, sizeBytes: written.sizeBytes },
    };
    const body = serializeManifest(rebuilt);
    await fx.store.put(manifestKey(manifest.name, manifest.backupId), Readable.from([body]), {
      overwrite: true,
    });
    // The manifest's catalog snapshot still says 1600 clips.
    expect(
      (await buffer(await fx.store.get(manifestKey(manifest.name, manifest.backupId)))).toString(),
    ).toContain(manifest.catalog);
  } finally {
    await source.query('DROP DATABASE app_lost');
  }
  return manifest.backupId;
}
