import type { CatalogSnapshot, MembershipInfo, PrivilegeInfo } from '../catalog.js';
import { isPostgresRole, SUPABASE_RESERVED_ROLES } from '../roles.js';
import { count, type Check, type Comparison } from './checks.js';

/**
 * Privileges and role memberships of the restored database against the backup's record:
 * each privilege per grantee and object (tables, columns, sequences, functions, schemas,
 * default privileges), each membership with its options. Pure. A lost grant is an error
 * naming the grantee and the object; a grant the restored copy has beyond the record is a
 * warning on the same server major and not reported across majors, where the newer server
 * adds privileges of its own (PostgreSQL 17's MAINTAIN for every table owner).
 * Policy roles are compared with the policies.
 */
export function comparePrivileges(
  expected: CatalogSnapshot,
  actual: CatalogSnapshot,
  options: { preparedSchemas?: string[] } = {},
): Comparison {
  const out: Comparison = { checks: [], compared: {} };
  // A catalog from before roles were recorded has nothing to compare against.
  if (!expected.privileges || !actual.privileges) return out;
  const sameMajor = expected.serverMajor === actual.serverMajor;
  const prepared = new Set((options.preparedSchemas ?? []).map((s) => `schema ${s}`));
  const restored = new Map(actual.privileges.map((p) => [privilegeKey(p), p]));
  count(out, 'privilege', expected.privileges.length);
  for (const e of expected.privileges) {
    const key = privilegeKey(e);
    const a = restored.get(key);
    restored.delete(key);
    if (!a) {
      out.checks.push(
        check('privilege', e.object, `${e.privilege} to ${e.grantee}`, null, 'error', {
          message: `${e.grantee} lost ${e.privilege} on ${e.object}: the backup recorded the grant, the restored database lacks it.`,
        }),
      );
    } else if (e.grantable !== a.grantable) {
      out.checks.push(
        check('privilege', e.object, grantOption(e), grantOption(a), 'error', {
          message: `${e.grantee}'s ${e.privilege} on ${e.object} is ${grantOption(a)}, expected ${grantOption(e)}.`,
        }),
      );
    }
  }
  if (sameMajor) {
    for (const a of restored.values()) {
      if (prepared.has(a.object)) continue;
      out.checks.push(
        check('privilege', a.object, null, `${a.privilege} to ${a.grantee}`, 'warning', {
          message: `${a.grantee} holds ${a.privilege} on ${a.object} in the restored database, which the backup did not record.`,
        }),
      );
    }
  }
  compareMemberships(out, expected.memberships ?? [], actual.memberships ?? [], sameMajor);
  return out;
}

function compareMemberships(
  out: Comparison,
  expected: MembershipInfo[],
  actual: MembershipInfo[],
  sameMajor: boolean,
): void {
  const restored = new Map(actual.map((m) => [`${m.member}\u0000${m.role}`, m]));
  count(out, 'membership', expected.length);
  for (const e of expected) {
    const name = `membership of ${e.member} in ${e.role}`;
    const a = restored.get(`${e.member}\u0000${e.role}`);
    // Platform roles are the platform's: a bare drill server lacks them, and nothing creates them.
    const severity = [e.member, e.role].some(isPlatformName) ? 'warning' : 'error';
    if (!a) {
      out.checks.push(
        check('membership', name, 'present', 'missing', severity, {
          message: `Role ${e.member} is no longer a member of ${e.role} (GRANT ${e.role} TO ${e.member}).`,
        }),
      );
      continue;
    }
    const options: [string, boolean | null, boolean | null][] = [['ADMIN', e.admin, a.admin]];
    // Servers before 16 have no INHERIT and SET options; across majors only ADMIN compares.
    if (sameMajor) options.push(['INHERIT', e.inherit, a.inherit], ['SET', e.set, a.set]);
    for (const [what, want, got] of options) {
      if (want === null || got === null || want === got) continue;
      out.checks.push(
        check('membership', name, want, got, severity, {
          message: `The ${what} option of ${name} is ${String(got)}, expected ${String(want)}.`,
        }),
      );
    }
  }
}

function isPlatformName(role: string): boolean {
  return isPostgresRole(role) || SUPABASE_RESERVED_ROLES.includes(role);
}

function privilegeKey(p: PrivilegeInfo): string {
  return `${p.grantee}\u0000${p.object}\u0000${p.privilege}`;
}

function grantOption(p: PrivilegeInfo): string {
  return p.grantable ? 'WITH GRANT OPTION' : 'without GRANT OPTION';
}

function check(
  kind: Check['kind'],
  object: string,
  expected: Check['expected'],
  actual: Check['actual'],
  severity: Check['severity'],
  o: { message: string },
): Check {
  return { kind, object, expected, actual, severity, message: o.message };
}
