import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cli } from '../../src/cli/program.js';
import { readExpectedCatalog } from '../../src/archive/fetch.js';
import { readManifest } from '../../src/archive/manifests.js';
import { runDrill } from '../../src/drill/index.js';
import type { DrillReport } from '../../src/drill/report.js';
import type { LifeboatError } from '../../src/errors.js';
import { MemoryLog, MemoryReporter } from '../../src/log.js';
import { parseConnectionUrl } from '../../src/postgres/connection.js';
import { errorsOf } from '../../src/postgres/verify/checks.js';
import { verifyRestore } from '../../src/postgres/verify/restored.js';
import { parseSettings, type DrillSettings } from '../../src/settings/settings.js';
import {
  GRANTS_TO_REMOVE,
  ROLES_SCHEMA,
  ROLES_SETUP,
  SUPABASE_ROLES_SCHEMA,
  SUPABASE_ROLES_SETUP,
} from '../fixtures/roles.js';
import { confirmFor, startCluster, type Cluster } from '../helpers/cluster.js';
import { runLifeboat } from '../helpers/lifeboat.js';
import { backupFixture, type BackupFixture } from '../helpers/world.js';

/**
 * Roles and privileges travel with the backup: a database that relies on its own roles is
 * backed up from PostgreSQL 15 and drilled or restored into servers that have none of them.
 */
let source: Cluster;
let fx: BackupFixture;
const backupIds = new Map<string, string>();

beforeAll(async () => {
  [source, fx] = await Promise.all([startCluster(), backupFixture()]);
  await source.exec(ROLES_SETUP + SUPABASE_ROLES_SETUP);
  for (const [name, schema] of [
    ['app', ROLES_SCHEMA],
    ['supa', SUPABASE_ROLES_SCHEMA],
  ] as const) {
    const url = await source.createDatabase(name);
    await source.exec(schema, name);
    const backup = await runLifeboat(
      { mode: 'backup', 'database-url': url, store: fx.dir, 'encryption-identity': fx.identity, name },
      { store: fx.store },
    );
    if (backup.error) throw backup.error;
    backupIds.set(name, backup.manifest!.backupId);
  }
}, 120_000);

afterAll(async () => {
  await source?.stop();
  await fx?.cleanup();
});

interface DrillRun {
  log: MemoryLog;
  error?: LifeboatError;
  report: DrillReport;
}

async function drill(on: Cluster, inputs: Record<string, string>): Promise<DrillRun> {
  const log = new MemoryLog();
  const reporter = new MemoryReporter();
  const runnerTemp = await mkdtemp(path.join(tmpdir(), 'lifeboat-runner-'));
  const all: Record<string, string> = {
    mode: 'drill',
    store: fx.dir,
    'target-url': on.url(),
    'encryption-identity': fx.identity,
    ...inputs,
  };
  try {
    const settings = parseSettings(
      (name) => all[name] ?? '',
      () => undefined,
    ) as DrillSettings;
    const env = { PATH: process.env.PATH, RUNNER_TEMP: runnerTemp };
    const error = await runDrill(settings, { log, reporter, store: fx.store, env }).then(
      () => undefined,
      (e: unknown) => e as LifeboatError,
    );
    const report = JSON.parse(await readFile(reporter.outputs['report-path']!, 'utf8')) as DrillReport;
    return { log, error, report };
  } finally {
    await rm(runnerTemp, { recursive: true, force: true });
  }
}

interface RoleRow {
  rolname: string;
  rolcanlogin: boolean;
  rolinherit: boolean;
  rolbypassrls: boolean;
  rolcreaterole: boolean;
  rolconnlimit: number;
  rolpassword: string | null;
  rolconfig: string[] | null;
}

async function roles(on: Cluster, names: string[]): Promise<Record<string, RoleRow>> {
  const rows = await on.query<RoleRow>(
    `SELECT a.rolname, a.rolcanlogin, a.rolinherit, a.rolbypassrls, a.rolcreaterole, a.rolconnlimit, a.rolpassword,
        (SELECT setconfig FROM pg_db_role_setting s WHERE s.setrole = a.oid AND s.setdatabase = 0) AS rolconfig
      FROM pg_authid a WHERE a.rolname = ANY($1) ORDER BY 1`,
    [names],
  );
  return Object.fromEntries(rows.map((r) => [r.rolname, r]));
}

async function memberships(on: Cluster): Promise<string[]> {
  const rows = await on.query<{ m: string }>(
    `SELECT u.rolname || ' in ' || g.rolname || CASE WHEN bool_or(m.admin_option) THEN ' (admin)' ELSE '' END AS m
      FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
      WHERE g.rolname NOT LIKE 'pg\\_%' GROUP BY u.rolname, g.rolname ORDER BY 1`,
  );
  return rows.map((r) => r.m);
}

const CUSTOM = ['readers', 'reporting', 'analyst', 'app_worker'];

