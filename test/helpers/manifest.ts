/**
 * A valid manifest for tests of logic that only reads manifests (the gate, reports),
 * with the fields a test cares about overridden. Built through the real schema, so a
 * manifest that would not parse cannot slip into a test.
 */
import { Readable } from 'node:stream';
import { newBackupId } from '../../src/archive/backup-id.js';
import { ManifestSchema, serializeManifest, type Manifest } from '../../src/archive/manifest.js';
import type { BackupStore } from '../../src/stores/store.js';
import type { VerificationLevel } from '../../src/settings/constants.js';
import type { ArchiveState } from '../../src/gate/evaluate.js';
import { archiveKey, manifestKey } from '../../src/archive/store-keys.js';

export interface ManifestSeed {
  name?: string;
  backupId?: string;
  createdAt?: string;
  level?: VerificationLevel;
  /** null: the migrations table did not exist when the backup was taken. */
  migration?: { table?: string; latestVersion: string | null } | null;
}

export const MIGRATIONS_TABLE = 'supabase_migrations.schema_migrations';

export function makeManifest(seed: ManifestSeed = {}): Manifest {
  const name = seed.name ?? 'production';
  const backupId = seed.backupId ?? '20260301_120000_000_0a1b2c3d';
  const createdAt = seed.createdAt ?? '2026-03-01T12:00:00.000Z';
  const level = seed.level ?? 'readable';
  const migration =
    seed.migration === null
      ? null
      : {
          table: seed.migration?.table ?? MIGRATIONS_TABLE,
          latestVersion: seed.migration === undefined ? '20240320120000' : seed.migration.latestVersion,
        };
  return ManifestSchema.parse({
    format: 'lifeboat-manifest',
    formatVersion: 1,
    backupId,
    name,
    createdAt,
    completedAt: createdAt,
    lifeboatVersion: '0.1.0',
    source: { serverVersion: '15.8', serverMajor: 15, pgDumpVersion: '15.8' },
    archive: {
      key: archiveKey(name, backupId),
      format: 'pg_dump-custom',
      compression: 'zstd',
      encryption: 'age-x25519',
      sizeBytes: 1024,
      dumpBytes: 4096,
      sha256: 'a'.repeat(64),
      tocEntries: 42,
    },
    verification: { level, checkedAt: createdAt, history: [{ level, at: createdAt, by: 'backup' }] },
    migration,
    durationSeconds: 3,
    catalog: 'ZW5jcnlwdGVk',
  });
}

/** What the gate's stat of every archive finds when all are stored as recorded. */
export function archivesPresent(manifest: Manifest): ArchiveState {
  const count = 1 + (manifest.archive.parts?.length ?? 0);
  return { state: 'present', key: archiveKey(manifest.name, manifest.backupId), count };
}

/**
 * Backups without a pg_dump: for each time, a manifest (level `readable` unless `level` says
 * otherwise) and a small archive under the keys derived for it. For retention tests that
 * need a year of nightly backups in seconds.
 */
export async function seedBackups(
  store: BackupStore,
  name: string,
  times: Date[],
  level: VerificationLevel = 'readable',
): Promise<string[]> {
  const ids: string[] = [];
  for (const time of times) {
    const backupId = newBackupId(time);
    const manifest = makeManifest({ name, backupId, createdAt: time.toISOString(), level });
    await store.put(archiveKey(name, backupId), Readable.from([`archive of ${backupId}`]));
    await store.put(manifestKey(name, backupId), Readable.from([serializeManifest(manifest)]));
    ids.push(backupId);
  }
  return ids;
}
