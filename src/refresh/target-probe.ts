import { LifeboatError } from '../errors.js';
import type { PgTarget } from '../postgres/connection.js';
import { readServerIdentity, type ServerIdentity } from '../postgres/server-identity.js';
import { openClient } from '../postgres/session.js';
import { openAdmin, whyInPlace, whyNoAdmin } from './swap.js';

export interface TargetProbe {
  /** The server and database the refresh would write: what the production guard compares. */
  identity: ServerIdentity;
  /** Why the target must be refreshed in place (one transaction); undefined: built beside it and swapped in. */
  inPlace?: string;
  /** The target database does not exist yet: the swap creates it under its name. */
  missing: boolean;
}

/**
 * What the refresh learns about its target before it changes anything. A database that
 * does not exist yet (a first refresh into a new local database) is made by the swap, when
 * the role may create databases; without that, the connection error stands.
 */
export async function probeTarget(target: PgTarget): Promise<TargetProbe> {
  let opened: Awaited<ReturnType<typeof openClient>>;
  try {
    opened = await openClient(target, 'target-url');
  } catch (error) {
    if (!isMissingDatabase(error)) throw error;
    const admin = await openAdmin(target).catch(() => {
      throw error;
    });
    try {
      const { rows } = await admin.query(
        `SELECT rolsuper OR rolcreatedb AS can_create FROM pg_roles WHERE rolname = current_user`,
      );
      if (!(rows[0] as { can_create?: boolean } | undefined)?.can_create) throw error;
      const identity = await readServerIdentity(admin);
      return { identity: { ...identity, database: target.database }, missing: true };
    } finally {
      await admin.end().catch(() => undefined);
    }
  }
  const { client } = opened;
  try {
    const identity = await readServerIdentity(client);
    const inPlace = (await whyInPlace(client, target.database)) ?? (await whyNoAdmin(target));
    return { identity, inPlace, missing: false };
  } finally {
    await client.end().catch(() => undefined);
  }
}

function isMissingDatabase(error: unknown): boolean {
  const cause = error instanceof LifeboatError ? error.cause : error;
  return (cause as { code?: string } | undefined)?.code === '3D000';
}
