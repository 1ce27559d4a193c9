import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { LifeboatError } from '../errors.js';
import type { Log } from '../log.js';
import { quoteIdent, type DatabaseSetting } from './catalog.js';
import { describeTarget, type PgTarget } from './connection.js';

/**
 * The drill database on the target server: created fresh from template0, checked empty,
 * given the database-level settings the backup recorded, dropped afterwards.
 */
export function drillDatabaseName(backupId: string): string {
  // A random tail, so a kept database from an earlier drill of the same backup never collides.
  const id = backupId
    .replace(/[^a-z0-9_]/gi, '_')
    .toLowerCase()
    .slice(0, 36);
  return `lifeboat_drill_${id}_${randomBytes(3).toString('hex')}`;
}

export async function createDrillDatabase(
  admin: pg.ClientBase,
  name: string,
  target: PgTarget,
): Promise<void> {
  try {
    // template0: nothing a server's template1 may hold can leak into the drill.
    await admin.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE template0`);
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new LifeboatError(
      code === '42501' ? 'permission' : 'drill',
      `Cannot create the drill database on ${describeTarget(target)}: ${(error as Error).message}.`,
      {
        hint: 'The drill restores into a fresh database of a throwaway server; use a user that may create databases (the superuser of a `services: postgres` container).',
        cause: error,
      },
    );
  }
}

/** Never restore into a database that already holds user tables: a drill must not touch real data. */
export async function assertEmpty(client: pg.ClientBase, name: string): Promise<void> {
  const { rows } = await client.query(
    `SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        AND n.nspname NOT LIKE 'pg\\_%'`,
  );
  const n = Number((rows[0] as { n?: number } | undefined)?.n ?? 0);
  if (n > 0) {
    throw new LifeboatError(
      'drill',
      `The drill database ${name} already holds ${n} tables; refusing to restore into it.`,
      {
        hint: 'Point target-url at a throwaway server whose template0 is pristine.',
      },
    );
  }
}

// A read-only default would stop the restore itself; it is applied once the data is in.
const AFTER_RESTORE = new Set(['default_transaction_read_only', 'transaction_read_only']);

/** Whether a setting is replayed after the restore (phase 'after') rather than before it. */
export function replayedAfterRestore(s: DatabaseSetting): boolean {
  return AFTER_RESTORE.has(s.setting.slice(0, s.setting.indexOf('=')));
}

/**
 * Replays `ALTER DATABASE … SET` and `ALTER ROLE … IN DATABASE … SET`, which a custom-format
 * dump does not carry. Each value is set in the session first and stored `FROM CURRENT`, so
 * list values such as a search_path come back exactly as the server printed them.
 */
export async function replaySettings(
  client: pg.ClientBase,
  database: string,
  settings: DatabaseSetting[],
  phase: 'before' | 'after',
  log: Log,
): Promise<number> {
  let applied = 0;
  for (const { role, setting } of settings) {
    const at = setting.indexOf('=');
    const name = setting.slice(0, at);
    if ((phase === 'after') !== replayedAfterRestore({ role, setting })) continue;
    const where = role ? `ALTER ROLE ${quoteIdent(role)} IN DATABASE` : 'ALTER DATABASE';
    try {
      if (!/^[A-Za-z_][\w.]*$/.test(name)) throw new Error('not a setting name');
      await client.query('BEGIN');
      await client.query('SELECT set_config($1, $2, true)', [name, setting.slice(at + 1)]);
      await client.query(`${where} ${quoteIdent(database)} SET ${name} FROM CURRENT`);
      await client.query('COMMIT');
      applied++;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      log.warning(
        `Could not replay ${role ? `the setting for role ${role}` : 'the database setting'} ${setting}: ${(error as Error).message}`,
      );
    }
  }
  return applied;
}

export async function dropDrillDatabase(
  admin: pg.ClientBase,
  name: string,
  serverMajor: number,
): Promise<void> {
  // Sessions still connected (pg_restore's workers, the drill's own client when a signal
  // cut it short) would block the drop: WITH (FORCE) ends them on PostgreSQL 13+, older
  // servers need them terminated first.
  if (serverMajor >= 13) {
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    return;
  }
  await admin.query(
    'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
    [name],
  );
  await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}`);
}
