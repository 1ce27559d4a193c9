import pg from 'pg';
import type { Log } from '../../log.js';
import type { CatalogSnapshot } from '../catalog.js';
import { tableRef } from '../catalog.js';
import { SetUpClient } from '../client.js';
import { pgClientConfig, type PgTarget } from '../connection.js';
import { inspectDatabase, tableFingerprint } from '../inspect.js';
import { checkForeignKeys, checkSequences, runSqlChecks, type SqlCheck } from './live-checks.js';
import { compareSnapshots, type CompareOptions } from './compare.js';
import { emptyComparison, merge, type Comparison } from './checks.js';

export interface VerifyOptions extends CompareOptions {
  /** The restored drill database. */
  target: PgTarget;
  expected: CatalogSnapshot;
  migrationsTable: string;
  sqlChecks: SqlCheck[];
  /** Connections to use at once; one per core, like the restore. */
  jobs: number;
  /** Shows counting progress on large databases. */
  log?: Log;
}

/**
 * Snapshot of the restored database compared with the backup's, plus the live checks.
 * Independent queries run side by side on a small pool: the catalog on one connection,
 * the table reads (the expensive part) spread over the others, largest table first so no
 * single long read is left for the end. Each table is read once: a content fingerprint
 * carries its row count, so a table the backup fingerprinted is not counted again.
 */
export async function verifyRestore(
  options: VerifyOptions,
): Promise<{ actual: CatalogSnapshot; result: Comparison }> {
  const pool = new pg.Pool({ ...pgClientConfig(options.target), max: options.jobs + 1, Client: SetUpClient });
  pool.on('error', () => undefined);
  try {
    const [actual, read, foreignKeys, sequences, custom] = await Promise.all([
      withClient(pool, (c) =>
        inspectDatabase(c, { rowCounts: false, migrationsTable: options.migrationsTable }),
      ),
      readTables(pool, options.expected, options.log),
      checkForeignKeys(pool),
      checkSequences(pool),
      options.sqlChecks.length
        ? withClient(pool, (c) => runSqlChecks(c, options.sqlChecks))
        : Promise.resolve(emptyComparison()),
    ]);
    const fingerprinted = fingerprintedTables(options.expected);
    for (const table of actual.tables) {
      if (table.kind !== 'r') continue;
      const key = `${table.schema}.${table.name}`;
      const got = read.get(key) ?? (await readTable(pool, table.schema, table.name, fingerprinted.has(key)));
      table.rows = got.rows;
      if (got.fingerprint !== undefined) table.fingerprint = got.fingerprint;
    }
    const result = compareSnapshots(options.expected, actual, options);
    merge(result, foreignKeys);
    merge(result, sequences);
    merge(result, custom);
    return { actual, result };
  } finally {
    await pool.end().catch(() => undefined);
  }
}

async function withClient<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    return await fn(client);
  } finally {
    client.release();
  }
}

interface TableRead {
  rows: number;
  fingerprint?: string;
}

function fingerprintedTables(expected: CatalogSnapshot): Set<string> {
  return new Set(
    expected.tables.filter((t) => t.fingerprint !== undefined).map((t) => `${t.schema}.${t.name}`),
  );
}

/** Every ordinary table and partition read once, keyed `schema.table`. */
async function readTables(
  pool: pg.Pool,
  expected: CatalogSnapshot,
  log: Log | undefined,
): Promise<Map<string, TableRead>> {
  const { rows } = await pool.query(
    `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
      ORDER BY pg_relation_size(c.oid) DESC, 1, 2`,
  );
  const fingerprinted = fingerprintedTables(expected);
  const read = new Map<string, TableRead>();
  await Promise.all(
    (rows as { schema: string; name: string }[]).map(async ({ schema, name }) => {
      const key = `${schema}.${name}`;
      read.set(key, await readTable(pool, schema, name, fingerprinted.has(key)));
      log?.progress(`Reading tables: ${read.size} of ${rows.length}`);
    }),
  );
  return read;
}

async function readTable(
  pool: pg.Pool,
  schema: string,
  name: string,
  fingerprint: boolean,
): Promise<TableRead> {
  if (fingerprint) {
    const value = await withClient(pool, (c) => tableFingerprint(c, schema, name));
    // `<count>:<sum of row hashes>`
    return { rows: Number(value.split(':')[0]), fingerprint: value };
  }
  return { rows: await countOne(pool, schema, name) };
}

async function countOne(pool: pg.Pool, schema: string, name: string): Promise<number> {
  const { rows } = await pool.query(`SELECT count(*)::bigint AS n FROM ${tableRef(schema, name)}`);
  return Number((rows[0] as { n?: string } | undefined)?.n ?? 0);
}
