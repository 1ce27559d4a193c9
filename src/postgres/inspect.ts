import type pg from 'pg';
import { LifeboatError } from '../errors.js';
import type { CatalogSnapshot, MigrationInfo, SequenceInfo, TableInfo } from './catalog.js';
import { quoteIdent, tableRef } from './catalog.js';
import { Inputs } from '../settings/constants.js';
import { Defaults } from '../settings/defaults.js';
import { Q } from './catalog-queries.js';
import { readRoles } from './roles.js';

type Row = Record<string, unknown>;

export interface InspectOptions {
  /** `schema.table` holding applied migration versions; absent tables are fine. */
  migrationsTable?: string;
  /** Exact row counts (count(*)) of every table; on by default. */
  rowCounts?: boolean;
  /** Order-independent content hash per table (reads every row once more). */
  fingerprints?: boolean;
  /** Each table's size on disk, for `lifeboat show`; sizes change with every vacuum, so only a backup records them. */
  sizes?: boolean;
  /**
   * Inside a transaction that must stay open (the one whose snapshot pg_dump shares): let go of
   * each table's locks once it is read, see LockRelease.
   */
  releaseLocks?: boolean;
}

/** Tables (or sequences) read between two releases of their locks. */
export const READS_PER_RELEASE = 50;

/**
 * Reading a table locks it and every index of it (the planner opens them) until the
 * transaction ends. The backup's catalog snapshot reads every table and sequence inside the
 * transaction pg_dump's snapshot comes from, beside pg_dump, which locks every table too; on a
 * database with thousands of tables the two overflow the server's lock table (`out of shared
 * memory`; it holds max_locks_per_transaction locks per connection for all sessions together)
 * where pg_dump alone fits. Rolling back to a savepoint lets go of the locks taken since it and
 * keeps the transaction's snapshot, so the reads hold at most READS_PER_RELEASE tables' locks.
 * pg_dump's own locks keep every table from being altered or dropped until it has read it.
 */
class LockRelease {
  private reads = 0;

  constructor(
    private readonly client: pg.ClientBase,
    private readonly on: boolean,
  ) {}

  async read<T>(work: () => Promise<T>): Promise<T> {
    if (!this.on) return work();
    if (this.reads % READS_PER_RELEASE === 0) {
      await this.client.query(
        this.reads === 0 ? 'SAVEPOINT lifeboat_read' : 'ROLLBACK TO SAVEPOINT lifeboat_read',
      );
    }
    this.reads++;
    return work();
  }

  async end(): Promise<void> {
    if (this.on && this.reads > 0)
      await this.client.query('ROLLBACK TO SAVEPOINT lifeboat_read; RELEASE SAVEPOINT lifeboat_read');
    this.reads = 0;
  }
}

/** Where Supabase records applied migrations; the input `migrations-table` names another. */
export const DEFAULT_MIGRATIONS_TABLE = Defaults[Inputs.MigrationsTable];

/**
 * Reads a catalog snapshot through `client`. Run it inside the transaction whose snapshot
 * the dump shares, and the counts describe exactly the rows the dump holds.
 */
