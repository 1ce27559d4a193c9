import type { StoreSpec } from '../stores/store.js';
import { Inputs } from '../settings/constants.js';
import { describeError, LifeboatError } from '../errors.js';
import { quoteIdent } from '../postgres/catalog.js';

/**
 * How to undo a full restore: restore the safety backup taken just before it. The text
 * names the exact command and the action inputs, never the connection string, whose
 * password must not be printed: the person passes the same target URL they used, through
 * LIFEBOAT_TARGET_URL (the CLI refuses a password on its command line).
 */
export interface RollbackFacts {
  store: StoreSpec;
  /** The safety backup's set, `<name>-pre-restore`. */
  safetyName: string;
  safetyBackupId: string;
  database: string;
  /** What `confirm` must be for the target. */
  confirm: string;
}

export function rollbackInstructions(facts: RollbackFacts): string {
  const store = storeText(facts.store);
  const cli = [
    'lifeboat restore',
    `--store ${shellQuote(store)}`,
    `--name ${shellQuote(facts.safetyName)}`,
    `--backup-id ${facts.safetyBackupId}`,
    `--confirm ${shellQuote(facts.confirm)}`,
    '--identity-file key.txt',
  ].join(' ');
  const inputs = [
    `${Inputs.Mode}: restore`,
    `${Inputs.Store}: ${store}`,
    `${Inputs.Name}: ${facts.safetyName}`,
    `${Inputs.BackupId}: ${facts.safetyBackupId}`,
    `${Inputs.Confirm}: ${facts.confirm}`,
  ].join(', ');
  return [
    `To put the target back as it was just before this restore, restore the safety backup ${facts.safetyBackupId}, with LIFEBOAT_TARGET_URL set to the same target URL:`,
    `  ${cli}`,
    `  or in the action: ${inputs}, with the same ${Inputs.TargetUrl} and ${Inputs.EncryptionIdentity}.`,
  ].join('\n');
}

/** A target that held nothing needs no safety backup: going back means emptying it again. */
export function emptyRollback(database: string): string {
  return `The target held no data before this restore, so no safety backup was taken. To return to that, recreate the database: DROP DATABASE ${quoteIdent(database)}; CREATE DATABASE ${quoteIdent(database)};`;
}

/**
 * The same error with the rollback instruction in front of its hint: whatever failed after
 * the safety backup, the person reading it learns how to get back.
 */
export function withRollback(error: unknown, instructions: string, note?: string): LifeboatError {
  const base =
    error instanceof LifeboatError
      ? error
      : new LifeboatError('internal', describeError(error), { cause: error });
  const message = note ? `${base.message}\n${note}` : base.message;
  const hint = base.hint ? `${instructions}\n${base.hint}` : instructions;
  return new LifeboatError(base.code, message, { hint, cause: error });
}

export function storeText(store: StoreSpec): string {
  switch (store.kind) {
    case 'actions-cache':
      return 'actions-cache';
    case 's3':
      return store.url;
    case 'local':
      return store.path;
  }
}

/** Leaves plain words bare; anything else goes in single quotes a POSIX shell reads literally. */
export function shellQuote(text: string): string {
  if (/^[A-Za-z0-9_./:@%+=,-]+$/.test(text)) return text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
