import type { StorageCatalog } from '../storage/object-catalog.js';

/**
 * What a backup recorded about its database, and what a restored copy must match.
 * Stored age-encrypted inside the manifest: it names tables and counts rows.
 */
export interface CatalogSnapshot {
  /** The Storage objects a backup took (bucket, key, size, type, metadata, SHA-256), when it took any. */
  storage?: StorageCatalog;
  takenAt: string;
  database: string;
  serverVersion: string;
  serverMajor: number;
  tables: TableInfo[];
  policies: PolicyInfo[];
  functions: FunctionInfo[];
  extensions: ExtensionInfo[];
  databaseSettings: DatabaseSetting[];
  constraints: ConstraintInfo[];
  indexes: IndexInfo[];
  triggers: TriggerInfo[];
  views: ViewInfo[];
  sequences: SequenceInfo[];
  /** Roles that own objects, are granted on them, or are named by policies. */
  roles: string[];
  /**
   * Those roles as the server defines them, with the roles they belong to and their members
   * (no passwords), and every grant on the database's objects. Absent in catalogs written
   * before roles were recorded: a reader then neither creates roles nor compares privileges.
   */
  roleDetails?: RoleInfo[];
  memberships?: MembershipInfo[];
  privileges?: PrivilegeInfo[];
  schemas: string[];
  /** Every column of every table, so masking rules are checked before a refresh restores anything. Absent in older catalogs. */
  columns?: ColumnInfo[];
  largeObjects: number;
  migration: MigrationInfo | null;
}

export interface TableInfo {
  schema: string;
  name: string;
  /** `r` ordinary (or partition), `p` partitioned parent (holds no rows itself). */
  kind: 'r' | 'p';
  rows: number | null;
  rlsEnabled: boolean;
  rlsForced: boolean;
  owner: string;
  /** Order-independent content hash of every row, when fingerprints were taken. */
  fingerprint?: string;
  /** pg_total_relation_size when the backup was taken (indexes and TOAST included). */
  bytes?: number;
  /** The part of a parallel backup (2…N) whose archive holds the rows; absent: the main archive. */
  part?: number;
}

export interface ColumnInfo {
  schema: string;
  table: string;
  name: string;
  /** As format_type prints it: `text`, `extensions.citext`, `jsonb`, `character varying(200)`. */
  type: string;
  /** pg_type.typcategory of the base type (domains resolved): `S` string, `U` user-defined (jsonb, citext), … */
  category: string;
  notNull: boolean;
  /** GENERATED ALWAYS AS (…) STORED: computed from other columns, never written. */
  generated: boolean;
}

export interface PolicyInfo {
  schema: string;
  table: string;
  name: string;
  command: string;
  permissive: boolean;
  roles: string[];
  using: string | null;
  check: string | null;
}

export interface FunctionInfo {
  schema: string;
  name: string;
  args: string;
  kind: string;
  language: string;
  bodyHash: string;
  securityDefiner: boolean;
}

export interface ExtensionInfo {
  name: string;
  version: string;
  schema: string;
}

export interface DatabaseSetting {
  /** Empty for `ALTER DATABASE … SET`, a role name for `ALTER ROLE … IN DATABASE … SET`. */
  role: string;
  setting: string;
}

export interface ConstraintInfo {
  schema: string;
  table: string;
  name: string;
  type: string;
  definition: string;
  validated: boolean;
}

export interface IndexInfo {
  schema: string;
  table: string;
  name: string;
  definition: string;
}

export interface TriggerInfo {
  schema: string;
  table: string;
  name: string;
  /** pg_trigger.tgenabled: O origin, D disabled, R replica, A always. */
  enabled: string;
  definition: string;
}

export interface ViewInfo {
  schema: string;
  name: string;
  kind: 'v' | 'm';
  definition: string;
  populated: boolean;
}

export interface SequenceInfo {
  schema: string;
  name: string;
  lastValue: string | null;
  isCalled: boolean;
  ownedBy: { schema: string; table: string; column: string } | null;
}

/** A role's definition, minus its password, which no backup carries. */
export interface RoleInfo {
  name: string;
  superuser: boolean;
  login: boolean;
  inherit: boolean;
  createRole: boolean;
  createDb: boolean;
  replication: boolean;
  bypassRls: boolean;
  /** -1: no limit. */
  connectionLimit: number;
  /** ISO time, 'infinity', or null for none. */
  validUntil: string | null;
  /** `ALTER ROLE … SET` for every database, as `name=value`. */
  settings: string[];
}

/** `GRANT role TO member`; inherit and set are null on servers before 16, which lack them. */
export interface MembershipInfo {
  role: string;
  member: string;
  admin: boolean;
  inherit: boolean | null;
  set: boolean | null;
}

/** One privilege of one grantee on one object, `PUBLIC` for everyone. */
export interface PrivilegeInfo {
  grantee: string;
  /** `table public.orders`, `column public.orders.email`, `default privileges of app in schema public on tables`, … */
  object: string;
  privilege: string;
  grantable: boolean;
}

export interface MigrationInfo {
  table: string;
  latestVersion: string | null;
  count: number;
}

/** Nothing in it that a restore could lose: no data, no code. Pure. */
export function holdsNoData(
  s: Pick<CatalogSnapshot, 'tables' | 'views' | 'functions' | 'sequences' | 'largeObjects'>,
): boolean {
  return !s.tables.length && !s.views.length && !s.functions.length && !s.sequences.length && !s.largeObjects;
}

/**
 * Whether the database holds nothing for pg_dump to dump: no data nor code, and no object
 * beyond the public schema every database has (and plpgsql). Its archive's table of contents
 * is then empty, which for any other database would mean a broken dump. Pure.
 */
export function holdsNoObjects(
  s: Pick<
    CatalogSnapshot,
    'schemas' | 'tables' | 'views' | 'functions' | 'sequences' | 'largeObjects' | 'extensions'
  >,
): boolean {
  return (
    holdsNoData(s) &&
    s.schemas.every((name) => name === 'public') &&
    s.extensions.every((x) => x.name === 'plpgsql')
  );
}

export function qualified(schema: string, name: string): string {
  return `${schema}.${name}`;
}

/** Quotes an identifier the way PostgreSQL would accept it in any context. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

export function tableRef(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}
