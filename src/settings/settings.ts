import {
  decryptKeys,
  encryptKeys,
  parseKeys,
  requireDecryptKey,
  requireEncryptKey,
  type Keys,
} from './encryption.js';
import {
  Inputs,
  Modes,
  Profiles,
  VerificationLevels,
  type Mode,
  type Profile,
  type VerificationLevel,
} from './constants.js';
import { parseDuration } from '../duration.js';
import { LifeboatError } from '../errors.js';
import {
  bool,
  choice,
  parseCaCertificates,
  parseBackupId,
  parseDumpJobs,
  parseGithubToken,
  parseMigrationsDir,
  parseName,
  parseStore,
  parseTables,
} from './values.js';
import type { StoreSpec } from '../stores/store.js';
import { parseConnectionUrl, type PgTarget } from '../postgres/connection.js';
import { defaultOf } from './defaults.js';
import { parseRetention, type Retention } from './keep.js';
import { parseNotifyInputs, parseWatchInputs, type NotifySettings } from './notify-values.js';

export type { NotifySettings };
// Where the modes have always found them.
export { decryptKeys, encryptKeys, type Keys };

/** Reads one input by its action.yml name; '' when unset. */
export type InputReader = (name: string) => string;

interface Common {
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
  keep?: Retention;
  migrationsTable: string;
  /** Record a content fingerprint of every table, so a drill catches altered values with the same row count. */
  fingerprints: boolean;
  /** pg_dump processes run at once; above 1 the backup is stored as that many parts. */
  dumpJobs: number;
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

export interface RestoreSettings extends Common {
  mode: 'restore';
  target: PgTarget;
  backupId: string;
  confirm: string;
  dryRun: boolean;
  tables: { schema: string; name: string }[];
  profile: Profile;
  restoreRoleLogins: boolean;
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

export type Settings =
  BackupSettings | GateSettings | DrillSettings | RestoreSettings | WatchSettings | RefreshSettings;

/**
 * Turns raw inputs into one typed settings object, validating everything up front so no
 * work starts on bad input. Every secret is handed to `secret` before anything can print it.
 */
export function parseSettings(read: InputReader, secret: (value: string) => void): Settings {
  const raw = (name: string) => read(name).trim();
  for (const name of [
    Inputs.DatabaseUrl,
    Inputs.TargetUrl,
    Inputs.EncryptionIdentity,
    Inputs.EncryptionPassphrase,
    Inputs.GithubToken,
    Inputs.HeartbeatUrl,
    Inputs.MaskKey,
  ]) {
    const value = read(name);
    if (value) secret(value);
  }
  // Each webhook URL on its own: the log masks each line, not the input as one block.
  for (const url of read(Inputs.NotifyUrl).split(/\s+/)) if (url) secret(url);
  const mode = choice(raw(Inputs.Mode), Inputs.Mode, Modes, undefined) as Mode;
  // The value given, else the input's default (for this mode) from the one table of defaults.
  const value = (name: string) => raw(name) || defaultOf(name, mode);
  const common: Common = {
    store: parseStore(value(Inputs.Store)),
    name: parseName(value(Inputs.Name)),
    keys: parseKeys(read, secret),
    pgBinDir: raw(Inputs.PgBinDir) || undefined,
    githubToken: parseGithubToken(raw(Inputs.GithubToken)),
    databaseCa: raw(Inputs.DatabaseCa)
      ? parseCaCertificates(raw(Inputs.DatabaseCa), Inputs.DatabaseCa)
      : undefined,
    ...parseNotifyInputs(raw, value),
  };
  const url = (name: string, required: boolean): PgTarget | undefined => {
    const value = raw(name);
    if (!value) {
      if (required) {
        throw new LifeboatError('input', `Input \`${name}\` is required for mode \`${mode}\`.`, {
          hint: 'Pass the connection string from a secret, e.g. `${{ secrets.DATABASE_URL }}`.',
        });
      }
      return undefined;
    }
    const target = parseConnectionUrl(value, name, { ca: common.databaseCa });
    if (target.password) secret(target.password);
    return target;
  };
  // What a restore and a refresh both read: the target, the backup, the guard.
  const restoreInputs = () => ({
    target: url(Inputs.TargetUrl, true)!,
    backupId: parseBackupId(value(Inputs.BackupId)),
    confirm: raw(Inputs.Confirm),
    dryRun: bool(value(Inputs.DryRun), Inputs.DryRun, false),
    profile: choice(value(Inputs.Profile), Inputs.Profile, Profiles, undefined) as Profile,
    restoreRoleLogins: bool(value(Inputs.RestoreRoleLogins), Inputs.RestoreRoleLogins, false),
  });
  const migrationsTable = value(Inputs.MigrationsTable);
  const level = () =>
    choice(value(Inputs.Require), Inputs.Require, VerificationLevels, undefined) as VerificationLevel;
  switch (mode) {
    case 'backup': {
      requireEncryptKey(common.keys, common.store);
      const keep = raw(Inputs.Keep);
      return {
        ...common,
        mode,
        database: url(Inputs.DatabaseUrl, true)!,
        keep: keep ? parseRetention(keep) : undefined,
        migrationsTable,
        fingerprints: bool(value(Inputs.VerifyContent), Inputs.VerifyContent, false),
        dumpJobs: parseDumpJobs(value(Inputs.DumpJobs), Inputs.DumpJobs),
      };
    }
    case 'gate':
      return {
        ...common,
        mode,
        maxAgeSeconds: parseDuration(value(Inputs.MaxAge), Inputs.MaxAge),
        require: level(),
        database: url(Inputs.DatabaseUrl, false),
        migrationsTable,
        migrationsDir: parseMigrationsDir(value(Inputs.MigrationsDir)),
        failOnStale: bool(value(Inputs.FailOnStale), Inputs.FailOnStale, true),
      };
    case 'drill': {
      requireDecryptKey(common.keys, mode);
      const rto = raw(Inputs.RtoTarget);
      const rpo = raw(Inputs.RpoTarget);
      return {
        ...common,
        mode,
        target: url(Inputs.TargetUrl, true)!,
        backupId: parseBackupId(value(Inputs.BackupId)),
        rtoTargetSeconds: rto ? parseDuration(rto, Inputs.RtoTarget) : undefined,
        rpoTargetSeconds: rpo ? parseDuration(rpo, Inputs.RpoTarget) : undefined,
        verifySql: raw(Inputs.VerifySql) || undefined,
        profile: choice(value(Inputs.Profile), Inputs.Profile, Profiles, undefined) as Profile,
        keepDatabase: bool(value(Inputs.KeepDatabase), Inputs.KeepDatabase, false),
        restoreRoleLogins: bool(value(Inputs.RestoreRoleLogins), Inputs.RestoreRoleLogins, false),
      };
    }
    case 'watch':
      return {
        ...common,
        mode,
        maxAgeSeconds: parseDuration(value(Inputs.MaxAge), Inputs.MaxAge),
        require: level(),
        ...parseWatchInputs(raw, value, common.name),
      };
    case 'refresh': {
      requireDecryptKey(common.keys, mode);
      return {
        ...common,
        mode,
        ...restoreInputs(),
        maskConfig: value(Inputs.MaskConfig),
        maskConfigGiven: Boolean(raw(Inputs.MaskConfig)),
        maskKey: read(Inputs.MaskKey) || undefined,
      };
    }
    case 'restore': {
      requireDecryptKey(common.keys, mode);
      return {
        ...common,
        mode,
        ...restoreInputs(),
        tables: parseTables(raw(Inputs.Tables)),
      };
    }
  }
}

/** What `lifeboat show` needs: where the backup is and the key to read its catalog. */
export function parseShowSettings(
  read: InputReader,
  secret: (value: string) => void,
): Pick<Common, 'store' | 'name' | 'keys'> & { backupId: string } {
  const value = (name: string) => read(name).trim() || defaultOf(name);
  const common = {
    store: parseStore(value(Inputs.Store)),
    name: parseName(value(Inputs.Name)),
    keys: parseKeys(read, secret),
  };
  requireDecryptKey(common.keys, 'show');
  return { ...common, backupId: parseBackupId(value(Inputs.BackupId)) };
}
