import { Readable } from 'node:stream';
import { newBackupId } from '../backup-id.js';
import { encryptBytes } from '../archive/age/index.js';
import { serializeManifest, type Manifest } from '../archive/manifest.js';
import { readBack, type DecryptKeys } from '../archive/readback.js';
import { writeArchive, type EncryptKeys } from '../archive/write.js';
import type { BackupSettings, Keys } from '../config.js';
import { Outputs } from '../constants.js';
import { LifeboatError } from '../errors.js';
import { onInterrupt } from '../interrupt.js';
import type { Log, Reporter } from '../log.js';
import type { CatalogSnapshot } from '../postgres/catalog.js';
import { describeTarget } from '../postgres/connection.js';
import { explainDumpFailure, openSnapshotSession, startPgDump } from '../postgres/dump.js';
import { inspectDatabase } from '../postgres/inspect.js';
import { checkCanReadEverything, openClient } from '../postgres/session.js';
import { createToolFinder } from '../postgres/tools.js';
import { renderBackupSummary } from '../report/backup-summary.js';
import { applyRetention } from '../retention-apply.js';
import { LocalStore } from '../stores/local.js';
import { archiveKey, manifestKey, type BackupStore } from '../stores/store.js';
import { LIFEBOAT_VERSION } from '../version.js';

export interface BackupResult {
  manifest: Manifest;
  catalog: CatalogSnapshot;
}

export interface BackupContext {
  log: Log;
  reporter: Reporter;
  store: BackupStore;
  /** Overrides the backup id (safety backups name themselves). */
  now?: Date;
}

/**
 * Takes one backup set: dump, compress, encrypt and store the archive, read it back and
 * verify it, and only then write the manifest that makes it count.
 */
export async function runBackup(settings: BackupSettings, ctx: BackupContext): Promise<BackupResult> {
  const { log, store } = ctx;
  const started = Date.now();
  if (store instanceof LocalStore) await store.checkWritable();
  const where = describeTarget(settings.database);
  log.info(`Backing up ${where} into ${store.location} as set "${settings.name}".`);

  const { client, server } = await openClient(settings.database, 'database-url');
  let manifest: Manifest;
  let catalog: CatalogSnapshot;
  let dumpSeconds: number;
  const backupId = newBackupId(ctx.now);
  const key = archiveKey(settings.name, backupId);
  try {
    const tools = createToolFinder({ binDir: settings.pgBinDir });
    const pgDump = await tools.forServer('pg_dump', server.major, server.version);
    log.info(`Server PostgreSQL ${server.version}; using ${pgDump.path} (${pgDump.version}).`);
    await checkCanReadEverything(client, settings.database);

    const session = await openSnapshotSession(client, log);
    const inspect = () =>
      inspectDatabase(client, {
        migrationsTable: settings.migrationsTable,
        fingerprints: settings.fingerprints,
      });
    // Without a shared snapshot the catalog is read first, so it never describes rows the dump lacks.
    const early = session.snapshotId ? undefined : await inspect();
    const dump = startPgDump(pgDump, settings.database, session.snapshotId, (text) => log.mask(text));
    // Until its manifest is written the archive counts for nothing: any way out before that,
    // a signal included, removes it rather than leave an orphan no retention ever sees.
    let committed = false;
    const discard = () => (committed ? Promise.resolve() : store.delete(key).catch(() => undefined));
    const release = onInterrupt(discard);
    try {
      // With a shared snapshot the catalog is read while pg_dump streams.
      const [snapshot, written] = await Promise.all([
        (early ? Promise.resolve(early) : inspect()).catch((error: unknown) => {
          dump.kill();
          throw error;
        }),
        writeArchive({ dump, store, key, keys: encryptKeys(settings.keys), log }),
      ]);
      catalog = snapshot;
      dumpSeconds = (Date.now() - started) / 1000;
      log.info(`Stored ${key} (${written.sizeBytes} bytes, SHA-256 ${written.sha256}).`);

      const verifyStarted = Date.now();
      const pgRestore = await tools
        .forServer('pg_restore', pgDump.major, pgDump.version)
        .catch(() => undefined);
      const decrypt = decryptKeys(settings.keys);
      if (!decrypt)
        log.info('No identity or passphrase given: verifying the stored bytes only (level `stored`).');
      const check = await readBack({ store, key, ...written, keys: decrypt, pgRestore, log });
      const verifySeconds = (Date.now() - verifyStarted) / 1000;
      const now = new Date();
      manifest = {
        format: 'lifeboat-manifest',
        formatVersion: 1,
        backupId,
        name: settings.name,
        createdAt: new Date(started).toISOString(),
        completedAt: now.toISOString(),
        lifeboatVersion: LIFEBOAT_VERSION,
        source: { serverVersion: server.version, serverMajor: server.major, pgDumpVersion: pgDump.version },
        archive: {
          key,
          format: 'pg_dump-custom',
          compression: 'zstd',
          encryption: settings.keys.passphrase ? 'age-scrypt' : 'age-x25519',
          sizeBytes: written.sizeBytes,
          dumpBytes: check.dumpBytes,
          sha256: written.sha256,
          tocEntries: check.tocEntries,
        },
        verification: {
          level: check.level,
          checkedAt: now.toISOString(),
          history: [{ level: check.level, at: now.toISOString(), by: 'backup' }],
        },
        migration: catalog.migration
          ? { table: catalog.migration.table, latestVersion: catalog.migration.latestVersion }
          : null,
        durationSeconds: (Date.now() - started) / 1000,
        catalog: (
          await encryptBytes(Buffer.from(JSON.stringify(catalog)), encryptKeys(settings.keys))
        ).toString('base64'),
      };
      await store.put(manifestKey(settings.name, backupId), bufferStream(serializeManifest(manifest)));
      committed = true;
      log.info(`Backup ${backupId} verified at level "${check.level}".`);
      await ctx.reporter.summary(
        renderBackupSummary({ manifest, database: where, store: store.location, dumpSeconds, verifySeconds }),
      );
    } catch (error) {
      dump.kill();
      await discard();
      throw explainDumpFailure(error);
    } finally {
      release();
      await session.close();
    }
  } finally {
    await client.end().catch(() => undefined);
  }

  ctx.reporter.output(Outputs.BackupId, manifest.backupId);
  ctx.reporter.output(Outputs.Sha256, manifest.archive.sha256);
  ctx.reporter.output(Outputs.SizeBytes, String(manifest.archive.sizeBytes));
  ctx.reporter.output(Outputs.Verified, manifest.verification.level);
  if (settings.keep) await applyRetention(store, settings.name, settings.keep, manifest.backupId, log);
  return { manifest, catalog };
}

export function encryptKeys(keys: Keys): EncryptKeys {
  if (keys.passphrase) return { passphrase: keys.passphrase };
  if (keys.recipients.length) return { recipients: keys.recipients };
  throw new LifeboatError('input', 'No encryption key: pass encryption-recipient or encryption-passphrase.');
}

export function decryptKeys(keys: Keys): DecryptKeys | undefined {
  if (keys.passphrase) return { passphrase: keys.passphrase };
  if (keys.identities.length) return { identities: keys.identities };
  return undefined;
}

export function bufferStream(data: Buffer) {
  return Readable.from([data]);
}
