/**
 * Good backups: taken before a test breaks anything, recorded byte for byte (hashes of the
 * manifest and the archive) with the source's contents at the time, and restorable by hand
 * with the standard tools alone, as the README tells a person to.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { createDecryptStream, type DecryptKeys } from '../../src/archive/age/index.js';
import type { Manifest } from '../../src/archive/manifest.js';
import { archiveKey, manifestKey } from '../../src/archive/store-keys.js';
import type { BackupStore } from '../../src/stores/store.js';
import type { Cluster } from './cluster.js';
import { tableContents } from './fixtures.js';

/** A backup taken before a test changes anything, which nothing the test does may touch. */
export interface GoodBackup {
  store: BackupStore;
  name: string;
  backupId: string;
  manifest: Manifest;
  manifestSha: string;
  archiveSha: string;
  /** What decrypts it. */
  keys: DecryptKeys;
  /** The source database when the backup was taken: every table's rows and content fingerprint. */
  source: Record<string, string>;
}

export async function sha256Of(store: BackupStore, key: string): Promise<string> {
  return createHash('sha256')
    .update(await buffer(await store.get(key)))
    .digest('hex');
}

export async function recordGood(
  store: BackupStore,
  manifest: Manifest,
  keys: DecryptKeys,
  source: Record<string, string>,
): Promise<GoodBackup> {
  const { name, backupId } = manifest;
  return {
    store,
    keys,
    source,
    name,
    backupId,
    manifest,
    manifestSha: await sha256Of(store, manifestKey(name, backupId)),
    archiveSha: await sha256Of(store, archiveKey(name, backupId)),
  };
}

/** Why a good backup is no longer byte for byte what it was, or undefined when it is. */
export async function goodBackupProblem(good: GoodBackup): Promise<string | undefined> {
  const where = `${good.name}/${good.backupId}`;
  const sha = (key: string) => sha256Of(good.store, key).catch((e: Error) => `gone (${e.message})`);
  if ((await sha(manifestKey(good.name, good.backupId))) !== good.manifestSha)
    return `the manifest of ${where} changed or went`;
  if ((await sha(archiveKey(good.name, good.backupId))) !== good.archiveSha)
    return `the archive of ${where} changed or went`;
  return undefined;
}

/**
 * Restores a good backup the way the README tells a person to, with the standard tools
 * alone: `age -d -i key.txt | zstd -d | pg_restore`, into a fresh database; returns its
 * contents, to compare with the source's when the backup was taken. (age reads a passphrase
 * only at a terminal, so a passphrase backup is decrypted by Lifeboat's own reader.)
 */
export async function restoreGoodByHand(good: GoodBackup, cluster: Cluster): Promise<Record<string, string>> {
  const database = `good_${good.backupId.slice(-8)}_${Date.now() % 100000}`;
  await cluster.createDatabase(database);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lifeboat-by-hand-'));
  try {
    const pgRestore = path.join(cluster.clientBinDir, 'pg_restore');
    const restore = spawn(pgRestore, ['--exit-on-error', '--no-owner', '-d', database], {
      env: {
        PATH: process.env.PATH,
        PGHOST: cluster.host,
        PGPORT: String(cluster.port),
        PGUSER: cluster.superuser,
        PGPASSWORD: cluster.password,
      },
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let stderr = '';
    restore.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const restored = new Promise<number | null>((resolve) => restore.on('close', resolve));
    const zstd = spawn('zstd', ['-q', '-d', '-c'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const archive = await good.store.get(good.manifest.archive.key);
    const identity = 'identities' in good.keys ? good.keys.identities[0] : undefined;
    if (identity) {
      const keyFile = path.join(dir, 'key.txt');
      await writeFile(keyFile, `${identity}\n`, { mode: 0o600 });
      const age = spawn('age', ['-d', '-i', keyFile], { stdio: ['pipe', 'pipe', 'inherit'] });
      const aged = new Promise<number | null>((resolve) => age.on('close', resolve));
      await Promise.all([
        pipeline(archive, age.stdin!),
        pipeline(age.stdout!, zstd.stdin!),
        pipeline(zstd.stdout!, restore.stdin!),
      ]);
      if ((await aged) !== 0) throw new Error('age -d failed');
    } else {
      await Promise.all([
        pipeline(archive, createDecryptStream(good.keys), zstd.stdin!),
        pipeline(zstd.stdout!, restore.stdin!),
      ]);
    }
    if ((await restored) !== 0) throw new Error(`pg_restore failed: ${stderr}`);
    return await tableContents(cluster, database);
  } finally {
    await cluster.query(`DROP DATABASE IF EXISTS "${database}"`);
    await rm(dir, { recursive: true, force: true });
  }
}
