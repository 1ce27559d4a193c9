import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { readManifest } from '../archive/manifests.js';
import type { Manifest } from '../archive/manifest.js';
import { isLifeboatError } from '../errors.js';
import type { Log } from '../log.js';
import type { PgTarget } from '../postgres/connection.js';
import { readMigration } from '../postgres/inspect.js';
import { openClient } from '../postgres/session.js';
import { keyExists, latestBackupId, type BackupStore } from '../stores/store.js';
import type { ProductionMigration, Unreadable } from './evaluate.js';

/**
 * Everything the gate reads, each read turned into data the decision can weigh: the gate
 * reports "cannot tell" as a verdict rather than failing halfway, so outputs, summary and
 * comment are written whatever went wrong. Only manifests are read, never an archive.
 */

export interface NewestBackup {
  manifest?: Manifest;
  unreadable?: Unreadable;
}

export async function readNewestBackup(store: BackupStore, name: string): Promise<NewestBackup> {
  let id: string | undefined;
  try {
    id = await latestBackupId(store, name);
  } catch (error) {
    return { unreadable: unreachable(store, error) };
  }
  if (!id) return {};
  try {
    return { manifest: await readManifest(store, name, id) };
  } catch (error) {
    if (isLifeboatError(error, 'format') || isLifeboatError(error, 'integrity')) {
      return { unreadable: { message: error.message, hint: error.hint, backupId: id } };
    }
    if (isLifeboatError(error, 'not-found')) {
      return {
        unreadable: {
          message: `The manifest of the newest backup ${id} disappeared while the gate read it.`,
          hint: 'A retention run may have removed it; re-run this job.',
          backupId: id,
        },
      };
    }
    return { unreadable: unreachable(store, error) };
  }
}

function unreachable(store: BackupStore, error: unknown): Unreadable {
  const why = error instanceof Error ? error.message : String(error);
  const hint =
    isLifeboatError(error) && error.hint ? error.hint : 'Check the `store` input and its credentials.';
  return { message: `Cannot read the store ${store.location}: ${why.replace(/\.$/, '')}.`, hint };
}

/** Whether the archive is stored; undefined (with a warning) when the store cannot say. */
export async function archiveExists(store: BackupStore, key: string, log: Log): Promise<boolean | undefined> {
  try {
    return await keyExists(store, key);
  } catch (error) {
    log.warning(`Could not check that ${key} is in the store: ${(error as Error).message}`);
    return undefined;
  }
}

/** Whether every archive of a backup (each part of a parallel one) is stored, and the first one missing. */
export async function archivesExist(
  store: BackupStore,
  keys: string[],
  log: Log,
): Promise<{ present: boolean | undefined; missing?: string }> {
  let present: boolean | undefined = true;
  for (const key of keys) {
    const found = await archiveExists(store, key, log);
    if (found === false) return { present: false, missing: key };
    if (found === undefined) present = undefined;
  }
  return { present };
}

/** The latest migration production has applied; connection failures explain themselves. */
export async function readProductionMigration(target: PgTarget, table: string): Promise<ProductionMigration> {
  const { client } = await openClient(target, 'database-url');
  try {
    const info = await readMigration(client, table);
    return { table, exists: info !== null, latestVersion: info?.latestVersion ?? null };
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function describeFailure(error: unknown): Unreadable {
  if (isLifeboatError(error)) return { message: error.message, hint: error.hint };
  return { message: error instanceof Error ? error.message : String(error) };
}

/**
 * File names in `migrations-dir` (relative to the workspace), or undefined when there is
 * no such directory: a repository without migrations simply gets no list.
 */
export async function readMigrationFiles(
  dir: string,
  env: NodeJS.ProcessEnv,
  log: Log,
): Promise<string[] | undefined> {
  const where = path.resolve(env.GITHUB_WORKSPACE || process.cwd(), dir);
  try {
    const entries = await readdir(where, { withFileTypes: true });
    return entries.filter((e) => e.isFile()).map((e) => e.name);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') {
      log.warning(`Could not list migrations in ${dir}: ${(error as Error).message}`);
    }
    return undefined;
  }
}
