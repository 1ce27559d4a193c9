import { encryptBytes } from '../archive/age/index.js';
import { formatVersionFor, type Manifest } from '../archive/manifest.js';
import { LifeboatError } from '../errors.js';
import type { CatalogSnapshot } from '../postgres/catalog.js';
import type { ServerIdentity } from '../postgres/server-identity.js';
import { encryptKeys, type BackupSettings } from '../settings/settings.js';
import { isLockAware, type BackupStore, type ObjectLock } from '../stores/store.js';
import { LIFEBOAT_VERSION } from '../version.js';
import type { PartPlan } from './parts.js';

/**
 * The manifest of a backup whose archives are stored and read back: what it records in the
 * plain (sizes, hashes, level, migration, public keys) and the catalog encrypted to the
 * backup's own recipients. Nothing is written here; the caller stores it last.
 */
export async function buildManifest(o: {
  settings: BackupSettings;
  backupId: string;
  started: number;
  server: { version: string; major: number };
  pgDumpVersion: string;
  identity: ServerIdentity;
  parts: PartPlan[];
  written: { sizeBytes: number; sha256: string }[];
  checks: { dumpBytes: number | null; tocEntries: number | null }[];
  level: 'stored' | 'readable';
  catalog: CatalogSnapshot;
  storage?: Manifest['storage'];
}): Promise<Manifest> {
  const { settings, parts, written, checks, catalog, level } = o;
  const stored = parts.map((part, i) => ({
    key: part.key,
    sizeBytes: written[i]!.sizeBytes,
    dumpBytes: checks[i]!.dumpBytes,
    sha256: written[i]!.sha256,
    tocEntries: checks[i]!.tocEntries,
  }));
  const now = new Date();
  const archive: Manifest['archive'] = {
    ...stored[0]!,
    format: 'pg_dump-custom',
    compression: 'zstd',
    encryption: settings.keys.passphrase ? 'age-scrypt' : 'age-x25519',
    ...(parts.length > 1
      ? { parts: stored.slice(1).map((a, i) => ({ ...a, tables: parts[i + 1]!.tables.length })) }
      : {}),
  };
  return {
    format: 'lifeboat-manifest',
    formatVersion: formatVersionFor(archive, catalog, o.storage),
    backupId: o.backupId,
    name: settings.name,
    createdAt: new Date(o.started).toISOString(),
    completedAt: now.toISOString(),
    lifeboatVersion: LIFEBOAT_VERSION,
    source: {
      serverVersion: o.server.version,
      serverMajor: o.server.major,
      pgDumpVersion: o.pgDumpVersion,
      systemIdentifier: o.identity.systemIdentifier,
      database: o.identity.database,
    },
    archive,
    ...(o.storage ? { storage: o.storage } : {}),
    verification: {
      level,
      checkedAt: now.toISOString(),
      history: [{ level, at: now.toISOString(), by: 'backup' }],
    },
    migration: catalog.migration
      ? { table: catalog.migration.table, latestVersion: catalog.migration.latestVersion }
      : null,
    durationSeconds: (Date.now() - o.started) / 1000,
    catalog: (await encryptBytes(Buffer.from(JSON.stringify(catalog)), encryptKeys(settings.keys))).toString(
      'base64',
    ),
    // Public keys, so `list` can say which identity reads this backup.
    ...(settings.keys.passphrase ? {} : { recipients: settings.keys.recipients }),
  };
}

/** Object Lock asked for: the store must be able to lock, and the bucket must have it enabled. */
export async function requireObjectLock(store: BackupStore, lock: ObjectLock): Promise<void> {
  if (!isLockAware(store)) {
    throw new LifeboatError(
      'input',
      `Object Lock was asked for, but ${store.location} cannot lock objects.`,
      {
        hint: 'Use an S3 bucket with Object Lock enabled, or remove object-lock-days.',
      },
    );
  }
  await store.useObjectLock(lock);
}
