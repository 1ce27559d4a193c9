import type pg from 'pg';
import { LifeboatError } from '../errors.js';
import type { Log } from '../log.js';
import type { Preparation, TargetState } from './profile.js';
import { readRoles } from './roles.js';

/** What the fresh drill database and its server already have, for planning the preparation. */
export async function readTargetState(client: pg.ClientBase): Promise<TargetState> {
  const { rows } = await client.query(`SELECT
      ARRAY(SELECT rolname FROM pg_roles)::text[] AS roles,
      ARRAY(SELECT nspname FROM pg_namespace)::text[] AS schemas,
      ARRAY(SELECT n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'auth')::text[] AS functions,
      ARRAY(SELECT name FROM pg_available_extensions)::text[] AS extensions,
      (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser,
      (SELECT rolcreaterole FROM pg_roles WHERE rolname = current_user) AS create_role,
      current_setting('server_version_num')::int / 10000 AS major`);
  const row = rows[0] as Record<string, unknown>;
  const set = (v: unknown) => new Set(Array.isArray(v) ? v.map(String) : []);
  const roles = set(row.roles);
  const serverMajor = Number(row.major);
  // The same reading as a backup's, so a recorded role and the target's compare field by field.
  const { roleDetails } = await readRoles(client, [...roles], serverMajor, { privileges: false });
  return {
    roles,
    schemas: set(row.schemas),
    functions: set(row.functions),
    availableExtensions: set(row.extensions),
    superuser: Boolean(row.superuser),
    createRole: Boolean(row.create_role),
    serverMajor,
    roleInfo: new Map(roleDetails.map((r) => [r.name, r])),
  };
}

/** Runs the plan's statements, saying what each created, and names every skipped entry. */
export async function applyPreparation(
  client: pg.ClientBase,
  plan: Preparation,
  target: TargetState,
  log: Log,
): Promise<void> {
  for (const step of plan.steps) {
    try {
      await client.query(step.sql);
    } catch (error) {
      throw new LifeboatError(
        'drill',
        `Preparing the drill database failed creating ${step.creates}: ${(error as Error).message}.`,
        {
          hint: 'The target-url user needs to create roles and schemas on the throwaway server; use its superuser.',
          cause: error,
        },
      );
    }
  }
  reportRoles(plan, log);
  if (plan.schemas.length) log.info(`Created schemas: ${plan.schemas.join(', ')}.`);
  if (plan.functions.length) log.info(`Created Supabase stand-ins: ${plan.functions.join(', ')}.`);
  for (const s of plan.skipped) log.warning(`Skipped ${s.entry}: ${s.reason}.`);
  if (!target.superuser) {
    // Counting rows as a role that row-level security applies to would report rows as lost.
    log.warning(
      'The target-url user is not a superuser: row counts of tables with row-level security may come out low. Use the superuser of the throwaway server.',
    );
  }
  if (plan.missingRoles.length) {
    log.warning(
      `The backup references roles this server lacks: ${plan.missingRoles.join(', ')}. Profile \`${plan.profile}\` does not create them, so the restore will stop at the first object that names one.`,
    );
  }
}

/** What the preparation did and did not do about roles, for drill and restore alike. */
export function reportRoles(plan: Preparation, log: Log): void {
  if (plan.roles.length)
    log.info(`Created roles the backup expects: ${plan.roles.join(', ')} (no passwords).`);
  for (const w of plan.roleWarnings) log.warning(w);
  if (!plan.rolesRecorded) {
    log.info(
      'This backup was taken by a Lifeboat that did not record roles and privileges: none are created from it, and privileges are not compared.',
    );
  }
}
