import type { Profile } from '../settings/constants.js';
import { describeEntry, type TocEntry } from './toc.js';
import { quoteIdent, type CatalogSnapshot, type RoleInfo } from './catalog.js';
import { planRoles } from './roles-plan.js';

/**
 * How a drill prepares a bare server for a backup. Roles are global to a server, so a
 * dump never carries them; a Supabase database also relies on schemas, functions and
 * platform extensions that a vanilla PostgreSQL lacks. Pure planning: the snapshot, the
 * archive's table of contents and the target's state in, SQL and skipped entries out.
 */
export type ResolvedProfile = 'supabase' | 'postgres';

const API_ROLES = ['anon', 'authenticated', 'service_role'];
const SUPABASE_ROLES = [...API_ROLES, 'authenticator', 'supabase_admin', 'supabase_auth_admin'];
const SUPABASE_SCHEMAS = ['auth', 'storage', 'graphql_public', 'realtime', 'supabase_functions'];

/** Extensions Supabase's image ships and a vanilla server lacks, with the schemas they create. */
export const PLATFORM_EXTENSIONS: Record<string, string[]> = {
  pg_graphql: ['graphql'],
  pgsodium: ['pgsodium', 'pgsodium_masks'],
  supabase_vault: ['vault'],
  pg_net: ['net'],
  pg_cron: ['cron'],
  pg_tle: ['pgtle'],
  pgjwt: [],
  wrappers: [],
  supautils: [],
  pg_jsonschema: [],
  pg_hashids: [],
  index_advisor: [],
  pg_stat_monitor: [],
};

export function detectProfile(
  snapshot: CatalogSnapshot,
  requested: Profile,
): { profile: ResolvedProfile; reason: string } {
  if (requested !== 'auto') return { profile: requested, reason: `input \`profile\` is \`${requested}\`` };
  const referenced = new Set([...snapshot.roles, ...snapshot.policies.flatMap((p) => p.roles)]);
  const roles = SUPABASE_ROLES.filter((r) => referenced.has(r));
  const schemas = SUPABASE_SCHEMAS.filter((s) => snapshot.schemas.includes(s));
  if (roles.length === 0 && schemas.length === 0) {
    return { profile: 'postgres', reason: 'the backup references no Supabase roles or schemas' };
  }
  const found = [
    roles.length && `roles ${roles.join(', ')}`,
    schemas.length && `schemas ${schemas.join(', ')}`,
  ];
  return {
    profile: 'supabase',
    reason: `the backup references Supabase ${found.filter(Boolean).join(' and ')}`,
  };
}

/** What the drill learns about the fresh database before preparing it. */
export interface TargetState {
  roles: Set<string>;
  schemas: Set<string>;
  /** `schema.name(identity args)`, e.g. `auth.uid()`. */
  functions: Set<string>;
  availableExtensions: Set<string>;
  superuser: boolean;
  /** The target's definition of each role, to say where a recorded one differs. */
  roleInfo?: Map<string, RoleInfo>;
  serverMajor?: number;
  createRole?: boolean;
}

export interface SkippedEntry {
  id: number;
  entry: string;
  reason: string;
}

export interface Preparation {
  profile: ResolvedProfile;
  /** Statements to run in the drill database, in order, each with what it creates. */
  steps: { sql: string; creates: string }[];
  roles: string[];
  schemas: string[];
  functions: string[];
  skipped: SkippedEntry[];
  skippedExtensions: string[];
  /** Roles the backup needs, the server lacks, and this profile does not create. */
  missingRoles: string[];
  /** False for a catalog written before roles were recorded: none created from it, no privileges compared. */
  rolesRecorded: boolean;
  /** Where the target's roles differ from the recorded ones, and what could not be created as recorded. */
  roleWarnings: string[];
}

const AUTH_STUBS: Record<string, string> = {
  'auth.uid()': `CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $$
  SELECT nullif(coalesce(current_setting('request.jwt.claim.sub', true),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')), '')::uuid $$`,
  'auth.role()': `CREATE FUNCTION auth.role() RETURNS text LANGUAGE sql STABLE AS $$
  SELECT nullif(coalesce(current_setting('request.jwt.claim.role', true),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')), '')::text $$`,
  'auth.jwt()': `CREATE FUNCTION auth.jwt() RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT coalesce(nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), ''))::jsonb $$`,
};

