import { describe, expect, it } from 'vitest';
import { parseSettings, type RestoreSettings } from '../../src/settings/settings.js';
import type { Check } from '../../src/postgres/verify/checks.js';
import { isLifeboatError, LifeboatError } from '../../src/errors.js';
import type { CatalogSnapshot } from '../../src/postgres/catalog.js';
import { renderRestoreSummary } from '../../src/restore/restore-summary.js';
import { explainCleanRestoreFailure } from '../../src/restore/clean-restore.js';
import {
  askConfirmation,
  checkConfirmation,
  confirmationFor,
  confirmFromInput,
} from '../../src/restore/confirm.js';
import { keptAsWarnings, planDrops } from '../../src/restore/extras.js';
import { buildRestorePlan, sideTableNames } from '../../src/restore/plan.js';
import { renderPlanText } from '../../src/restore/plan-text.js';
import { rollbackInstructions, shellQuote, withRollback } from '../../src/restore/rollback.js';
import { makeManifest } from '../helpers/manifest.js';

const PASSWORD = 's3cr3t p@ss/word';
const ID = '20260301_120000_000_0a1b2c3d';
const SIDE = `lifeboat_restore_${ID}`;

function restoreSettings(inputs: Record<string, string> = {}): RestoreSettings {
  const all: Record<string, string> = {
    mode: 'restore',
    'target-url': `postgresql://postgres:${encodeURIComponent(PASSWORD)}@db.example.com:5432/app`,
    'encryption-passphrase': 'correct horse battery staple',
    ...inputs,
  };
  return parseSettings(
    (name) => all[name] ?? '',
    () => undefined,
  ) as RestoreSettings;
}

function catalog(parts: Partial<CatalogSnapshot> = {}): CatalogSnapshot {
  return {
    takenAt: '2026-03-01T12:00:00.000Z',
    database: 'app',
    serverVersion: '15.8',
    serverMajor: 15,
    tables: [],
    policies: [],
    functions: [],
    extensions: [],
    databaseSettings: [],
    constraints: [],
    indexes: [],
    triggers: [],
    views: [],
    sequences: [],
    roles: ['postgres'],
    schemas: ['public'],
    largeObjects: 0,
    migration: null,
    ...parts,
  };
}

const table = (schema: string, name: string, rows: number | null, kind: 'r' | 'p' = 'r') => ({
  schema,
  name,
  kind,
  rows,
  rlsEnabled: false,
  rlsForced: false,
  owner: 'postgres',
});

const BACKUP = catalog({
  tables: [table('public', 'workspaces', 100), table('public', 'clips', 1600), table('auth', 'users', 200)],
  policies: [
    {
      schema: 'public',
      table: 'clips',
      name: 'members read clips',
      command: 'r',
      permissive: true,
      roles: ['authenticated'],
      using: 'true',
      check: null,
    },
  ],
  schemas: ['auth', 'public'],
});

const LIVE = catalog({
  tables: [table('public', 'workspaces', 97), table('public', 'clips', 1067), table('public', 'audit', 12)],
  functions: [
    {
      schema: 'public',
      name: 'f',
      args: 'x integer',
      kind: 'f',
      language: 'sql',
      bodyHash: 'h',
      securityDefiner: false,
    },
  ],
  views: [{ schema: 'public', name: 'busy', kind: 'v', definition: 'SELECT 1', populated: true }],
  extensions: [{ name: 'pg_trgm', version: '1.6', schema: 'public' }],
  schemas: ['public', 'scratch', SIDE],
  sequences: [
    { schema: 'public', name: 'standalone', lastValue: '1', isCalled: true, ownedBy: null },
    {
      schema: 'public',
      name: 'audit_id_seq',
      lastValue: '12',
      isCalled: true,
      ownedBy: { schema: 'public', table: 'audit', column: 'id' },
    },
  ],
});

