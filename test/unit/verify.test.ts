import { describe, expect, it } from 'vitest';
import { commentOut, describeEntry, parseToc } from '../../src/drill/toc.js';
import type { CatalogSnapshot } from '../../src/postgres/catalog.js';
import { splitSqlChecks } from '../../src/postgres/live-checks.js';
import { detectProfile, planPreparation, type TargetState } from '../../src/postgres/profile.js';
import { explainRestoreFailure, pgRestoreArgs } from '../../src/postgres/restore.js';
import { compareSnapshots } from '../../src/postgres/verify.js';

/** A small Supabase-shaped snapshot, as a backup of the fixture records it. */
function snapshot(): CatalogSnapshot {
  return {
    takenAt: '2026-01-05T00:00:00.000Z',
    database: 'app',
    serverVersion: '15.18',
    serverMajor: 15,
    tables: [
      {
        schema: 'auth',
        name: 'users',
        kind: 'r',
        rows: 200,
        rlsEnabled: false,
        rlsForced: false,
        owner: 'postgres',
      },
      {
        schema: 'public',
        name: 'clips',
        kind: 'r',
        rows: 1600,
        rlsEnabled: true,
        rlsForced: false,
        owner: 'postgres',
      },
      {
        schema: 'public',
        name: 'subscriptions',
        kind: 'r',
        rows: 60,
        rlsEnabled: true,
        rlsForced: true,
        owner: 'postgres',
      },
    ],
    policies: [
      {
        schema: 'public',
        table: 'clips',
        name: 'members read clips',
        command: 'r',
        permissive: true,
        roles: ['authenticated'],
        using: 'is_workspace_member(workspace_id)',
        check: null,
      },
    ],
    functions: [
      {
        schema: 'auth',
        name: 'uid',
        args: '',
        kind: 'f',
        language: 'sql',
        bodyHash: 'aaa',
        securityDefiner: false,
      },
    ],
    extensions: [
      { name: 'plpgsql', version: '1.0', schema: 'pg_catalog' },
      { name: 'pgcrypto', version: '1.3', schema: 'extensions' },
    ],
    databaseSettings: [{ role: '', setting: 'search_path=public, extensions' }],
    constraints: [
      {
        schema: 'public',
        table: 'clips',
        name: 'clips_project_id_fkey',
        type: 'f',
        definition: 'FOREIGN KEY (project_id) REFERENCES projects(id) ON DELETE CASCADE',
        validated: true,
      },
    ],
    indexes: [
      {
        schema: 'public',
        table: 'clips',
        name: 'clips_pkey',
        definition: 'CREATE UNIQUE INDEX clips_pkey ON public.clips USING btree (id)',
      },
    ],
    triggers: [
      {
        schema: 'public',
        table: 'clips',
        name: 'clips_updated_at',
        enabled: 'O',
        definition:
          'CREATE TRIGGER clips_updated_at BEFORE UPDATE ON public.clips FOR EACH ROW EXECUTE FUNCTION set_updated_at()',
      },
    ],
    views: [
      {
        schema: 'public',
        name: 'job_stats',
        kind: 'm',
        definition: ' SELECT jobs.kind\n   FROM jobs;',
        populated: true,
      },
    ],
    sequences: [
      { schema: 'public', name: 'job_events_id_seq', lastValue: '2400', isCalled: true, ownedBy: null },
    ],
    roles: ['anon', 'authenticated', 'postgres', 'service_role'],
    schemas: ['auth', 'extensions', 'public', 'supabase_migrations'],
    largeObjects: 0,
    migration: { table: 'supabase_migrations.schema_migrations', latestVersion: '20240320120000', count: 3 },
  };
}

function restored(change: (s: CatalogSnapshot) => void = () => undefined): CatalogSnapshot {
  const s = snapshot();
  change(s);
  return s;
}

