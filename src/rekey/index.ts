import { describeError, LifeboatError } from '../errors.js';
import type { Log } from '../log.js';
import { createToolFinder } from '../postgres/tools.js';
import { latestBackupId, listBackupIds, type BackupStore } from '../stores/store.js';
import { pauseAfter } from './pause.js';
import { rekeySet, type RekeyKeys, type SetRekey } from './rekey-set.js';

export type { RekeyKeys } from './rekey-set.js';

export interface RekeyOptions {
  store: BackupStore;
  name: string;
  /** `latest`, `all`, or one backup id. */
  backupId: string;
  keys: RekeyKeys;
  pgBinDir?: string;
  log: Log;
  env?: NodeJS.ProcessEnv;
}

/**
 * `lifeboat rekey`: re-encrypts backups to new recipients with the old identity, one
 * backup at a time, each safe to interrupt at any point (rekey-set.ts tells how). A backup
 * that fails is left readable with the old key and named; the others go on.
 */
export async function runRekey(options: RekeyOptions): Promise<SetRekey[]> {
  const { store, name, log } = options;
  if (store.kind === 'actions-cache') {
    throw new LifeboatError('unsupported', 'Backups in the GitHub Actions cache cannot be rekeyed.', {
      hint: 'Cache entries live at most 7 days unread and cannot be replaced in place: change encryption-recipient, and the next backups use the new key. Rekey copies kept in a directory or S3 store.',
    });
  }
  const ids = await chooseIds(store, name, options.backupId);
  log.info(
    `Rekeying ${ids.length} backup(s) of "${name}" in ${store.location} to ${options.keys.recipients.length} recipient(s).`,
  );
  if (!options.keys.newIdentities?.length) {
    log.warning(
      'No new identity given (LIFEBOAT_NEW_IDENTITY): the new archives are checked at level `stored` only, and the gate (level `readable` by default) will not accept them until a drill proves them. Give the new identity to prove them readable now.',
    );
  }
  const tools = createToolFinder({ binDir: options.pgBinDir, env: options.env });
  const done: SetRekey[] = [];
  const failed: { backupId: string; error: string }[] = [];
  for (const backupId of ids) {
    try {
      done.push(
        await rekeySet({
          ...options,
          backupId,
          pgRestoreFor: (m) => tools.forServer('pg_restore', m.source.serverMajor, m.source.serverVersion),
        }),
      );
      await pauseAfter('backup', log, options.env);
    } catch (error) {
      log.warning(
        `Rekeying ${name}/${backupId} failed; it still reads with the old key: ${describeError(error)}`,
      );
      failed.push({ backupId, error: describeError(error) });
    }
  }
  const rekeyed = done.filter((d) => d.result === 'rekeyed').length;
  log.info(
    `Rekey: ${rekeyed} rekeyed, ${done.length - rekeyed} already on the new key, ${failed.length} failed.`,
  );
  if (failed.length) {
    throw new LifeboatError(
      'key',
      `${failed.length} of ${ids.length} backup(s) were not rekeyed; the first, ${failed[0]!.backupId}: ${failed[0]!.error}`,
      {
        hint: 'Those backups still read with the old key. Fix the cause and run the rekey again: it skips backups already on the new key.',
      },
    );
  }
  return done;
}

async function chooseIds(store: BackupStore, name: string, backupId: string): Promise<string[]> {
  if (backupId === 'all') return (await listBackupIds(store, name)).reverse();
  const id = backupId === 'latest' ? await latestBackupId(store, name) : backupId;
  if (!id) {
    throw new LifeboatError('not-found', `The store ${store.location} holds no backup of "${name}".`, {
      hint: 'Check --store and --name.',
    });
  }
  return [id];
}
