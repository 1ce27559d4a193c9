import { describe, expect, it } from 'vitest';
import type { CatalogSnapshot, RoleInfo } from '../../src/postgres/catalog.js';
import { alterRoleSet, grantMembership, planRoles, type RoleTarget } from '../../src/postgres/roles-plan.js';
import { comparePrivileges } from '../../src/postgres/verify/privileges.js';
import { snapshot } from '../helpers/catalog.js';

const role = (name: string, more: Partial<RoleInfo> = {}): RoleInfo => ({
  name,
  superuser: false,
  login: false,
  inherit: true,
  createRole: false,
  createDb: false,
  replication: false,
  bypassRls: false,
  connectionLimit: -1,
  validUntil: null,
  settings: [],
  ...more,
});

function recorded(): CatalogSnapshot {
  return {
    ...snapshot(),
    roleDetails: [
      role('postgres', { superuser: true, login: true }),
      role('reporting', { settings: ['search_path=app, "$user", public'] }),
      role('analyst', { login: true, validUntil: '2031-01-01T00:00:00Z' }),
      role('authenticator', { login: true, inherit: false }),
      role('pg_read_all_data'),
    ],
    memberships: [
      { role: 'reporting', member: 'analyst', admin: true, inherit: true, set: false },
      { role: 'pg_read_all_data', member: 'reporting', admin: false, inherit: null, set: null },
      { role: 'reporting', member: 'authenticator', admin: false, inherit: null, set: null },
    ],
    privileges: [
      { grantee: 'reporting', object: 'table public.orders', privilege: 'SELECT', grantable: false },
      { grantee: 'analyst', object: 'column public.orders.email', privilege: 'SELECT', grantable: false },
    ],
  };
}

const target = (more: Partial<RoleTarget> = {}): RoleTarget => ({
  roles: new Set(['postgres', 'pg_read_all_data']),
  roleInfo: new Map([['postgres', role('postgres', { superuser: true, login: true })]]),
  serverMajor: 17,
  superuser: true,
  createRole: true,
  ...more,
});

describe('creating the recorded roles', () => {
  it('creates missing roles NOLOGIN without passwords, then their settings and memberships', () => {
    const plan = planRoles(recorded(), target(), { profile: 'supabase', logins: false });
    expect(plan.created).toEqual(['reporting', 'analyst']);
    expect(plan.platformMissing).toEqual(['authenticator']);
    const sql = plan.steps.map((s) => s.sql).join('\n');
    expect(sql).toContain('CREATE ROLE "analyst" NOLOGIN INHERIT VALID UNTIL \'2031-01-01T00:00:00Z\'');
    expect(sql).not.toMatch(/PASSWORD|authenticator|pg_read_all_data/);
    expect(sql).toContain(`ALTER ROLE "reporting" SET "search_path" = 'app', '$user', 'public'`);
    expect(sql).toContain('GRANT "reporting" TO "analyst" WITH ADMIN TRUE, INHERIT TRUE, SET FALSE');
  });

  it('creates LOGIN roles when asked, and treats Supabase names as ordinary with profile postgres', () => {
    const plan = planRoles(recorded(), target(), { profile: 'postgres', logins: true });
    expect(plan.created).toEqual(['reporting', 'analyst', 'authenticator']);
    expect(plan.steps.find((s) => s.creates === 'role analyst')!.sql).toContain('"analyst" LOGIN');
  });

  it('writes only the membership options the target server has', () => {
    const m = { role: 'a', member: 'b', admin: true, inherit: false, set: true };
    expect(grantMembership(m, 15)).toBe('GRANT "a" TO "b" WITH ADMIN OPTION');
    expect(grantMembership(m, 16)).toBe('GRANT "a" TO "b" WITH ADMIN TRUE, INHERIT FALSE, SET TRUE');
    expect(grantMembership({ ...m, admin: false, inherit: null, set: null }, 17)).toBe('GRANT "a" TO "b"');
    expect(alterRoleSet('o"dd', "statement_timeout=5s'")).toBe(
      `ALTER ROLE "o""dd" SET "statement_timeout" = '5s'''`,
    );
  });

  it('leaves existing roles as they are, warning where they differ', () => {
    const plan = planRoles(
      recorded(),
      target({
        roles: new Set(['postgres', 'reporting', 'analyst']),
        roleInfo: new Map([['reporting', role('reporting', { inherit: false })]]),
      }),
      { profile: 'supabase', logins: false },
    );
    expect(plan.created).toEqual([]);
    expect(plan.steps).toEqual([]);
    expect(plan.warnings.join('\n')).toContain(
      'Role reporting exists on the target and was left as it is, but its INHERIT is false',
    );
  });

  it('refuses by name when the target user may not create roles', () => {
    expect(() =>
      planRoles(recorded(), target({ superuser: false, createRole: false }), {
        profile: 'supabase',
        logins: false,
      }),
    ).toThrow(/roles reporting, analyst do not exist on the target server.*CREATEROLE/);
  });

  it('creates nothing from a catalog that recorded no roles', () => {
    expect(planRoles(snapshot(), target(), { profile: 'postgres', logins: false }).steps).toEqual([]);
  });
});

describe('comparing privileges', () => {
  it('names the grantee and the object of a lost grant, and a lost membership', () => {
    const expected = recorded();
    const actual = { ...recorded(), privileges: expected.privileges!.slice(1), memberships: [] };
    const { checks, compared } = comparePrivileges(expected, actual);
    expect(compared).toEqual({ privilege: 2, membership: 3 });
    expect(checks.map((c) => [c.severity, c.object])).toEqual([
      ['error', 'table public.orders'],
      ['error', 'membership of analyst in reporting'],
      ['warning', 'membership of reporting in pg_read_all_data'],
      ['warning', 'membership of authenticator in reporting'],
    ]);
    expect(checks[0]!.message).toBe(
      'reporting lost SELECT on table public.orders: the backup recorded the grant, the restored database lacks it.',
    );
  });

  it('skips a catalog from before roles were recorded, and grants a newer server adds', () => {
    expect(comparePrivileges(snapshot(), recorded()).checks).toEqual([]);
    const newer = recorded();
    newer.serverMajor = 17;
    newer.privileges!.push({
      grantee: 'postgres',
      object: 'table public.orders',
      privilege: 'MAINTAIN',
      grantable: false,
    });
    expect(comparePrivileges(recorded(), newer).checks).toEqual([]);
  });
});
