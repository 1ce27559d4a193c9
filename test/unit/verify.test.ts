import { describe, expect, it } from 'vitest';
import { splitSqlChecks } from '../../src/postgres/verify/live-checks.js';
import { compareSnapshots } from '../../src/postgres/verify/compare.js';
import { restored, snapshot } from '../helpers/catalog.js';

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
