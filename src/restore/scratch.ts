import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { dropDrillDatabase } from '../postgres/throwaway-database.js';
import { LifeboatError } from '../errors.js';
import { onInterrupt } from '../interrupt.js';
import { quoteIdent, quoteLiteral } from '../postgres/catalog.js';
import { connectClient, WRITABLE_SESSION } from '../postgres/client.js';
import { withDatabase, type PgTarget } from '../postgres/connection.js';

/**
 * A throwaway database on the target server for a selective restore: the archive's SQL for
 * the chosen tables runs there, never in the database whose live tables it names. It is
 * dropped on every way out, a signal included.
 */
export interface ScratchDatabase {
  name: string;
  target: PgTarget;
  drop(): Promise<void>;
}

export function scratchDatabaseName(backupId: string): string {
  return `lifeboat_scratch_${backupId.replace(/[^0-9a-f_]/gi, '_').toLowerCase()}_${randomBytes(3).toString('hex')}`;
}

/**
 * Creates the scratch database, or says why the server refused (a managed service whose
 * user may not create databases): `{ refused }` then, and the caller takes another way.
 */
export async function createScratchDatabase(
  admin: pg.ClientBase,
  target: PgTarget,
  backupId: string,
): Promise<ScratchDatabase | { refused: string }> {
  const name = scratchDatabaseName(backupId);
  try {
    // The live database's encoding and locale: its rows pass through the scratch copy
    // unconverted (an SQL_ASCII database's bytes would not survive a trip through UTF8).
    const { rows } = await admin.query(
      `SELECT pg_encoding_to_char(encoding) AS encoding, datcollate AS collate, datctype AS ctype
         FROM pg_database WHERE datname = current_database()`,
    );
    const live = rows[0] as { encoding: string; collate: string; ctype: string };
    await admin.query(
      `CREATE DATABASE ${quoteIdent(name)} TEMPLATE template0 ENCODING ${quoteLiteral(live.encoding)} LC_COLLATE ${quoteLiteral(live.collate)} LC_CTYPE ${quoteLiteral(live.ctype)}`,
    );
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === '42501') return { refused: (error as Error).message };
    throw new LifeboatError(
      'restore',
      `Could not create the scratch database ${name} for the selective restore: ${(error as Error).message}. Nothing was changed.`,
      {
        hint: 'Check the target server has room for another database, then run the restore again.',
        cause: error,
      },
    );
  }
  const { rows } = await admin.query('SELECT current_setting($1)::int / 10000 AS major', [
    'server_version_num',
  ]);
  const major = Number((rows[0] as { major?: number } | undefined)?.major ?? 0);
  // Dropped through a connection of its own: the caller's may be the one a signal cut short.
  const dropNow = async () => {
    const client = await connectClient(target);
    try {
      await client.query(WRITABLE_SESSION);
      await dropDrillDatabase(client, name, major);
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  const release = onInterrupt(dropNow);
  return {
    name,
    target: withDatabase(target, name),
    drop: async () => {
      release();
      await dropNow();
    },
  };
}