function plan(inputs: Record<string, string> = {}, live = LIVE) {
  const settings = restoreSettings(inputs);
  return buildRestorePlan({
    manifest: makeManifest({ backupId: ID, createdAt: '2026-03-01T12:00:00.000Z' }),
    expected: BACKUP,
    live,
    target: settings.target,
    settings,
    storeLocation: 's3://bucket/lifeboat',
    now: new Date('2026-03-01T15:30:00.000Z'),
  });
}

describe('confirmation', () => {
  it('refuses a wrong or empty confirm and says exactly what to type', () => {
    for (const given of ['', 'production', 'app', 'DB.example.com:5432/app']) {
      let error: unknown;
      try {
        checkConfirmation(restoreSettings(), given);
      } catch (e) {
        error = e;
      }
      expect(isLifeboatError(error, 'confirm')).toBe(true);
      expect((error as LifeboatError).message).toMatch(/Nothing was changed/);
      expect((error as LifeboatError).hint).toContain('`confirm: db.example.com:5432/app`');
      expect((error as LifeboatError).hint).toContain('`--confirm db.example.com:5432/app`');
    }
    expect(() => checkConfirmation(restoreSettings(), 'db.example.com:5432/app')).not.toThrow();
  });

  it('names a Supabase target by its project ref, so two projects (both "postgres") cannot be confused', () => {
    const direct = (ref: string) => ({
      'target-url': `postgresql://postgres:pw@db.${ref}.supabase.co:5432/postgres`,
    });
    const pooler = (ref: string) => ({
      'target-url': `postgresql://postgres.${ref}:pw@aws-0-eu-central-1.pooler.supabase.com:5432/postgres`,
    });
    for (const inputs of [direct('abcdefghijklmnopqrst'), pooler('abcdefghijklmnopqrst')]) {
      const settings = restoreSettings(inputs);
      expect(confirmationFor(settings.target)).toBe('abcdefghijklmnopqrst');
      expect(() => checkConfirmation(settings, 'abcdefghijklmnopqrst')).not.toThrow();
      // The database name, or another project's ref, is refused before anything happens.
      expect(() => checkConfirmation(settings, 'postgres')).toThrow(
        /Supabase project ref "abcdefghijklmnopqrst"/,
      );
      expect(() => checkConfirmation(settings, 'zyxwvutsrqponmlkjihg')).toThrow(/Nothing was changed/);
    }
    expect(() =>
      checkConfirmation(restoreSettings(pooler('zyxwvutsrqponmlkjihg')), 'abcdefghijklmnopqrst'),
    ).toThrow(/"zyxwvutsrqponmlkjihg"/);
    // A plain server keeps host, port and database, with IPv6 hosts in brackets as the plan prints them.
    const v6 = restoreSettings({ 'target-url': 'postgresql://u:pw@[2001:db8::1]:6432/app' });
    expect(confirmationFor(v6.target)).toBe('[2001:db8::1]:6432/app');
    expect(plan({ 'target-url': direct('abcdefghijklmnopqrst')['target-url'] }).confirm.needed).toBe(
      'abcdefghijklmnopqrst',
    );
  });

  it('checks a given confirm at once, leaves an empty one to the prompt at a terminal, and never asks on a dry run', async () => {
    expect(confirmFromInput(restoreSettings({ confirm: 'db.example.com:5432/app' }), true)).toBe(
      'db.example.com:5432/app',
    );
    expect(() => confirmFromInput(restoreSettings({ confirm: 'prod' }), true)).toThrow(/is "prod"/);
    expect(() => confirmFromInput(restoreSettings(), false)).toThrow(/is empty/);
    expect(confirmFromInput(restoreSettings(), true)).toBeUndefined();
    expect(confirmFromInput(restoreSettings({ 'dry-run': 'true' }), false)).toBe('');

    const asked: string[] = [];
    const answer = (text: string) => async (q: string) => (asked.push(q), text);
    await expect(askConfirmation(restoreSettings(), answer(' db.example.com:5432/app '))).resolves.toBe(
      'db.example.com:5432/app',
    );
    await expect(askConfirmation(restoreSettings({ tables: 'public.clips' }), answer('app'))).rejects.toThrow(
      /is "app", but it must name the target, host:port\/database, "db.example.com:5432\/app"/,
    );
    expect(asked).toEqual([
      'Type the target (db.example.com:5432/app) to restore over it: ',
      'Type the target (db.example.com:5432/app) to restore tables into it: ',
    ]);
  });
});

