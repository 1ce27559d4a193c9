import type pg from 'pg';

/**
 * Which server and database a connection reaches, in terms that survive a change of host
 * name, port or pooler: the cluster's system identifier (set once by initdb, the same on
 * every standby of it) and the database name. A refresh compares the target's with the
 * backup's source to refuse writing masked data over production.
 */
export interface ServerIdentity {
  /** pg_control_system().system_identifier as text; null when the role may not read it. */
  systemIdentifier: string | null;
  database: string;
}

export async function readServerIdentity(client: pg.ClientBase): Promise<ServerIdentity> {
  const { rows } = await client.query(`SELECT current_database() AS database`);
  const database = String((rows[0] as { database: string }).database);
  try {
    const result = await client.query(`SELECT system_identifier::text AS id FROM pg_control_system()`);
    const id = (result.rows[0] as { id?: string } | undefined)?.id;
    return { systemIdentifier: id ?? null, database };
  } catch {
    // Managed services may revoke pg_control_system(); the caller decides what an unknown means.
    return { systemIdentifier: null, database };
  }
}
