import { LifeboatError } from '../errors.js';
import {
  quoteIdent,
  quoteLiteral,
  type CatalogSnapshot,
  type MembershipInfo,
  type RoleInfo,
} from './catalog.js';
import { isPlatformRole } from './roles.js';

/**
 * Creating the roles a backup recorded on a server that lacks them, before the restore
 * (pure planning: the snapshot and the target's roles in, statements out). Missing roles
 * are created with their recorded attributes, NOLOGIN unless logins are asked for, never
 * with a password; their memberships and `ALTER ROLE … SET` settings follow. Roles the
 * target has are left as they are (a warning says where their attributes differ), and
 * platform roles (`pg_*`, Supabase's reserved ones) are never created or altered.
 */
export interface RoleTarget {
  roles: Set<string>;
  /** The target's definition of each role it has. */
  roleInfo: Map<string, RoleInfo>;
  serverMajor: number;
  superuser: boolean;
  createRole: boolean;
}

export interface RolePlan {
  steps: { sql: string; creates: string }[];
  created: string[];
  /** Why a role the target has differs from the recorded one, or what could not be set. */
  warnings: string[];
  /** Recorded platform roles the target lacks: left to the platform, never created. */
  platformMissing: string[];
}

export function planRoles(
  snapshot: CatalogSnapshot,
  target: RoleTarget,
  o: { profile: 'supabase' | 'postgres'; logins: boolean },
): RolePlan {
  const plan: RolePlan = { steps: [], created: [], warnings: [], platformMissing: [] };
  for (const role of snapshot.roleDetails ?? []) {
    if (isPlatformRole(role.name, o.profile)) {
      if (!target.roles.has(role.name)) plan.platformMissing.push(role.name);
      continue;
    }
    const existing = target.roleInfo.get(role.name);
    if (existing || target.roles.has(role.name)) {
      if (existing) plan.warnings.push(...differences(role, existing, o.logins));
      continue;
    }
    plan.created.push(role.name);
    plan.steps.push({ sql: createRole(role, target, o.logins, plan.warnings), creates: `role ${role.name}` });
    for (const setting of role.settings) {
      plan.steps.push({
        sql: alterRoleSet(role.name, setting),
        creates: `setting ${setting} of role ${role.name}`,
      });
    }
  }
  if (plan.created.length && !target.superuser && !target.createRole) {
    throw new LifeboatError(
      'permission',
      `The backup's roles ${plan.created.join(', ')} do not exist on the target server, and the target-url user may not create roles (it lacks CREATEROLE). Nothing was changed.`,
      {
        hint: 'Connect as a user with CREATEROLE (on Supabase: postgres), or create those roles on the target first (`lifeboat show <backup-id>` lists them with their memberships).',
      },
    );
  }
  const created = new Set(plan.created);
  const present = (name: string) => created.has(name) || target.roles.has(name);
  for (const m of snapshot.memberships ?? []) {
    // A membership belongs to creating a role; grants between roles the target had stay its own.
    if (!created.has(m.member) && !created.has(m.role)) continue;
    if (isPlatformRole(m.member, o.profile) || isPlatformRole(m.role, o.profile)) continue;
    if (!present(m.member) || !present(m.role)) continue;
    plan.steps.push({
      sql: grantMembership(m, target.serverMajor),
      creates: `membership of ${m.member} in ${m.role}`,
    });
  }
  return plan;
}

