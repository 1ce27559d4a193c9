import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { newBackupId } from '../archive/backup-id.js';
import { encryptBytes } from '../archive/age/index.js';
import { formatVersionFor, serializeManifest, totalStoredBytes, type Manifest } from '../archive/manifest.js';
import { readBack } from './read-back.js';
import { writeArchive, type WrittenArchive } from './write.js';
import { decryptKeys, encryptKeys, type BackupSettings } from '../settings/settings.js';
import { Outputs } from '../settings/constants.js';
import { onInterrupt } from '../interrupt.js';
import { pool } from '../pool.js';
import { watchLocksFrom } from '../postgres/lock-watch.js';
import type { Log, Reporter } from '../log.js';
import type { CatalogSnapshot } from '../postgres/catalog.js';
import { describeTarget } from '../postgres/connection.js';
import { explainDumpFailure, openSnapshotSession, startPgDump } from '../postgres/pg-dump.js';
import { inspectDatabase } from '../postgres/inspect.js';
import { readServerIdentity } from '../postgres/server-identity.js';
import { checkCanReadEverything, openClient } from '../postgres/session.js';
import { createToolFinder } from '../postgres/tools.js';
import { renderBackupSummary } from './backup-summary.js';
import { applyRetention } from './retention-apply.js';
import { LocalStore } from '../stores/local.js';
import type { BackupStore } from '../stores/store.js';
import { manifestKey } from '../archive/store-keys.js';
import { markParts, planParts } from './parts.js';
import { LIFEBOAT_VERSION } from '../version.js';

export interface BackupResult {
  manifest: Manifest;
  catalog: CatalogSnapshot;
}

/** Retention on its own, as `lifeboat prune` runs it. */
export { applyRetention } from './retention-apply.js';

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
  try {
    const tools = createToolFinder({ binDir: settings.pgBinDir });
    const pgDump = await tools.forServer('pg_dump', server.major, server.version);
    log.info(`Server PostgreSQL ${server.version}; using ${pgDump.path} (${pgDump.version}).`);
    await checkCanReadEverything(client, settings.database);
    const identity = await readServerIdentity(client);

    const session = await openSnapshotSession(client, log);
    // Sizing the tables reads every one inside the snapshot: behind a DDL lock it gives up like pg_dump.
    const parts = await planParts(settings, session, backupId, log).catch((error: unknown) => {
      throw explainDumpFailure(error);
    });
    const inspect = () =>
      inspectDatabase(client, {
        sizes: true,
        migrationsTable: settings.migrationsTable,
        fingerprints: settings.fingerprints,
      });
    // Without a shared snapshot the catalog is read first, so it never describes rows the dump lacks.
    const early = session.snapshotId ? undefined : await inspect();
    // A name of its own for the pg_dump sessions, so the lock watch finds them and no other.
    const dumpName = `lifeboat backup ${randomBytes(4).toString('hex')}`;
    const dumpTarget = {
      ...settings.database,
      params: { ...settings.database.params, application_name: dumpName },
    };
    const dumps = parts.map((part) =>
      startPgDump(pgDump, dumpTarget, session.snapshotId, (text) => log.mask(text), part),
    );
    const lockWatch = watchLocksFrom(settings.database, dumpName, { log, who: 'The backup' });
    const killAll = () => dumps.forEach((d) => d.kill());
    // Until its manifest is written the archive counts for nothing: any way out before that,
    // a signal included, removes it rather than leave an orphan no retention ever sees.
    let committed = false;
    const discard = () =>
      committed
        ? Promise.resolve()
        : Promise.all(parts.map((p) => store.delete(p.key).catch(() => undefined))).then(() => undefined);
    const release = onInterrupt(discard);
    let writes: Promise<WrittenArchive>[] = [];
    try {
      writes = parts.map((part, i) =>
        writeArchive({
          dump: dumps[i]!,
          store,
          key: part.key,
          keys: encryptKeys(settings.keys),
          log,
          label: part.label,
        }).catch((error: unknown) => {
          // One failed part fails the backup: the others stop rather than finish for nothing.
          killAll();
          throw error;
        }),
      );
      // With a shared snapshot the catalog is read while pg_dump streams.
      const [snapshot, ...written] = await Promise.all([
        (early ? Promise.resolve(early) : inspect()).catch((error: unknown) => {
          killAll();
          throw error;
        }),
        ...writes,
      ]).finally(() => lockWatch.stop());
      catalog = markParts(snapshot, parts);
      dumpSeconds = (Date.now() - started) / 1000;
      for (const [i, w] of written.entries())
        log.info(`Stored ${parts[i]!.key} (${w.sizeBytes} bytes, SHA-256 ${w.sha256}).`);

      const verifyStarted = Date.now();
      const pgRestore = await tools
        .forServer('pg_restore', pgDump.major, pgDump.version)
        .catch(() => undefined);
      const decrypt = decryptKeys(settings.keys);
      if (!decrypt)
        log.info('No identity or passphrase given: verifying the stored bytes only (level `stored`).');
      // Every part at once; a failure is told once none is still reading.
      const checks = await pool(
        parts.length,
        parts.map(
          (part, i) => () =>
            readBack({
              store,
              key: part.key,
              ...written[i]!,
              keys: decrypt,
              pgRestore,
              log,
              label: part.label,
            }),
        ),
      );
      const level = checks.every((c) => c.level === 'readable') ? 'readable' : 'stored';
      const stored = parts.map((part, i) => ({
        key: part.key,
        sizeBytes: written[i]!.sizeBytes,
        dumpBytes: checks[i]!.dumpBytes,
        sha256: written[i]!.sha256,
        tocEntries: checks[i]!.tocEntries,
      }));
      const verifySeconds = (Date.now() - verifyStarted) / 1000;
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
      manifest = {
        format: 'lifeboat-manifest',
        formatVersion: formatVersionFor(archive, catalog),
        backupId,
        name: settings.name,
        createdAt: new Date(started).toISOString(),
        completedAt: now.toISOString(),
        lifeboatVersion: LIFEBOAT_VERSION,
        source: {
          serverVersion: server.version,
          serverMajor: server.major,
          pgDumpVersion: pgDump.version,
          systemIdentifier: identity.systemIdentifier,
          database: identity.database,
        },
        archive,
        verification: {
          level,
          checkedAt: now.toISOString(),
          history: [{ level, at: now.toISOString(), by: 'backup' }],
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
      log.info(`Backup ${backupId} verified at level "${level}".`);
      await ctx.reporter.summary(
        renderBackupSummary({ manifest, database: where, store: store.location, dumpSeconds, verifySeconds }),
      );
    } catch (error) {
      killAll();
      // Every part's own cleanup finishes before the parts are removed and the error is told.
      await Promise.allSettled(writes);
      await discard();
      throw explainDumpFailure(error);
    } finally {
      lockWatch.stop();
      release();
      await session.close();
    }
  } finally {
    await client.end().catch(() => undefined);
  }

  ctx.reporter.output(Outputs.BackupId, manifest.backupId);
  ctx.reporter.output(Outputs.Sha256, manifest.archive.sha256);
  ctx.reporter.output(Outputs.SizeBytes, String(totalStoredBytes(manifest)));
  ctx.reporter.output(Outputs.Verified, manifest.verification.level);
  if (settings.keep) await applyRetention(store, settings.name, settings.keep, manifest.backupId, log);
  return { manifest, catalog };
}

function bufferStream(data: Buffer) {
  return Readable.from([data]);
}