describe.each([15, 17])('roles travel with a backup from PostgreSQL 15 to %i', (major) => {
  let target: Cluster;
  beforeAll(async () => {
    target = await startCluster(major === 17 ? { major: 17 } : {});
  }, 60_000);
  afterAll(async () => {
    await target?.stop();
  });

  // One drill, kept, whichever test asks first: the tests read it, they never change it for good.
  let kept: Promise<{ run: DrillRun; database: string }> | undefined;
  const keptDrill = () =>
    (kept ??= (async () => {
      const run = await drill(target, { name: 'app', 'keep-database': 'true' });
      return { run, database: run.report.target.database ?? '' };
    })());

  it('drills into a bare server with every role, membership and privilege as recorded', async () => {
    const { run } = await keptDrill();
    expect(run.error, run.log.text()).toBeUndefined();
    expect(run.log.text()).toContain(
      'Created roles the backup expects: analyst, app_worker, readers, reporting',
    );
    const checks = run.report.compared;
    expect(checks.privilege).toBeGreaterThan(10);
    expect(checks.membership).toBe(2);
    expect(run.report.checks.filter((c) => c.kind === 'privilege' || c.kind === 'membership')).toEqual([]);

    const created = await roles(target, [...CUSTOM, 'unrelated']);
    expect(Object.keys(created).sort()).toEqual([...CUSTOM].sort());
    for (const role of Object.values(created)) {
      expect(role.rolpassword, role.rolname).toBeNull();
      expect(role.rolcanlogin, role.rolname).toBe(false);
    }
    expect(created.app_worker).toMatchObject({ rolinherit: false, rolbypassrls: true, rolcreaterole: true });
    expect(created.app_worker!.rolconfig).toEqual(['statement_timeout=5s']);
    expect(created.reporting!.rolconfig).toEqual(['search_path=app, "$user", public']);
    expect(created.reporting!.rolconnlimit).toBe(3);
    expect(await memberships(target)).toEqual(
      expect.arrayContaining(['analyst in reporting (admin)', 'reporting in readers']),
    );
  }, 120_000);

  it('fails verification by grantee and object when any one grant is lost in the restored database', async () => {
    const { database: datname } = await keptDrill();
    const manifest = await readManifest(fx.store, 'app', backupIds.get('app')!);
    const expected = await readExpectedCatalog(manifest, { identities: [fx.identity] });
    const verify = async () =>
      errorsOf(
        (
          await verifyRestore({
            target: parseConnectionUrl(target.url({ database: datname }), 'target-url'),
            expected,
            migrationsTable: 'supabase_migrations.schema_migrations',
            sqlChecks: [],
            jobs: 1,
          })
        ).result.checks,
      );
    expect(await verify()).toEqual([]);
    for (const grant of GRANTS_TO_REMOVE) {
      await target.exec(`BEGIN; ${grant.revoke}; COMMIT;`, datname);
      const errors = await verify();
      expect(errors.length, grant.revoke).toBeGreaterThan(0);
      expect(errors[0]!.object, grant.revoke).toBe(grant.object);
      expect(errors[0]!.message, grant.revoke).toContain(grant.grantee);
      // Back as it was, for the next grant.
      await target.exec(revert(grant.revoke), datname);
      expect(await verify(), `after restoring: ${grant.revoke}`).toEqual([]);
    }
  }, 120_000);

  it('never creates or alters Supabase platform roles, and creates only what the profile lacks', async () => {
    // A platform role the target already has, defined its own way: it must stay so.
    await target.exec(`DO $$ BEGIN CREATE ROLE authenticator NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
      ALTER ROLE authenticator SET statement_timeout = '1s';`);
    const before = await roles(target, ['authenticator']);
    const run = await drill(target, { name: 'supa', profile: 'supabase' });
    expect(run.error, run.log.text()).toBeUndefined();
    expect(await roles(target, ['authenticator'])).toEqual(before);
    expect(await memberships(target)).not.toEqual(expect.arrayContaining(['authenticator in anon']));
    // The membership the platform owns is reported, not failed.
    expect(run.report.checks).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: 'membership',
          object: 'membership of authenticator in anon',
          severity: 'warning',
        }),
      ]),
    );
  }, 120_000);
});