export function planPreparation(
  profile: ResolvedProfile,
  snapshot: CatalogSnapshot,
  toc: TocEntry[],
  target: TargetState,
  options: { logins?: boolean } = {},
): Preparation {
  const needed = new Set([...snapshot.roles, ...snapshot.policies.flatMap((p) => p.roles)]);
  for (const e of toc) if (e.owner) needed.add(e.owner);
  if (profile === 'supabase') API_ROLES.forEach((r) => needed.add(r));
  needed.delete('public');
  const roles = planRoles(
    snapshot,
    {
      roles: target.roles,
      roleInfo: target.roleInfo ?? new Map(),
      serverMajor: target.serverMajor ?? snapshot.serverMajor,
      superuser: target.superuser,
      createRole: target.createRole ?? target.superuser,
    },
    { profile, logins: options.logins ?? false },
  );
  const created = new Set(roles.created);
  const missing = [...needed].filter((r) => !target.roles.has(r) && !created.has(r)).sort();
  const plan: Preparation = {
    profile,
    steps: [...roles.steps],
    roles: [...roles.created],
    schemas: [],
    functions: [],
    skipped: [],
    skippedExtensions: [],
    missingRoles: profile === 'supabase' ? [] : missing,
    rolesRecorded: snapshot.roleDetails !== undefined,
    roleWarnings: roles.warnings,
  };
  if (profile !== 'supabase') return plan;

  // Stand-ins for roles the archive names that no record defines (a catalog from before
  // roles were recorded, or a platform role a bare drill server lacks): NOLOGIN, no grants.
  for (const role of missing) {
    plan.roles.push(role);
    plan.steps.push({ sql: createRole(role, target.superuser), creates: `role ${role}` });
  }
  const archiveSchemas = new Set(toc.filter((e) => e.desc === 'SCHEMA').map((e) => e.tag));
  // Only what neither the archive nor the server brings: creating it twice would fail the restore.
  for (const schema of new Set(['auth', ...snapshot.schemas])) {
    if (schema === 'public' || archiveSchemas.has(schema) || target.schemas.has(schema)) continue;
    plan.schemas.push(schema);
    plan.steps.push({
      sql: `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`,
      creates: `schema ${schema}`,
    });
  }
  if (plan.schemas.includes('auth')) {
    const roles = API_ROLES.map(quoteIdent).join(', ');
    plan.steps.push({ sql: `GRANT USAGE ON SCHEMA auth TO ${roles}`, creates: 'usage on schema auth' });
    for (const [name, sql] of Object.entries(AUTH_STUBS)) {
      if (target.functions.has(name)) continue;
      plan.functions.push(name);
      plan.steps.push({ sql, creates: `function ${name}` });
    }
  }
  planSkips(plan, snapshot, toc, target, archiveSchemas);
  return plan;
}

function createRole(role: string, superuser: boolean): string {
  const attributes = ['NOLOGIN'];
  if (API_ROLES.includes(role)) attributes.push('NOINHERIT');
  // Supabase's service_role bypasses row-level security; only a superuser may grant that.
  if (role === 'service_role' && superuser) attributes.push('BYPASSRLS');
  // A concurrent drill on the same server may create it first; roles are server-wide.
  return `DO $lifeboat$ BEGIN CREATE ROLE ${quoteIdent(role)} ${attributes.join(' ')};
EXCEPTION WHEN duplicate_object THEN NULL; END $lifeboat$`;
}

/** Entries that cannot exist on this server: left out of the restore and reported one by one. */
function planSkips(
  plan: Preparation,
  snapshot: CatalogSnapshot,
  toc: TocEntry[],
  target: TargetState,
  archiveSchemas: Set<string>,
): void {
  const goneSchemas = new Map<string, string>();
  for (const e of toc) {
    if (e.desc !== 'EXTENSION' || target.availableExtensions.has(e.tag)) continue;
    plan.skippedExtensions.push(e.tag);
    const platform = e.tag in PLATFORM_EXTENSIONS;
    const own = snapshot.extensions.find((x) => x.name === e.tag)?.schema;
    for (const s of [...(PLATFORM_EXTENSIONS[e.tag] ?? []), ...(own ? [own] : [])]) {
      if (!archiveSchemas.has(s) && !target.schemas.has(s) && !plan.schemas.includes(s))
        goneSchemas.set(s, e.tag);
    }
    skip(plan, e, `${platform ? 'a Supabase platform extension' : 'an extension'} this server does not have`);
  }
  const skippedExt = new Set(plan.skippedExtensions);
  for (const e of toc) {
    if (e.desc === 'EXTENSION') continue;
    const about = /^(?:EXTENSION|SCHEMA) (.+)$/.exec(e.namespace ? '' : e.tag)?.[1];
    if (e.desc === 'COMMENT' && about && e.tag.startsWith('EXTENSION ') && skippedExt.has(about)) {
      skip(plan, e, `comments on the skipped extension ${about}`);
    } else if (e.namespace && goneSchemas.has(e.namespace)) {
      skip(
        plan,
        e,
        `lives in schema ${e.namespace}, which only extension ${goneSchemas.get(e.namespace)} creates`,
      );
    } else if (about && e.tag.startsWith('SCHEMA ') && goneSchemas.has(about)) {
      skip(plan, e, `applies to schema ${about}, which only extension ${goneSchemas.get(about)} creates`);
    } else if (e.desc === 'SECURITY LABEL' && skippedExt.has('pgsodium')) {
      skip(plan, e, 'a pgsodium security label, and pgsodium is skipped');
    } else if (e.desc === 'EVENT TRIGGER' && !target.superuser) {
      skip(plan, e, 'event triggers need a superuser, and the target-url user is not one');
    }
  }
}

function skip(plan: Preparation, entry: TocEntry, reason: string): void {
  plan.skipped.push({ id: entry.id, entry: describeEntry(entry), reason });
}
