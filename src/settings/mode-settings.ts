import type { Keys } from './encryption.js';
import type { Profile, VerificationLevel } from './constants.js';
import type { ObjectLock, StoreSpec } from '../stores/store.js';
import type { PgTarget } from '../postgres/connection.js';
import type { RetentionRules } from './keep.js';
import type { NotifySettings } from './notify-values.js';
import type { StorageRestoreSettings, StorageSettings } from './storage-values.js';

/**
 * The typed settings of every mode: what parseSettings (settings.ts) returns, apart from
 * the parsing so each file stays one job.
 */

/** Reads one input by its action.yml name; '' when unset. */
export type InputReader = (name: string) => string;

export interface Common {
  store: StoreSpec;
  name: string;
  keys: Keys;
  pgBinDir?: string;
  githubToken?: string;
  /** CA certificate(s), PEM: the root every database connection's TLS is checked against. */
  databaseCa?: string;
  /** Webhooks told how the run ended; every mode. */
  notify?: NotifySettings;
  /** A heartbeat check pinged at start, success and failure (healthchecks.io convention). */
  heartbeatUrl?: string;
}

export interface BackupSettings extends Common {
  mode: 'backup';
  database: PgTarget;
  /** Applied after each backup when any rule is set (then orphans are swept too). */
  retention: RetentionRules;
  orphanGraceSeconds: number;
  /** Pin the backup taken (`pin: true`), so no retention rule ever deletes it. */
  pin: boolean;
  /** S3 Object Lock on every object of the backup. */
  objectLock?: ObjectLock;
  migrationsTable: string;
  /** Record a content fingerprint of every table, so a drill catches altered values with the same row count. */
  fingerprints: boolean;
  /** pg_dump processes run at once; above 1 the backup is stored as that many parts. */
  dumpJobs: number;
  /** Supabase Storage objects archived beside the dump; absent without `storage-url`. */
  storage?: StorageSettings;
}

export interface GateSettings extends Common {
  mode: 'gate';
  maxAgeSeconds: number;
  require: VerificationLevel;
  database?: PgTarget;
  migrationsTable: string;
  migrationsDir: string;
  failOnStale: boolean;
}

export interface DrillSettings extends Common {
  mode: 'drill';
  target: PgTarget;
  backupId: string;
  rtoTargetSeconds?: number;
  rpoTargetSeconds?: number;
  verifySql?: string;
  profile: Profile;
  keepDatabase: boolean;
  /** Create recorded roles with LOGIN where they had it; off: every created role is NOLOGIN. */
  restoreRoleLogins: boolean;
}

export interface RestoreSettings extends Common, StorageRestoreSettings {
  mode: 'restore';
  target: PgTarget;
  backupId: string;
  confirm: string;
  dryRun: boolean;
  tables: { schema: string; name: string }[];
  profile: Profile;
  restoreRoleLogins: boolean;
  /** Where Storage objects go back to, with `restore-storage`. */
  storage?: StorageSettings;
}

/** A restore into staging with masking rules applied before anyone can read it (src/refresh). */
export interface RefreshSettings extends Common {
  mode: 'refresh';
  target: PgTarget;
  backupId: string;
  confirm: string;
  dryRun: boolean;
  profile: Profile;
  restoreRoleLogins: boolean;
  /** The rules file; `maskConfigGiven` false when it is the default path, which may be absent. */
  maskConfig: string;
  maskConfigGiven: boolean;
  /** The HMAC key of `hash` rules (and of every deterministic mask); a random one per run when absent. */
  maskKey?: string;
}

export interface WatchSettings extends Common {
  mode: 'watch';
  /** The sets watched; the `name` input when `names` is empty. */
  names: string[];
  maxAgeSeconds: number;
  require: VerificationLevel;
  /** The newest passed drill must be younger than this; null skips the drill check. */
  drillMaxAgeSeconds: number | null;
  failOnProblem: boolean;
}

export interface CopySettings extends Common {
  mode: 'copy';
  /** The second store the sets are copied to. */
  copyTo: StoreSpec;
  /** `latest`, `all`, or one backup id. */
  backupId: string;
  /** Retention applied to the destination after the copy (the rules of mode `backup`). */
  retention: RetentionRules;
  orphanGraceSeconds: number;
}

export type Settings =
  | BackupSettings
  | GateSettings
  | DrillSettings
  | RestoreSettings
  | WatchSettings
  | CopySettings
  | RefreshSettings;