describe('restore plan', () => {
  it('lists the backup, the target without its password, every table with its rows, and what changes', () => {
    const p = plan({ 'dry-run': 'true' });
    const text = renderPlanText(p).join('\n');
    expect(text).toContain(
      `Backup:  ${ID} of "production", taken 2026-03-01T12:00:00.000Z (3h 30m ago), verified: readable`,
    );
    expect(text).toContain('Target:  db.example.com:5432/app (PostgreSQL 15.8)');
    expect(text).toContain('the real run needs `confirm: db.example.com:5432/app`');
    expect(text).toContain('public.clips: 1600 rows (1067 in the target, 533 more after the restore)');
    expect(text).toContain('auth.users: 200 rows (not in the target)');
    expect(text).toContain(
      'Policy "members read clips" on public.clips is not in the target: the restore creates it.',
    );
    expect(text).toContain('- table public.audit (12 rows)');
    expect(text).toContain('kept: schema lifeboat_restore_');
    expect(text).toContain('as "production-pre-restore"');
    const summary = renderRestoreSummary({
      plan: p,
      status: 'dry-run',
      store: 's3://bucket/lifeboat',
      checks: [],
    });
    for (const out of [text, summary]) {
      expect(out).not.toContain(PASSWORD);
      expect(out).not.toContain(encodeURIComponent(PASSWORD));
    }
  });

  it('tells a dry run that its confirm would be refused', () => {
    expect(renderPlanText(plan({ 'dry-run': 'true', confirm: 'prod' })).join('\n')).toContain(
      '"prod" given, which the real run would refuse: it needs `confirm: db.example.com:5432/app`',
    );
  });

  it('puts chosen tables into lifeboat_restore_<backup-id>, prefixing names that would collide', () => {
    const p = plan({ tables: 'public.workspaces, auth.users' });
    expect(p.kind).toBe('selective');
    expect(p.sideSchema).toBe(SIDE);
    expect(p.tables.map((t) => t.sideName)).toEqual(['workspaces', 'users']);
    expect(p.drops).toEqual([]);
    const names = sideTableNames([
      { schema: 'public', name: 'users' },
      { schema: 'auth', name: 'users' },
      { schema: 'public', name: 'clips' },
    ]);
    expect([...names.values()]).toEqual(['public__users', 'auth__users', 'clips']);
  });

  it('refuses a table the backup lacks, naming what it holds, and a partitioned parent', () => {
    expect(() => plan({ tables: 'users' })).toThrow(/Table public\.users is not in the backup/);
    try {
      plan({ tables: 'users' });
    } catch (error) {
      expect((error as LifeboatError).hint).toBe('Did you mean auth.users? Name tables as schema.table.');
    }
    const partitioned = catalog({ tables: [table('public', 'events', null, 'p')] });
    const settings = restoreSettings({ tables: 'public.events' });
    expect(() =>
      buildRestorePlan({
        manifest: makeManifest(),
        expected: partitioned,
        live: partitioned,
        target: settings.target,
        settings,
        storeLocation: 'x',
        now: new Date(),
      }),
    ).toThrow(/partitioned/);
  });
});

