/**
 * Before and around pg_restore in a drill: reading the archive's table of contents,
 * preparing a bare server for a Supabase-shaped backup, and pg_restore's arguments and
 * failures.
 */
import { describe, expect, it } from 'vitest';
import { commentOut, describeEntry, parseToc } from '../../src/postgres/toc.js';
import { detectProfile, planPreparation, type TargetState } from '../../src/postgres/profile.js';
import { explainRestoreFailure, pgRestoreArgs } from '../../src/postgres/pg-restore.js';
import { restored, snapshot } from '../helpers/catalog.js';

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
