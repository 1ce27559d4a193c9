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
import { parseConnectionUrl, type PgTarget } from '../postgres/connection.js';
import { defaultOf } from './defaults.js';
import { parseRetentionInputs } from './keep.js';
import { parseObjectLock } from './object-lock.js';
import { parseCopyInputs } from './copy-values.js';
import { parseNotifyInputs, parseWatchInputs, type NotifySettings } from './notify-values.js';
import { parseStorageInputs, parseStorageRestoreInputs, type StorageSettings } from './storage-values.js';

export type { NotifySettings, StorageSettings };
// Where the modes have always found them.
export { decryptKeys, encryptKeys, type Keys };

export type {
  BackupSettings,
  Common,
  CopySettings,
  DrillSettings,
  GateSettings,
  InputReader,
  RefreshSettings,
  RestoreSettings,
  Settings,
  WatchSettings,
} from './mode-settings.js';
import type { Common, InputReader, Settings } from './mode-settings.js';

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
      return {
        ...common,
        mode,
        database: url(Inputs.DatabaseUrl, true)!,
        ...parseRetentionInputs(raw, value),
        pin: bool(value(Inputs.Pin), Inputs.Pin, false),
        objectLock: parseObjectLock(raw, value, common.store),
        migrationsTable,
        fingerprints: bool(value(Inputs.VerifyContent), Inputs.VerifyContent, false),
        dumpJobs: parseDumpJobs(value(Inputs.DumpJobs), Inputs.DumpJobs),
        storage: parseStorageInputs(raw, value),
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
    case 'copy':
      return { ...common, mode, ...parseCopyInputs(raw, value) };
    case 'refresh': {
      requireDecryptKey(common.keys, mode);
      return {
        ...common,
        mode,
        ...restoreInputs(),
        maskConfig: value(Inputs.MaskConfig),
        maskConfigGiven: Boolean(raw(Inputs.MaskConfig)),
        maskKey: parseMaskKey(read(Inputs.MaskKey)),
      };
    }
    case 'restore': {
      requireDecryptKey(common.keys, mode);
      const storage = parseStorageInputs(raw, value);
      return {
        ...common,
        mode,
        ...restoreInputs(),
        tables: parseTables(raw(Inputs.Tables)),
        storage,
        ...parseStorageRestoreInputs(raw, value, storage),
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

/**
 * `mask-key`: the HMAC key of every mask. A short key could be guessed and the masks of
 * common values (names, emails) reversed by trying them, so fewer than 16 characters are
 * refused. The value is a secret: the error never shows it.
 */
export function parseMaskKey(key: string): string | undefined {
  if (!key) return undefined;
  if (key.length < 16) {
    throw new LifeboatError(
      'input',
      `Input \`${Inputs.MaskKey}\` is ${key.length} characters long; accepted values: at least 16 characters (a random secret).`,
      {
        hint: 'Make one with `openssl rand -base64 32` and keep it in a secret, or leave it empty for a random key per run.',
      },
    );
  }
  return key;
}
