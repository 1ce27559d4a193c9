import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { LifeboatError } from '../errors.js';
import type { Log } from '../log.js';
import { quoteIdent } from '../postgres/catalog.js';
import { withDatabase, type PgTarget } from '../postgres/connection.js';
import { openClient } from '../postgres/session.js';

/**
 * The path of a refresh into a database that can be renamed: the masked copy is built in
 * a fresh database beside the target, then the names are swapped and the old one dropped.
 * Staging keeps serving its old data until the swap; a failure before it leaves the target
 * untouched and the scratch database dropped.
 */
const SCRATCH = /_lbrefresh_[0-9a-f]{8}$/;

/** `staging` → `staging_lbrefresh_1a2b3c4d`, within PostgreSQL's 63 bytes. */
export function scratchName(database: string): string {
  return `${Buffer.from(database)
    .subarray(0, 40)
    .toString('utf8')
    .replace(/\uFFFD$/, '')}_lbrefresh_${randomBytes(4).toString('hex')}`;
}

/**
 * Why the target must be refreshed in place (one transaction), or undefined when it can
 * be swapped: Supabase's `postgres` and the server's maintenance database cannot be renamed
 * while the platform holds them, and the swap needs CREATEDB and ownership of the target.
 */
export async function whyInPlace(client: pg.ClientBase, database: string): Promise<string | undefined> {
  if (database === 'postgres' || database.startsWith('template'))
    return `database "${database}" is the server's own and cannot be renamed`;
  const { rows } = await client.query(
    `SELECT r.rolsuper OR r.rolcreatedb AS can_create, r.rolsuper OR pg_has_role(d.datdba, 'USAGE') AS owns
       FROM pg_roles r, pg_database d WHERE r.rolname = current_user AND d.datname = current_database()`,
  );
  const row = rows[0] as { can_create?: boolean; owns?: boolean } | undefined;
  if (!row?.can_create) return 'the target-url role may not create databases (CREATEDB)';
  if (!row.owns) return 'the target-url role does not own the target database';
  return undefined;
}

/** Whether the maintenance database, from which the swap renames, takes the target-url role. */
export async function whyNoAdmin(target: PgTarget): Promise<string | undefined> {
  try {
    const admin = await openAdmin(target);
    await admin.end().catch(() => undefined);
    return undefined;
  } catch (error) {
    return `the server's postgres database, from which databases are renamed, refused the connection (${(error as Error).message.split('\n')[0]})`;
  }
}

/** A connection to the server's maintenance database, from which databases are created and renamed. */
export async function openAdmin(target: PgTarget): Promise<pg.Client> {
  return (await openClient(withDatabase(target, 'postgres'), 'target-url')).client;
}

/** Creates the scratch database like the target: same owner, encoding, locale and database privileges. */
export async function createScratch(admin: pg.ClientBase, target: string, scratch: string): Promise<void> {
  const { rows } = await admin.query(
    `SELECT pg_get_userbyid(datdba) AS owner, pg_encoding_to_char(encoding) AS encoding, datcollate, datctype
       FROM pg_database WHERE datname = $1`,
    [target],
  );
  const db = rows[0] as { owner: string; encoding: string; datcollate: string; datctype: string } | undefined;
  if (!db) {
    // No target yet: the server's defaults, owned by the target-url role.
    await admin.query(`CREATE DATABASE ${quoteIdent(scratch)} TEMPLATE template0`);
    return;
  }
  await admin.query(
    `CREATE DATABASE ${quoteIdent(scratch)} TEMPLATE template0 OWNER ${quoteIdent(db.owner)} ENCODING '${db.encoding}' LC_COLLATE '${db.datcollate.replace(/'/g, "''")}' LC_CTYPE '${db.datctype.replace(/'/g, "''")}'`,
  );
  // Who may connect, as on the target (no one but its owner sees the copy before the swap anyway:
  // it is masked in one transaction).
  const acl = await admin.query(
    `SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END AS grantee, a.privilege_type
       FROM pg_database d, aclexplode(d.datacl) a WHERE d.datname = $1`,
    [target],
  );
  if (acl.rows.length) {
    await admin.query(`REVOKE ALL ON DATABASE ${quoteIdent(scratch)} FROM PUBLIC`);
    for (const r of acl.rows as { grantee: string; privilege_type: string }[])
      await admin.query(`GRANT ${r.privilege_type} ON DATABASE ${quoteIdent(scratch)} TO ${r.grantee}`);
  }
}