describe('comparing a restored database with the catalog its backup recorded', () => {
  it('finds no difference when the restore is faithful, and says how much it compared', () => {
    const { checks, compared } = compareSnapshots(snapshot(), restored());
    expect(checks).toEqual([]);
    expect(compared).toMatchObject({
      table: 3,
      rows: 3,
      rls: 3,
      policy: 1,
      function: 1,
      extension: 1,
      migration: 1,
    });
  });

  it('names the table and both counts when rows went missing', () => {
    const { checks } = compareSnapshots(
      snapshot(),
      restored((s) => (s.tables[1]!.rows = 1200)),
    );
    expect(checks).toEqual([
      {
        kind: 'rows',
        object: 'public.clips',
        expected: 1600,
        actual: 1200,
        severity: 'error',
        message: 'public.clips: 1200 rows restored, 1600 expected (400 missing).',
      },
    ]);
  });

  it('fails on a missing or an extra table', () => {
    const { checks } = compareSnapshots(
      snapshot(),
      restored((s) => {
        s.tables.splice(0, 1);
        s.tables.push({ ...s.tables[0]!, name: 'stray' });
      }),
    );
    expect(checks.map((c) => [c.object, c.severity])).toEqual([
      ['table auth.users', 'error'],
      ['table public.stray', 'error'],
    ]);
    expect(checks[0]!.message).toBe('Table auth.users is missing from the restored database.');
  });

  it('fails when row-level security lost its enabled or forced flag', () => {
    const { checks } = compareSnapshots(
      snapshot(),
      restored((s) => (s.tables[2]!.rlsForced = false)),
    );
    expect(checks).toHaveLength(1);
    expect(checks[0]).toMatchObject({
      kind: 'rls',
      object: 'public.subscriptions',
      expected: true,
      actual: false,
    });
  });

  it('fails when a policy lost a role or changed its expression', () => {
    const { checks } = compareSnapshots(
      snapshot(),
      restored((s) => {
        s.policies[0]!.roles = ['public'];
        s.policies[0]!.using = 'true';
      }),
    );
    expect(checks.map((c) => c.message)).toEqual([
      'Policy "members read clips" on public.clips: roles is "public", expected "authenticated".',
      'Policy "members read clips" on public.clips: USING expression is "true", expected "is_workspace_member(workspace_id)".',
    ]);
    expect(checks.every((c) => c.severity === 'error')).toBe(true);
  });

  it('fails when a function body differs and when a function is missing', () => {
    const body = compareSnapshots(
      snapshot(),
      restored((s) => (s.functions[0]!.bodyHash = 'bbb')),
    ).checks;
    expect(body).toMatchObject([{ kind: 'function', object: 'function auth.uid()', severity: 'error' }]);
    const gone = compareSnapshots(
      snapshot(),
      restored((s) => (s.functions = [])),
    ).checks;
    expect(gone[0]!.message).toBe('Function auth.uid() is missing from the restored database.');
  });

  it('ignores whitespace in definitions that servers pretty-print', () => {
    const { checks } = compareSnapshots(
      snapshot(),
      restored((s) => (s.views[0]!.definition = 'SELECT jobs.kind FROM jobs')),
    );
    expect(checks).toEqual([]);
  });

  it('warns rather than fails on definition-only differences between server majors', () => {
    const { checks } = compareSnapshots(
      snapshot(),
      restored((s) => {
        s.serverMajor = 17;
        s.indexes[0]!.definition = 'CREATE UNIQUE INDEX clips_pkey ON ONLY public.clips USING btree (id)';
        s.views[0]!.definition = 'SELECT kind FROM jobs';
      }),
    );
    expect(checks.map((c) => [c.kind, c.severity])).toEqual([
      ['view', 'warning'],
      ['index', 'warning'],
    ]);
  });

  it('treats the same definition change as a failure on the same major', () => {
    const { checks } = compareSnapshots(
      snapshot(),
      restored((s) => (s.views[0]!.definition = 'SELECT kind FROM jobs')),
    );
    expect(checks).toMatchObject([
      { kind: 'view', object: 'materialized view public.job_stats', severity: 'error' },
    ]);
  });

  it('fails on an unpopulated materialized view, a lost constraint, a disabled trigger', () => {
    const { checks } = compareSnapshots(
      snapshot(),
      restored((s) => {
        s.views[0]!.populated = false;
        s.constraints = [];
        s.triggers[0]!.enabled = 'D';
      }),
    );
    expect(checks.map((c) => c.object).sort()).toEqual([
      'constraint clips_project_id_fkey on public.clips',
      'materialized view public.job_stats',
      'trigger clips_updated_at on public.clips',
    ]);
  });

  it('only warns about extension versions, and about extensions the profile skipped', () => {
    const newer = compareSnapshots(
      snapshot(),
      restored((s) => (s.extensions[1]!.version = '1.4')),
    ).checks;
    expect(newer).toMatchObject([{ kind: 'extension', severity: 'warning', expected: '1.3', actual: '1.4' }]);
    const expected = restored((s) =>
      s.extensions.push({ name: 'pg_graphql', version: '1.5', schema: 'graphql' }),
    );
    const skipped = compareSnapshots(expected, restored(), { skippedExtensions: ['pg_graphql'] }).checks;
    expect(skipped).toMatchObject([{ object: 'extension pg_graphql', severity: 'warning' }]);
    const lost = compareSnapshots(expected, restored()).checks;
    expect(lost).toMatchObject([{ object: 'extension pg_graphql', severity: 'error' }]);
  });

  it('fails when a database setting or the latest migration did not come back', () => {
    const { checks } = compareSnapshots(
      snapshot(),
      restored((s) => {
        s.databaseSettings = [];
        s.migration = { ...s.migration!, latestVersion: '20240215093000' };
      }),
    );
    expect(checks.map((c) => c.message)).toEqual([
      'Setting search_path is missing from the restored database.',
      'Latest migration in supabase_migrations.schema_migrations is 20240215093000, expected 20240320120000.',
    ]);
  });

  it('only warns when a sequence value differs: sequences are not transactional', () => {
    const { checks } = compareSnapshots(
      snapshot(),
      restored((s) => (s.sequences[0]!.lastValue = '2401')),
    );
    expect(checks).toMatchObject([{ kind: 'sequence', severity: 'warning' }]);
  });

  it('does not report what the drill itself created as extra', () => {
    const { checks } = compareSnapshots(
      snapshot(),
      restored((s) => {
        s.schemas.push('storage');
        s.functions.push({ ...s.functions[0]!, name: 'role' });
      }),
      { prepared: { schemas: ['storage'], functions: ['auth.role()'] } },
    );
    expect(checks).toEqual([]);
  });
});