export async function inspectDatabase(
  client: pg.ClientBase,
  options: InspectOptions = {},
): Promise<CatalogSnapshot> {
  const all = async (sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as Row[];
  const [server] = await all(Q.server);
  const tables: TableInfo[] = (await all(Q.tables)).map((r) => ({
    schema: str(r.schema),
    name: str(r.name),
    kind: r.kind === 'p' ? 'p' : 'r',
    rows: null,
    rlsEnabled: Boolean(r.rls_enabled),
    rlsForced: Boolean(r.rls_forced),
    owner: str(r.owner),
    ...(options.sizes ? { bytes: Number(r.bytes ?? 0) } : {}),
  }));
  const locks = new LockRelease(client, options.releaseLocks ?? false);
  for (const t of tables) {
    if (t.kind !== 'r') continue;
    if (options.fingerprints) {
      // One read per table: the fingerprint starts with the exact row count.
      t.fingerprint = await locks.read(() => tableFingerprint(client, t.schema, t.name));
      t.rows = Number(t.fingerprint.split(':')[0]);
    } else if (options.rowCounts !== false) {
      const [row] = await locks.read(() =>
        all(`SELECT count(*)::bigint AS n FROM ${tableRef(t.schema, t.name)}`),
      );
      t.rows = Number(row?.n ?? 0);
    }
  }
  const sequences: SequenceInfo[] = [];
  for (const r of await all(Q.sequences)) {
    const [value] = await locks.read(() =>
      all(`SELECT last_value::text AS last_value, is_called FROM ${tableRef(str(r.schema), str(r.name))}`),
    );
    sequences.push({
      schema: str(r.schema),
      name: str(r.name),
      lastValue: value?.last_value == null ? null : str(value.last_value),
      isCalled: Boolean(value?.is_called),
      ownedBy: r.owner_table
        ? { schema: str(r.owner_schema), table: str(r.owner_table), column: str(r.owner_column) }
        : null,
    });
  }
  await locks.end();
  const roles = (await all(Q.roles)).map((r) => str(r.role));
  const serverMajor = Math.floor(Number(server?.num) / 10000);
  return {
    takenAt: new Date().toISOString(),
    database: str(server?.database),
    serverVersion: str(server?.version).split(' ')[0] ?? '',
    serverMajor,
    tables,
    policies: (await all(Q.policies)).map((r) => ({
      schema: str(r.schema),
      table: str(r.table),
      name: str(r.name),
      command: str(r.command),
      permissive: Boolean(r.permissive),
      roles: strArray(r.roles),
      using: r.using == null ? null : str(r.using),
      check: r.check == null ? null : str(r.check),
    })),
    functions: (await all(Q.functions)).map((r) => ({
      schema: str(r.schema),
      name: str(r.name),
      args: str(r.args),
      kind: str(r.kind),
      language: str(r.language),
      bodyHash: str(r.body_hash),
      securityDefiner: Boolean(r.security_definer),
    })),
    extensions: (await all(Q.extensions)).map((r) => ({
      name: str(r.name),
      version: str(r.version),
      schema: str(r.schema),
    })),
    databaseSettings: (await all(Q.databaseSettings)).map((r) => ({
      role: str(r.role),
      setting: str(r.setting),
    })),
    constraints: (await all(Q.constraints)).map((r) => ({
      schema: str(r.schema),
      table: str(r.table),
      name: str(r.name),
      type: str(r.type),
      definition: str(r.definition),
      validated: Boolean(r.validated),
    })),
    indexes: (await all(Q.indexes)).map((r) => ({
      schema: str(r.schema),
      table: str(r.table),
      name: str(r.name),
      definition: str(r.definition),
    })),
    triggers: (await all(Q.triggers)).map((r) => ({
      schema: str(r.schema),
      table: str(r.table),
      name: str(r.name),
      enabled: str(r.enabled),
      definition: str(r.definition),
    })),
    views: (await all(Q.views)).map((r) => ({
      schema: str(r.schema),
      name: str(r.name),
      kind: r.kind === 'm' ? 'm' : 'v',
      definition: str(r.definition),
      populated: Boolean(r.populated),
    })),
    sequences,
    roles,
    ...(await readRoles(client, roles, serverMajor)),
    schemas: (await all(Q.schemas)).map((r) => str(r.name)),
    columns: (await all(Q.columns)).map((r) => ({
      schema: str(r.schema),
      table: str(r.table),
      name: str(r.name),
      type: str(r.type),
      category: str(r.category),
      notNull: Boolean(r.not_null),
      generated: Boolean(r.generated),
    })),
    largeObjects: Number((await all(Q.largeObjects))[0]?.count ?? 0),
    migration: await readMigration(client, options.migrationsTable ?? DEFAULT_MIGRATIONS_TABLE),
  };
}

/** Output formats that make a row's text the same in any session on any server. */
const FINGERPRINT_SETTINGS: Record<string, string> = {
  TimeZone: 'UTC',
  DateStyle: 'ISO, YMD',
  IntervalStyle: 'postgres',
  extra_float_digits: '1',
  bytea_output: 'hex',
  lc_monetary: 'C',
};

/**
 * Sum of per-row hashes: independent of row order and physical layout, so a restored
 * copy hashes the same as its source while any altered, lost or added row changes it.
 * Rows are hashed as text in fixed formats, so a drill server in another time zone agrees.
 */
export async function tableFingerprint(client: pg.ClientBase, schema: string, name: string): Promise<string> {
  const settings = Object.entries(FINGERPRINT_SETTINGS);
  await client.query(settings.map(([key, value]) => `SET ${key} = '${value}'`).join('; '));
  try {
    const sql = `SELECT count(*)::text || ':' || COALESCE(sum(('x' || substr(md5(t::text), 1, 15))::bit(60)::bigint::numeric), 0)::text AS fp
      FROM ${tableRef(schema, name)} AS t`;
    const { rows } = await client.query(sql);
    return str((rows[0] as Row | undefined)?.fp);
  } finally {
    await client.query(settings.map(([key]) => `RESET ${key}`).join('; ')).catch(() => undefined);
  }
}

/** The newest applied migration version, or null when the table does not exist. */
export async function readMigration(client: pg.ClientBase, table: string): Promise<MigrationInfo | null> {
  const { rows } = await client
    .query('SELECT to_regclass($1)::text AS rel', [table])
    .catch((error: unknown) => {
      throw new LifeboatError('input', `Input \`migrations-table\` is not a valid table name: "${table}".`, {
        hint: 'Use schema.table, for example supabase_migrations.schema_migrations.',
        cause: error,
      });
    });
  const rel = (rows[0] as Row | undefined)?.rel;
  if (!rel) return null;
  const columns = await client.query(
    `SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`,
    [rel],
  );
  const names = columns.rows.map((r: Row) => str(r.attname));
  const column = ['version', 'id', 'name'].find((c) => names.includes(c)) ?? names[0];
  if (!column) return { table, latestVersion: null, count: 0 };
  const result = await client.query(
    `SELECT max(${quoteIdent(column)}::text) AS latest, count(*)::bigint AS n FROM ${String(rel)}`,
  );
  const row = result.rows[0] as Row | undefined;
  return { table, latestVersion: row?.latest == null ? null : str(row.latest), count: Number(row?.n ?? 0) };
}

function str(value: unknown): string {
  return value == null ? '' : String(value);
}

function strArray(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value === 'string') {
    // node-postgres returns name[] as text when it lacks a parser for the type.
    return value
      .replace(/^\{|\}$/g, '')
      .split(',')
      .filter(Boolean)
      .map((s) => s.replace(/^"|"$/g, ''));
  }
  return [];
}
