import type pg from 'pg';
import type { MembershipInfo, PrivilegeInfo, RoleInfo } from './catalog.js';
import { ROLE_QUERIES as R } from './roles-queries.js';

/**
 * The cluster roles a database uses, read for its catalog snapshot. A dump of one database
 * holds no roles, so a restore into a new server needs these to bring back its owners,
 * grants and policies. Passwords are never read: managed services do not expose them, and
 * a backup must not carry them.
 */
export interface RoleRecord {
  roleDetails: RoleInfo[];
  memberships: MembershipInfo[];
  privileges: PrivilegeInfo[];
}

type Row = Record<string, unknown>;

/** Reads the roles `used` names, the roles they belong to and their members, and every grant. */
export async function readRoles(
  client: pg.ClientBase,
  used: string[],
  serverMajor: number,
  options: { privileges?: boolean } = {},
): Promise<RoleRecord> {
  const roleRows = (await client.query(R.roles, [used])).rows as Row[];
  const roleDetails = roleRows.map((r) => ({
    name: String(r.name),
    superuser: Boolean(r.superuser),
    login: Boolean(r.login),
    inherit: Boolean(r.inherit),
    createRole: Boolean(r.create_role),
    createDb: Boolean(r.create_db),
    replication: Boolean(r.replication),
    bypassRls: Boolean(r.bypass_rls),
    connectionLimit: Number(r.connection_limit),
    validUntil: r.valid_until == null ? null : String(r.valid_until),
    settings: Array.isArray(r.settings) ? r.settings.map(String) : [],
  }));
  const names = roleDetails.map((r) => r.name);
  // PostgreSQL 16 made INHERIT and SET options of each membership.
  const membershipSql = serverMajor >= 16 ? R.memberships16 : R.memberships;
  const memberships = ((await client.query(membershipSql, [names])).rows as Row[]).map((r) => ({
    role: String(r.role),
    member: String(r.member),
    admin: Boolean(r.admin),
    inherit: r.inherit == null ? null : Boolean(r.inherit),
    set: r.set == null ? null : Boolean(r.set),
  }));
  if (options.privileges === false) return { roleDetails, memberships, privileges: [] };
  const privileges = ((await client.query(R.privileges)).rows as Row[]).map((r) => ({
    grantee: String(r.grantee),
    object: String(r.object),
    privilege: String(r.privilege),
    grantable: Boolean(r.grantable),
  }));
  return { roleDetails, memberships, privileges };
}

/** PostgreSQL's own roles: present on every server, never created or altered by a restore. */
export function isPostgresRole(name: string): boolean {
  return name.startsWith('pg_');
}

/**
 * Roles the Supabase platform manages. A backup records them, but a restore never creates
 * or alters them: the platform defines them (with passwords and attributes only it knows).
 */
export const SUPABASE_RESERVED_ROLES = [
  'supabase_admin',
  'authenticator',
  'supabase_auth_admin',
  'supabase_storage_admin',
  'supabase_functions_admin',
  'supabase_realtime_admin',
  'supabase_replication_admin',
  'supabase_read_only_user',
  'supabase_etl_admin',
  'dashboard_user',
  'pgbouncer',
  'pgsodium_keyholder',
  'pgsodium_keyiduser',
  'pgsodium_keymaker',
];

export function isPlatformRole(name: string, profile: 'supabase' | 'postgres'): boolean {
  return isPostgresRole(name) || (profile === 'supabase' && SUPABASE_RESERVED_ROLES.includes(name));
}