describe('the team’s verify-sql file', () => {
  it('splits at top-level semicolons and labels statements by their name comment or their text', () => {
    const checks = splitSqlChecks(`-- name: every workspace has an owner
SELECT NOT EXISTS (SELECT 1 FROM workspaces w WHERE NOT EXISTS (SELECT 1 FROM workspace_members m WHERE m.role = 'owner'));

/* a block comment; with a semicolon */
SELECT count(*) = 3 FROM supabase_migrations.schema_migrations;
-- name: quotes and dollars
SELECT 'a;b' <> $x$;$x$ AND "we;ird" IS NULL FROM (SELECT NULL AS "we;ird") t
`);
    expect(checks.map((c) => [c.label, c.line])).toEqual([
      ['every workspace has an owner', 2],
      ['SELECT count(*) = 3 FROM supabase_migrations.schema_migrations', 5],
      ['quotes and dollars', 7],
    ]);
    expect(checks[2]!.sql).toBe(
      `SELECT 'a;b' <> $x$;$x$ AND "we;ird" IS NULL FROM (SELECT NULL AS "we;ird") t`,
    );
  });

  it('ignores empty statements and comment-only files', () => {
    expect(splitSqlChecks(';;\n-- name: nothing\n/* none */\n')).toEqual([]);
  });
});