describe('objects the backup lacks', () => {
  it("drops the target's extra tables, views, functions, standalone sequences and schemas; keeps extensions and side schemas", () => {
    const { drops, kept } = planDrops(BACKUP, LIVE);
    expect(drops.map((d) => d.sql)).toEqual([
      'DROP SCHEMA IF EXISTS "scratch" CASCADE',
      'DROP TABLE IF EXISTS "public"."audit" CASCADE',
      'DROP VIEW IF EXISTS "public"."busy" CASCADE',
      'DROP SEQUENCE IF EXISTS "public"."standalone" CASCADE',
      'DROP ROUTINE IF EXISTS "public"."f"(x integer) CASCADE',
    ]);
    expect(kept).toEqual([`schema ${SIDE} (rows of an earlier selective restore)`, 'extension pg_trgm']);
  });

  it('reports what was kept in a side schema as a warning, anything else extra as an error', () => {
    const extra = (object: string): Check => ({
      kind: 'table',
      object,
      expected: 'absent',
      actual: 'present',
      severity: 'error',
      message: `${object} is extra.`,
    });
    const [side, other] = keptAsWarnings([extra(`table ${SIDE}.clips`), extra('table public.audit')]);
    expect(side!.severity).toBe('warning');
    expect(other!.severity).toBe('error');
  });
});

describe('rolling back', () => {
  const facts = {
    store: { kind: 'local' as const, path: './backups' },
    safetyName: 'production-pre-restore',
    safetyBackupId: '20260301_130000_000_deadbeef',
    database: 'app',
    confirm: 'db.example.com:5432/app',
  };

  it('names the exact command and action inputs, never a connection string', () => {
    const text = rollbackInstructions(facts);
    expect(text).toContain(
      'with LIFEBOAT_TARGET_URL set to the same target URL:\n  lifeboat restore --store ./backups --name production-pre-restore --backup-id 20260301_130000_000_deadbeef --confirm db.example.com:5432/app --identity-file key.txt',
    );
    expect(text).toContain(
      'mode: restore, store: ./backups, name: production-pre-restore, backup-id: 20260301_130000_000_deadbeef, confirm: db.example.com:5432/app',
    );
    expect(text).not.toMatch(/postgres(ql)?:\/\//);
  });

  it('puts the instruction in front of the hint of whatever failed', () => {
    const error = withRollback(
      new LifeboatError('restore', 'pg_restore stopped.', { hint: 'Fix it.' }),
      'Roll back.',
    );
    expect(error.code).toBe('restore');
    expect(error.hint).toBe('Roll back.\nFix it.');
    expect(withRollback(new Error('boom'), 'Roll back.').message).toBe('boom');
    expect(shellQuote("it's here")).toBe(`'it'\\''s here'`);
  });

  it('explains a restore stopped by something depending on a replaced object, and that it rolled back', () => {
    const stderr = [
      'psql:<stdin>:40: WARNING:  no privileges were granted for "secrets"',
      'psql:<stdin>:812: ERROR:  cannot drop table public.workspaces because other objects depend on it',
      'DETAIL:  view public.busy depends on table public.workspaces',
      'HINT:  Use DROP ... CASCADE to drop the dependent objects too.',
      'psql:<stdin>:812: STATEMENT:  DROP TABLE IF EXISTS public.workspaces;',
    ].join('\n');
    const error = explainCleanRestoreFailure(stderr, 'postgres')!;
    expect(error.message).toContain('cannot drop table public.workspaces because other objects depend on it');
    expect(error.message).not.toContain('no privileges were granted');
    expect(error.message).toContain('Detail: view public.busy depends on table public.workspaces');
    expect(error.message).toContain('Command was: DROP TABLE IF EXISTS public.workspaces;');
    expect(error.message).toContain('rolled back: the target is as it was before');
    expect(error.hint).toMatch(/Drop it or move it aside/);
    const locked = explainCleanRestoreFailure(
      'ERROR: canceling statement',
      'postgres',
      'pid 42 (web, idle in transaction)',
    );
    expect(locked!.code).toBe('lock');
    expect(locked!.message).toContain('held by pid 42 (web, idle in transaction)');
  });
});