describe('full restore into a new server', () => {
  let fresh: Cluster;
  beforeAll(async () => {
    fresh = await startCluster();
  }, 60_000);
  afterAll(async () => {
    await fresh?.stop();
  });

  it('refuses, naming the roles, when the target user may not create roles', async () => {
    const other = await startCluster();
    try {
      await other.createRole('plain', { password: 'plain-pw-123', attributes: 'LOGIN' });
      await other.query('CREATE DATABASE app OWNER plain');
      const run = await runLifeboat(
        {
          mode: 'restore',
          store: fx.dir,
          name: 'app',
          'target-url': other.url({ database: 'app', user: 'plain', password: 'plain-pw-123' }),
          'encryption-identity': fx.identity,
          confirm: confirmFor(other, 'app'),
        },
        { store: fx.store, unmasked: true },
      );
      const error = run.error as LifeboatError;
      expect(error?.code).toBe('permission');
      expect(error.message).toContain('analyst, app_worker, readers, reporting');
      expect(error.message).toContain('CREATEROLE');
      expect(await roles(other, CUSTOM)).toEqual({});
    } finally {
      await other.stop();
    }
  }, 120_000);

  it('drills a Supabase backup into a bare server without creating its platform roles', async () => {
    const run = await drill(fresh, { name: 'supa', profile: 'supabase' });
    expect(run.error, run.log.text()).toBeUndefined();
    expect(Object.keys(await roles(fresh, ['anon', 'authenticated', 'authenticator']))).toEqual([
      'anon',
      'authenticated',
    ]);
  }, 120_000);

  it('creates the missing roles in the restore, without passwords, and leaves them in place', async () => {
    await fresh.createDatabase('app');
    const run = await runLifeboat(
      {
        mode: 'restore',
        store: fx.dir,
        name: 'app',
        'target-url': fresh.url({ database: 'app' }),
        'encryption-identity': fx.identity,
        confirm: confirmFor(fresh, 'app'),
        'restore-role-logins': 'true',
      },
      { store: fx.store, unmasked: true },
    );
    expect(run.error, String((run.error as Error | undefined)?.message)).toBeUndefined();
    const created = await roles(fresh, CUSTOM);
    expect(Object.keys(created).sort()).toEqual([...CUSTOM].sort());
    for (const role of Object.values(created)) expect(role.rolpassword, role.rolname).toBeNull();
    // restore-role-logins: roles that could log in can again, once someone sets a password.
    expect(created.analyst!.rolcanlogin).toBe(true);
    expect(created.reporting!.rolcanlogin).toBe(false);
    expect(await memberships(fresh)).toEqual(
      expect.arrayContaining(['analyst in reporting (admin)', 'reporting in readers']),
    );
    const [grants] = await fresh.query<{ ok: boolean }>(
      `SELECT has_column_privilege('analyst', 'public.orders', 'customer', 'SELECT')
        AND has_column_privilege('app_worker', 'public.orders', 'note', 'UPDATE')
        AND NOT has_column_privilege('app_worker', 'public.orders', 'total', 'UPDATE') AS ok`,
      [],
      'app',
    );
    expect(grants!.ok).toBe(true);
  }, 120_000);
});

describe('lifeboat show', () => {
  async function show(args: string[]): Promise<{ code: number; stdout: string }> {
    const out: string[] = [];
    const spy = vi
      .spyOn(process.stdout, 'write')
      .mockImplementation((chunk) => (out.push(String(chunk)), true));
    try {
      const code = await cli(['show', ...args, '--store', fx.dir, '--name', 'app'], {
        PATH: process.env.PATH,
        LIFEBOAT_IDENTITY: fx.identity,
      });
      return { code, stdout: out.join('') };
    } finally {
      spy.mockRestore();
    }
  }

  it('prints what a backup holds, roles and memberships included, without restoring it', async () => {
    const json = await show([backupIds.get('app')!, '--json']);
    expect(json.code).toBe(0);
    const view = JSON.parse(json.stdout) as Record<string, unknown> & {
      tables: { schema: string; name: string; rows: number; bytes: number }[];
      roles: { name: string; login: boolean }[];
      memberships: { role: string; member: string; admin: boolean }[];
    };
    expect(view).toMatchObject({
      backupId: backupIds.get('app'),
      database: 'app',
      schemas: ['app', 'public'],
    });
    expect(view.tables.find((t) => t.name === 'orders')).toMatchObject({
      rows: 50,
      bytes: expect.any(Number),
    });
    expect(view.roles.map((r) => r.name)).toEqual([
      'analyst',
      'app_worker',
      'pg_database_owner',
      'postgres',
      'readers',
      'reporting',
    ]);
    expect(view.memberships).toContainEqual(
      expect.objectContaining({ role: 'reporting', member: 'analyst', admin: true }),
    );
    expect(json.stdout).not.toMatch(/secret-pw|PASSWORD/i);

    const text = await show(['latest']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('Database app on PostgreSQL 15');
    expect(text.stdout).toMatch(/public\.orders\s+50\s+\S+/);
    expect(text.stdout).toContain(
      'analyst: NOLOGIN VALID UNTIL 2031-01-01T00:00:00Z; member of reporting (admin)'.replace(
        'NOLOGIN',
        'LOGIN',
      ),
    );
    expect(text.stdout).toContain('SET statement_timeout=5s');
  });
});

/** The GRANT that undoes one REVOKE of the fixture. */
function revert(revoke: string): string {
  const membership = /^REVOKE (\w+) FROM (\w+)$/.exec(revoke);
  if (membership) {
    const admin = membership[1] === 'reporting' && membership[2] === 'analyst' ? ' WITH ADMIN OPTION' : '';
    return `GRANT ${membership[1]} TO ${membership[2]}${admin}`;
  }
  return revoke.replace(/REVOKE/, 'GRANT').replace(/ FROM /, ' TO ');
}