const LISTING = `;
; Archive created at 2026-01-05 00:00:00 UTC
;
10; 2615 16388 SCHEMA - auth postgres
3630; 0 0 ACL - SCHEMA auth postgres
3; 3079 16428 EXTENSION - citext 
3633; 0 0 COMMENT - EXTENSION citext 
4; 3079 16500 EXTENSION - pg_graphql 
3634; 0 0 COMMENT - EXTENSION pg_graphql 
5; 3079 16501 EXTENSION - supabase_vault 
4000; 0 16601 TABLE DATA vault secrets supabase_admin
323; 1255 16545 FUNCTION auth uid() supabase_auth_admin
3608; 3256 16726 POLICY public clips members read clips postgres
2209; 826 16730 DEFAULT ACL public DEFAULT PRIVILEGES FOR TABLES postgres
4100; 3466 16800 EVENT TRIGGER - issue_pg_graphql_access supabase_admin
`;

describe('the archive’s table of contents', () => {
  it('parses kinds, schemas, tags and owners, spaces and all', () => {
    const toc = parseToc(LISTING);
    expect(toc).toHaveLength(12);
    expect(toc[0]).toMatchObject({ id: 10, desc: 'SCHEMA', namespace: null, tag: 'auth', owner: 'postgres' });
    expect(toc[3]).toMatchObject({ desc: 'COMMENT', tag: 'EXTENSION citext', owner: '' });
    expect(toc[10]).toMatchObject({
      desc: 'DEFAULT ACL',
      namespace: 'public',
      tag: 'DEFAULT PRIVILEGES FOR TABLES',
    });
    expect(describeEntry(toc[9]!)).toBe('POLICY members read clips on public.clips');
    expect(describeEntry(toc[8]!)).toBe('FUNCTION auth.uid()');
  });

  it('comments out exactly the skipped entries for --use-list', () => {
    const list = commentOut(LISTING, new Set([4, 3634]));
    expect(list.split('\n').filter((l) => l.startsWith(';4') || l.startsWith(';3634'))).toHaveLength(2);
    expect(parseToc(list).map((e) => e.id)).not.toContain(4);
  });
});

describe('preparing a bare server for the backup', () => {
  const bare: TargetState = {
    roles: new Set(['postgres', 'pg_read_all_data']),
    schemas: new Set(['public', 'pg_catalog', 'information_schema']),
    functions: new Set(),
    availableExtensions: new Set(['plpgsql', 'citext', 'pgcrypto']),
    superuser: true,
  };

  it('recognises a Supabase database by its roles and schemas', () => {
    expect(detectProfile(snapshot(), 'auto').profile).toBe('supabase');
    const plain = restored((s) => {
      s.roles = ['postgres'];
      s.policies = [];
      s.schemas = ['public'];
    });
    expect(detectProfile(plain, 'auto')).toEqual({
      profile: 'postgres',
      reason: 'the backup references no Supabase roles or schemas',
    });
    expect(detectProfile(snapshot(), 'postgres').profile).toBe('postgres');
  });

  it('creates the missing roles, and nothing the archive brings itself', () => {
    const plan = planPreparation('supabase', snapshot(), parseToc(LISTING), bare);
    expect(plan.roles).toEqual([
      'anon',
      'authenticated',
      'service_role',
      'supabase_admin',
      'supabase_auth_admin',
    ]);
    // The archive creates schema auth and auth.uid(): creating them first would fail the restore.
    expect(plan.schemas).toEqual(['extensions', 'supabase_migrations']);
    expect(plan.functions).toEqual([]);
    expect(plan.steps.find((s) => s.creates === 'role service_role')!.sql).toContain(
      'NOLOGIN NOINHERIT BYPASSRLS',
    );
  });

  it('creates schema auth and the auth function stand-ins when neither archive nor server has them', () => {
    const toc = parseToc(LISTING).filter((e) => e.tag !== 'auth' && e.namespace !== 'auth');
    const plan = planPreparation('supabase', snapshot(), toc, bare);
    expect(plan.schemas).toContain('auth');
    expect(plan.functions).toEqual(['auth.uid()', 'auth.role()', 'auth.jwt()']);
    const withUid = planPreparation('supabase', snapshot(), toc, {
      ...bare,
      schemas: new Set([...bare.schemas, 'auth']),
      functions: new Set(['auth.uid()']),
    });
    expect(withUid.functions).toEqual([]);
  });

  it('skips platform extensions and what depends on them, naming each entry', () => {
    const plan = planPreparation('supabase', snapshot(), parseToc(LISTING), { ...bare, superuser: false });
    expect(plan.skippedExtensions).toEqual(['pg_graphql', 'supabase_vault']);
    expect(plan.skipped.map((s) => s.entry)).toEqual([
      'EXTENSION pg_graphql',
      'EXTENSION supabase_vault',
      'COMMENT EXTENSION pg_graphql',
      'TABLE DATA vault.secrets',
      'EVENT TRIGGER issue_pg_graphql_access',
    ]);
    expect(plan.skipped[0]!.reason).toBe('a Supabase platform extension this server does not have');
  });

  it('creates nothing with profile postgres and says which roles will be missing', () => {
    const plan = planPreparation('postgres', snapshot(), parseToc(LISTING), bare);
    expect(plan.steps).toEqual([]);
    expect(plan.skipped).toEqual([]);
    expect(plan.missingRoles).toEqual([
      'anon',
      'authenticated',
      'service_role',
      'supabase_admin',
      'supabase_auth_admin',
    ]);
  });
});

