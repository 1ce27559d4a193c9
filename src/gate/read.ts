import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { readManifest } from '../archive/manifests.js';
import type { Manifest } from '../archive/manifest.js';
import { setObjects } from '../archive/store-keys.js';
import { isLifeboatError } from '../errors.js';
import type { Log } from '../log.js';
import type { PgTarget } from '../postgres/connection.js';
import { readMigration } from '../postgres/inspect.js';
import { openClient } from '../postgres/session.js';
import { latestBackupId, type BackupStore, type StoredObject } from '../stores/store.js';
import type { ArchiveState, ProductionMigration, Unreadable } from './evaluate.js';
import { workspaceDir } from '../settings/environment.js';

/**
 * Everything the gate reads, each read turned into data the decision can weigh: the gate
 * reports "cannot tell" as a verdict rather than failing halfway, so outputs, summary and
 * comment are written whatever went wrong. Only manifests are read; archives are only stat'ed.
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

/**
 * Whether every archive of the backup (the main one and each part) is stored with the size
 * its manifest records: one stat per object (a file stat, an S3 HEAD, a cache lookup),
 * never a read. Keys are derived from the set name, backup id and part number. A store
 * that cannot answer is a check that did not run, which the gate holds against the backup.
 */
export async function checkArchives(store: BackupStore, manifest: Manifest): Promise<ArchiveState> {
  // The Storage archive, when the backup has one, counts as one more part: without it the files are lost.
  const archives = setObjects(manifest).map((o) => ({ key: o.key, sizeBytes: o.archive.sizeBytes }));
  for (const [i, archive] of archives.entries()) {
    const part = i + 1;
    const key = archive.key;
    let found: StoredObject | undefined;
    try {
      found = await store.stat(key);
    } catch (error) {
      const { message, hint } = describeFailure(error);
      return { state: 'unchecked', key, part, message, hint };
    }
    if (!found) return { state: 'missing', key, part };
    if (found.sizeBytes !== archive.sizeBytes) {
      return {
        state: 'wrong-size',
        key,
        part,
        storedBytes: found.sizeBytes,
        recordedBytes: archive.sizeBytes,
      };
    }
  }
  return {
    state: 'present',
    key: archives[0]!.key,
    count: archives.length,
  };
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
  const where = path.resolve(workspaceDir(env), dir);
  try {
    const entries = await readdir(where, { withFileTypes: true });
    return entries.filter((e) => e.isFile()).map((e) => e.name);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // A repository without migrations is fine (the pending list is left out), but say so: a
    // misspelt migrations-dir would otherwise pass unnoticed.
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      log.info(`No migrations directory at ${dir}: the summary lists no pending migrations.`);
    } else {
      log.warning(`Could not list migrations in ${dir}: ${(error as Error).message}`);
    }
    return undefined;
  }
}