function createRole(role: RoleInfo, target: RoleTarget, logins: boolean, warnings: string[]): string {
  const attributes = [logins && role.login ? 'LOGIN' : 'NOLOGIN', role.inherit ? 'INHERIT' : 'NOINHERIT'];
  if (role.createRole) attributes.push('CREATEROLE');
  if (role.createDb) attributes.push('CREATEDB');
  // Only a superuser may hand out these; a managed service's user is not one.
  for (const [has, name] of [
    [role.bypassRls, 'BYPASSRLS'],
    [role.replication, 'REPLICATION'],
  ] as const) {
    if (!has) continue;
    if (target.superuser) attributes.push(name);
    else warnings.push(`Role ${role.name} was created without ${name}: only a superuser may grant it.`);
  }
  // A superuser is never created from a backup: that is the server owner's decision.
  if (role.superuser) warnings.push(`Role ${role.name} was a superuser; it was created as an ordinary role.`);
  if (role.connectionLimit >= 0) attributes.push(`CONNECTION LIMIT ${role.connectionLimit}`);
  if (role.validUntil) attributes.push(`VALID UNTIL ${quoteLiteral(role.validUntil)}`);
  // A concurrent drill on the same server may create it first; roles are server-wide.
  return `DO $lifeboat$ BEGIN CREATE ROLE ${quoteIdent(role.name)} ${attributes.join(' ')};
EXCEPTION WHEN duplicate_object THEN NULL; END $lifeboat$`;
}

/** Settings whose value is a list of names, written back element by element (as pg_dumpall does). */
const LIST_SETTINGS = new Set([
  'search_path',
  'temp_tablespaces',
  'session_preload_libraries',
  'local_preload_libraries',
  'shared_preload_libraries',
]);

export function alterRoleSet(role: string, setting: string): string {
  const at = setting.indexOf('=');
  const name = setting.slice(0, at);
  const value = setting.slice(at + 1);
  const values = LIST_SETTINGS.has(name.toLowerCase())
    ? splitList(value).map(quoteLiteral).join(', ')
    : quoteLiteral(value);
  return `ALTER ROLE ${quoteIdent(role)} SET ${quoteIdent(name)} = ${values || "''"}`;
}

/** `"$user", public` → `$user`, `public`: the server's own quoting of list elements undone. */
function splitList(value: string): string[] {
  const out: string[] = [];
  const re = /\s*(?:"((?:[^"]|"")*)"|([^,]*?))\s*(?:,|$)/gy;
  let match: RegExpExecArray | null;
  while (re.lastIndex < value.length && (match = re.exec(value))) {
    out.push(match[1] !== undefined ? match[1].replace(/""/g, '"') : (match[2] ?? ''));
    if (match[0] === '') break;
  }
  return out.filter((v) => v !== '');
}

export function grantMembership(m: MembershipInfo, serverMajor: number): string {
  const options: string[] = [];
  if (serverMajor >= 16) {
    if (m.admin) options.push('ADMIN TRUE');
    if (m.inherit !== null) options.push(`INHERIT ${m.inherit ? 'TRUE' : 'FALSE'}`);
    if (m.set !== null) options.push(`SET ${m.set ? 'TRUE' : 'FALSE'}`);
  } else if (m.admin) {
    options.push('ADMIN OPTION');
  }
  return `GRANT ${quoteIdent(m.role)} TO ${quoteIdent(m.member)}${options.length ? ` WITH ${options.join(', ')}` : ''}`;
}

function differences(recorded: RoleInfo, actual: RoleInfo, logins: boolean): string[] {
  const fields: [string, unknown, unknown][] = [
    ['INHERIT', recorded.inherit, actual.inherit],
    ['CREATEROLE', recorded.createRole, actual.createRole],
    ['CREATEDB', recorded.createDb, actual.createDb],
    ['BYPASSRLS', recorded.bypassRls, actual.bypassRls],
    ['CONNECTION LIMIT', recorded.connectionLimit, actual.connectionLimit],
    ['VALID UNTIL', recorded.validUntil, actual.validUntil],
    ['settings', recorded.settings.join('; '), actual.settings.join('; ')],
  ];
  // Roles created without LOGIN on an earlier restore would otherwise warn every time.
  if (logins) fields.unshift(['LOGIN', recorded.login, actual.login]);
  return fields
    .filter(([, e, a]) => e !== a)
    .map(
      ([what, e, a]) =>
        `Role ${recorded.name} exists on the target and was left as it is, but its ${what} is ${String(a ?? 'unset')} where the backup recorded ${String(e ?? 'unset')}.`,
    );
}