describe('pg_restore', () => {
  it('restores in parallel, stops at the first error, and never puts a password on the command line', () => {
    const target = {
      host: 'db',
      port: 5432,
      database: 'drill',
      user: 'postgres',
      password: 'hunter22',
      params: {},
    };
    const args = pgRestoreArgs({
      target,
      file: 'scratch/backup.dump',
      jobs: 4,
      listFile: 'scratch/restore.list',
    });
    expect(args).toEqual([
      '--dbname=drill',
      '--exit-on-error',
      '--jobs=4',
      '--no-password',
      '--use-list=scratch/restore.list',
      'scratch/backup.dump',
    ]);
    expect(args.join(' ')).not.toContain('hunter22');
  });

  it('names the object and the missing role, and points at the supabase profile', () => {
    const stderr = `pg_restore: error: could not execute query: ERROR:  role "authenticated" does not exist
Command was: CREATE POLICY "members read clips" ON public.clips FOR SELECT TO authenticated USING (public.is_workspace_member(workspace_id));


pg_restore: error: a worker process died unexpectedly`;
    const error = explainRestoreFailure(stderr, 'postgres');
    expect(error.code).toBe('restore');
    expect(error.message).toBe(
      'pg_restore stopped at policy "members read clips" on public.clips: role "authenticated" does not exist.\n' +
        'Command was: CREATE POLICY "members read clips" ON public.clips FOR SELECT TO authenticated USING (public.is_workspace_member(workspace_id));',
    );
    expect(error.hint).toContain('Use profile `supabase` or `auto`');
  });

  it('names the TOC entry when a verbose restore printed it', () => {
    const stderr = `pg_restore: while PROCESSING TOC:
pg_restore: from TOC entry 4; 3079 16500 EXTENSION pg_graphql 
pg_restore: error: could not execute query: ERROR:  extension "pg_graphql" is not available
Command was: CREATE EXTENSION IF NOT EXISTS pg_graphql WITH SCHEMA graphql;`;
    const error = explainRestoreFailure(stderr, 'supabase');
    expect(error.message).toMatch(
      /^pg_restore stopped at EXTENSION pg_graphql: extension "pg_graphql" is not available\./,
    );
    expect(error.hint).toContain('supabase/postgres image');
  });
});
