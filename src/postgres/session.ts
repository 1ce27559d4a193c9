import type pg from 'pg';
import { LifeboatError } from '../errors.js';
import { describeTarget, isTransactionPooler, type PgTarget } from './connection.js';
import { diagnoseConnectionError, transactionPoolerError } from './diagnose.js';
import { connectClient } from './client.js';
import { Q } from './catalog-queries.js';

export interface ServerInfo {
  version: string;
  major: number;
  database: string;
  /** Locks the server's lock table holds for all sessions together (a lower bound: background workers add some). */
  lockSlots: number;
}

/** Connects, turning every failure into an error that says what to fix. */
export async function openClient(
  target: PgTarget,
  role: string,
): Promise<{ client: pg.Client; server: ServerInfo }> {
  if (isTransactionPooler(target)) throw transactionPoolerError(target);
  let client: pg.Client | undefined;
  try {
    client = await connectClient(target);
    const { rows } = await client.query(Q.server);
    const row = rows[0] as { version: string; num: number; database: string; lock_slots: string };
    return {
      client,
      server: {
        version: String(row.version).split(' ')[0] ?? '',
        major: Math.floor(Number(row.num) / 10000),
        database: row.database,
        lockSlots: Number(row.lock_slots),
      },
    };
  } catch (error) {
    await client?.end().catch(() => undefined);
    throw await diagnoseConnectionError(error, target, role);
  }
}

/**
 * Refuses to dump when the role cannot read every row: without BYPASSRLS, a table with
 * row-level security would make pg_dump fail halfway (or, with --enable-row-security,
 * silently dump nothing).
 */
export async function checkCanReadEverything(client: pg.ClientBase, target: PgTarget): Promise<void> {
  const { rows } = await client.query(Q.readiness);
  if (rows.length === 0) return;
  const list = (filter: (r: Record<string, unknown>) => boolean) =>
    rows
      .filter(filter)
      .map((r) => `${r.schema}.${r.name}`)
      .slice(0, 20)
      .join(', ');
  const rls = list((r) => Boolean(r.rls_blocks));
  const denied = list((r) => Boolean(r.no_select));
  const parts = [
    rls && `row-level security hides rows of ${rls} from role "${target.user}" (it lacks BYPASSRLS)`,
    denied && `role "${target.user}" may not SELECT from ${denied}`,
  ].filter(Boolean);
  throw new LifeboatError(
    'permission',
    `Cannot back up ${describeTarget(target)} completely: ${parts.join('; ')}.`,
    {
      hint: 'Use a role that can read every row: a superuser or a role with BYPASSRLS and SELECT on every table (on Supabase, the postgres user). Lifeboat never dumps with row security on, which would silently drop rows.',
    },
  );
}
