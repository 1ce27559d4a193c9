/**
 * What a backup recorded about its database, and what a restored copy must match.
 * Stored age-encrypted inside the manifest: it names tables and counts rows.
 */
export interface CatalogSnapshot {
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
  schemas: string[];
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
  /** The part of a parallel backup (2…N) whose archive holds the rows; absent: the main archive. */
  part?: number;
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

export interface MigrationInfo {
  table: string;
  latestVersion: string | null;
  count: number;
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
