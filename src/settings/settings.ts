import {
  recipientOf,
  parseIdentities,
  parseRecipients,
  type DecryptKeys,
  type EncryptKeys,
} from '../archive/age/index.js';
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

/** Reads one input by its action.yml name; '' when unset. */
export type InputReader = (name: string) => string;

export interface Keys {
  recipients: string[];
  identities: string[];
  passphrase?: string;
}

interface Common {
  store: StoreSpec;
  name: string;
  keys: Keys;
  pgBinDir?: string;
  githubToken?: string;
  /** CA certificate(s), PEM: the root every database connection's TLS is checked against. */
  databaseCa?: string;
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

export type Settings = BackupSettings | GateSettings | DrillSettings | RestoreSettings;

/**
 * Turns raw inputs into one typed settings object, validating everything up front so no
 * work starts on bad input. Every secret is handed to `secret` before anything can print it.
 */
export function parseSettings(read: InputReader, secret: (value: string) => void): Settings {
  const raw = (name: string) => read(name).trim();
  // The value given, else the input's default from the one table of defaults.
  const value = (name: string) => raw(name) || defaultOf(name);
  for (const name of [
    Inputs.DatabaseUrl,
    Inputs.TargetUrl,
    Inputs.EncryptionIdentity,
    Inputs.EncryptionPassphrase,
    Inputs.GithubToken,
  ]) {
    const value = read(name);
    if (value) secret(value);
  }
  const mode = choice(raw(Inputs.Mode), Inputs.Mode, Modes, undefined) as Mode;
  const common: Common = {
    store: parseStore(value(Inputs.Store)),
    name: parseName(value(Inputs.Name)),
    keys: parseKeys(read, secret),
    pgBinDir: raw(Inputs.PgBinDir) || undefined,
    githubToken: parseGithubToken(raw(Inputs.GithubToken)),
    databaseCa: raw(Inputs.DatabaseCa)
      ? parseCaCertificates(raw(Inputs.DatabaseCa), Inputs.DatabaseCa)
      : undefined,
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
  const migrationsTable = value(Inputs.MigrationsTable);
  switch (mode) {
    case 'backup': {
      requireEncryptKey(common);
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
        require: choice(
          value(Inputs.Require),
          Inputs.Require,
          VerificationLevels,
          undefined,
        ) as VerificationLevel,
        database: url(Inputs.DatabaseUrl, false),
        migrationsTable,
        migrationsDir: parseMigrationsDir(value(Inputs.MigrationsDir)),
        failOnStale: bool(value(Inputs.FailOnStale), Inputs.FailOnStale, true),
      };
    case 'drill': {
      requireDecryptKey(common, mode);
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
    case 'restore': {
      requireDecryptKey(common, mode);
      return {
        ...common,
        mode,
        target: url(Inputs.TargetUrl, true)!,
        backupId: parseBackupId(value(Inputs.BackupId)),
        confirm: raw(Inputs.Confirm),
        dryRun: bool(value(Inputs.DryRun), Inputs.DryRun, false),
        tables: parseTables(raw(Inputs.Tables)),
        profile: choice(value(Inputs.Profile), Inputs.Profile, Profiles, undefined) as Profile,
        restoreRoleLogins: bool(value(Inputs.RestoreRoleLogins), Inputs.RestoreRoleLogins, false),
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
  requireDecryptKey(common as Common, 'show');
  return { ...common, backupId: parseBackupId(value(Inputs.BackupId)) };
}

function parseKeys(read: InputReader, secret: (value: string) => void): Keys {
  const recipients = read(Inputs.EncryptionRecipient).trim()
    ? parseRecipients(read(Inputs.EncryptionRecipient), Inputs.EncryptionRecipient)
    : [];
  const identities = read(Inputs.EncryptionIdentity).trim()
    ? parseIdentities(read(Inputs.EncryptionIdentity), Inputs.EncryptionIdentity)
    : [];
  identities.forEach(secret);
  const passphrase = read(Inputs.EncryptionPassphrase) || undefined;
  if (passphrase && (recipients.length || identities.length)) {
    throw new LifeboatError(
      'input',
      'Inputs `encryption-passphrase` and `encryption-recipient`/`encryption-identity` cannot be combined.',
      {
        hint: 'Use age keys (recommended: backups need only the public key) or a passphrase, not both.',
      },
    );
  }
  // An identity alone can encrypt too: its recipient is derived from it.
  const all = recipients.length ? recipients : identities.map(recipientOf);
  return { recipients: all, identities, passphrase };
}

function requireEncryptKey(common: Common): void {
  if (common.keys.recipients.length || common.keys.passphrase) return;
  const why =
    common.store.kind === 'actions-cache'
      ? ' The actions-cache store is readable by pull requests from forks, so backups there must be encrypted.'
      : ' Lifeboat never stores an unencrypted backup.';
  throw new LifeboatError(
    'input',
    `Mode \`backup\` needs \`encryption-recipient\` (an age public key) or \`encryption-passphrase\`.${why}`,
    {
      hint: 'Generate a key pair with `age-keygen -o key.txt`, keep key.txt secret, and pass its public key (age1…) as encryption-recipient.',
    },
  );
}

function requireDecryptKey(common: Common, mode: string): void {
  if (common.keys.identities.length || common.keys.passphrase) return;
  throw new LifeboatError(
    'input',
    `Mode \`${mode}\` needs \`encryption-identity\` (AGE-SECRET-KEY-1…) or \`encryption-passphrase\` to read the backup.`,
    {
      hint: 'Store the identity in a protected GitHub environment and pass it as `${{ secrets.LIFEBOAT_IDENTITY }}`.',
    },
  );
}

/** The keys a backup is encrypted to. */
export function encryptKeys(keys: Keys): EncryptKeys {
  if (keys.passphrase) return { passphrase: keys.passphrase };
  if (keys.recipients.length) return { recipients: keys.recipients };
  throw new LifeboatError('input', 'No encryption key: pass encryption-recipient or encryption-passphrase.');
}

/** The keys a backup is read with, or undefined when only the public key was given. */
export function decryptKeys(keys: Keys): DecryptKeys | undefined {
  if (keys.passphrase) return { passphrase: keys.passphrase };
  if (keys.identities.length) return { identities: keys.identities };
  return undefined;
}