/**
 * Scratch databases a killed refresh of this target left behind (a kill cannot run the
 * cleanup): dropped before a new one is made.
 */
export async function dropLeftovers(admin: pg.ClientBase, target: string, log: Log): Promise<void> {
  const { rows } = await admin.query(`SELECT datname FROM pg_database WHERE datname LIKE $1`, [
    `${target.replace(/[\\%_]/g, (c) => `\\${c}`)}\\_lbrefresh\\_%`,
  ]);
  for (const { datname } of rows as { datname: string }[]) {
    if (!SCRATCH.test(datname)) continue;
    log.info(`Dropping ${datname}, left by an interrupted refresh.`);
    await dropDatabase(admin, datname);
  }
}

export async function dropDatabase(admin: pg.ClientBase, name: string): Promise<void> {
  await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
}

/**
 * The swap: the target's sessions ended (new ones refused meanwhile), the target renamed
 * aside, the scratch database given its name, then the old one dropped. If the second
 * rename fails the first is undone, so the target keeps its name and its data.
 */
export async function swapIn(
  admin: pg.ClientBase,
  target: string,
  scratch: string,
  log: Log,
  missing = false,
): Promise<void> {
  const old = scratch.replace(/_lbrefresh_/, '_lbold_');
  const t = quoteIdent(target);
  if (missing) {
    await admin.query(`ALTER DATABASE ${quoteIdent(scratch)} RENAME TO ${t}`);
    return;
  }
  await admin.query(`ALTER DATABASE ${t} WITH ALLOW_CONNECTIONS false`);
  try {
    const { rows } = await admin.query(
      `SELECT count(*)::int AS n FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()) AS x`,
      [target],
    );
    const n = (rows[0] as { n: number }).n;
    if (n) log.info(`Ended ${n} ${n === 1 ? 'session' : 'sessions'} on ${target} for the swap.`);
    await renameWithRetry(admin, target, old);
  } catch (error) {
    await admin.query(`ALTER DATABASE ${t} WITH ALLOW_CONNECTIONS true`).catch(() => undefined);
    throw swapError(target, error);
  }
  try {
    await admin.query(`ALTER DATABASE ${quoteIdent(scratch)} RENAME TO ${t}`);
  } catch (error) {
    await admin.query(`ALTER DATABASE ${quoteIdent(old)} RENAME TO ${t}`);
    await admin.query(`ALTER DATABASE ${t} WITH ALLOW_CONNECTIONS true`);
    throw swapError(target, error);
  }
  // The masked copy is in place; an old copy that will not drop is only in the way.
  await dropDatabase(admin, old).catch((error: unknown) =>
    log.warning(`Could not drop the replaced database ${old}: ${(error as Error).message}. Drop it by hand.`),
  );
}

/** A session that connected between the terminate and the rename blocks it: end it and try again. */
async function renameWithRetry(admin: pg.ClientBase, from: string, to: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await admin.query(`ALTER DATABASE ${quoteIdent(from)} RENAME TO ${quoteIdent(to)}`);
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== '55006' || attempt >= 5) throw error;
      await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
        [from],
      );
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

function swapError(target: string, error: unknown): LifeboatError {
  return new LifeboatError(
    'restore',
    `Could not swap the masked copy in for ${target}: ${(error as Error).message}. The target keeps its old contents.`,
    {
      hint: 'Something held the database open or the role lacks a privilege (the swap renames databases: it needs CREATEDB and ownership of the target).',
      cause: error,
    },
  );
}
