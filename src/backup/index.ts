import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { newBackupId } from '../archive/backup-id.js';
import { serializeManifest, totalStoredBytes, type Manifest } from '../archive/manifest.js';
import { readBack } from './read-back.js';
import { buildManifest, requireObjectLock } from './manifest-build.js';
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
import { holdsNoObjects } from '../postgres/catalog.js';
import { readServerIdentity } from '../postgres/server-identity.js';
import { checkCanReadEverything, openClient } from '../postgres/session.js';
import { createToolFinder } from '../postgres/tools.js';
import { renderBackupSummary } from './backup-summary.js';
import { applyRetention } from './retention-apply.js';
import { LocalStore } from '../stores/local.js';
import type { BackupStore } from '../stores/store.js';
import { manifestKey, pinKey } from '../archive/store-keys.js';
import { writePin } from '../archive/pins.js';
import { hasRules } from './retention.js';
import { renderRetentionSummary } from './retention-summary.js';
import { markParts, planParts } from './parts.js';
import { readStorageRows, type StorageRow } from '../postgres/storage-rows.js';
import { StorageBackup } from './storage-backup.js';

export interface BackupResult {
  manifest: Manifest;
  catalog: CatalogSnapshot;
}

/** Retention on its own, as `lifeboat prune` runs it (and a copy, on its destination). */
export { applyRetention, type RetentionOutcome } from './retention-apply.js';
export { renderRetentionSummary } from './retention-summary.js';
export { hasRules, planRetention, type RetentionRules } from './retention.js';
/** The read-back a rekey runs on each archive it re-encrypts, as a backup does. */
export { readBack } from './read-back.js';

export interface BackupContext {
  log: Log;
  reporter: Reporter;
  store: BackupStore;
  /** Overrides the backup id (safety backups name themselves). */
  now?: Date;
  /** Where the Storage credentials are read; the process's own when absent. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Takes one backup set: dump, compress, encrypt and store the archive, read it back and
 * verify it, and only then write the manifest that makes it count.
 */
export async function runBackup(settings: BackupSettings, ctx: BackupContext): Promise<BackupResult> {
  const { log, store } = ctx;
  const started = Date.now();
  if (store instanceof LocalStore) await store.checkWritable();
  // Before any dump: a bucket that cannot lock must not receive backups believed locked.
  if (settings.objectLock) await requireObjectLock(store, settings.objectLock);
  const where = describeTarget(settings.database);
  log.info(`Backing up ${where} into ${store.location} as set "${settings.name}".`);

  const { client, server } = await openClient(settings.database, 'database-url');
  let manifest: Manifest;
  let catalog: CatalogSnapshot;
  let dumpSeconds: number;
  const backupId = newBackupId(ctx.now);
  let storage: StorageBackup | undefined;
  try {
    const tools = createToolFinder({ binDir: settings.pgBinDir });
    const pgDump = await tools.forServer('pg_dump', server.major, server.version);
    log.info(`Server PostgreSQL ${server.version}; using ${pgDump.path} (${pgDump.version}).`);
    await checkCanReadEverything(client, settings.database);
    const identity = await readServerIdentity(client);
    // Storage credentials and buckets are proved before anything is written.
    if (settings.storage)
      storage = await StorageBackup.open(settings.storage, {
        env: ctx.env ?? process.env,
        log,
        name: settings.name,
        backupId,
      });

    const session = await openSnapshotSession(client, log);
    // Inside the transaction that exported pg_dump's snapshot: exactly the rows the dump holds.
    const storageRows: StorageRow[] | null = storage ? await readStorageRows(session.client) : null;
    // Sizing the tables reads every one inside the snapshot: behind a DDL lock it gives up like pg_dump.
    const parts = await planParts(settings, session, backupId, log).catch((error: unknown) => {
      throw explainDumpFailure(error);
    });
    const inspect = () =>
      inspectDatabase(client, {
        sizes: true,
        migrationsTable: settings.migrationsTable,
        fingerprints: settings.fingerprints,
        // Read beside pg_dump, whose locks guard the tables; without a shared snapshot the
        // catalog is read before pg_dump starts, and its locks are all that guard them.
        releaseLocks: Boolean(session.snapshotId),
      });
    // Without a shared snapshot the catalog is read first, so it never describes rows the dump lacks.
    const early = session.snapshotId
      ? undefined
      : await inspect().catch((error: unknown) => {
          throw explainDumpFailure(error);
        });
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
    const stopStorage = new AbortController();
    const killAll = () => {
      dumps.forEach((d) => d.kill());
      stopStorage.abort();
    };
    // Until its manifest is written the archive counts for nothing: any way out before that,
    // a signal included, removes it rather than leave an orphan no retention ever sees.
    let committed = false;
    const discard = () =>
      committed
        ? Promise.resolve()
        : Promise.all(
            [
              ...parts.map((p) => p.key),
              ...(storage ? [storage.key] : []),
              ...(settings.pin ? [pinKey(settings.name, backupId)] : []),
            ].map((key) => store.delete(key).catch(() => undefined)),
          ).then(() => undefined);
    const release = onInterrupt(discard);
    let writes: Promise<WrittenArchive>[] = [];
    let storageWrite: Promise<void> = Promise.resolve();
    try {
      storageWrite = (
        storage?.write({ store, keys: encryptKeys(settings.keys), log, signal: stopStorage.signal }) ??
        storageWrite
      ).catch((error: unknown) => {
        killAll();
        throw error;
      });
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
      const [snapshot, , ...written] = await Promise.all([
        (early ? Promise.resolve(early) : inspect()).catch((error: unknown) => {
          killAll();
          throw error;
        }),
        storageWrite,
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
              // A database with nothing in it dumps to an empty table of contents, and only then is one right.
              emptyAllowed: i === 0 && holdsNoObjects(catalog),
            }),
        ),
      );
      if (checks[0]?.tocEntries === 0)
        log.warning(
          `${where} holds no objects (no schema but public, no table, view, function or sequence): this backup is empty.`,
        );
      const storageLevel = await storage?.readBack({ store, keys: decrypt, log });
      const level =
        checks.every((c) => c.level === 'readable') && storageLevel !== 'stored' ? 'readable' : 'stored';
      if (storage) catalog = { ...catalog, storage: storage.catalog(storageRows, log) };
      const verifySeconds = (Date.now() - verifyStarted) / 1000;
      manifest = await buildManifest({
        settings,
        backupId,
        started,
        server,
        pgDumpVersion: pgDump.version,
        identity,
        parts,
        written,
        checks,
        level,
        catalog,
        storage: storage?.manifestPart(),
      });
      // The pin before the manifest: a backup asked to be pinned never counts unpinned.
      if (settings.pin) await writePin(store, settings.name, backupId, 'pinned when taken (input pin: true)');
      await store.put(manifestKey(settings.name, backupId), bufferStream(serializeManifest(manifest)));
      committed = true;
      log.info(`Backup ${backupId} verified at level "${level}".`);
      await ctx.reporter.summary(
        [
          renderBackupSummary({
            manifest,
            database: where,
            store: store.location,
            dumpSeconds,
            verifySeconds,
          }),
          ...(storage?.summaryLines() ?? []),
        ].join('\n'),
      );
    } catch (error) {
      killAll();
      // Every part's own cleanup finishes before the parts are removed and the error is told.
      await Promise.allSettled([...writes, storageWrite]);
      await discard();
      throw explainDumpFailure(error);
    } finally {
      lockWatch.stop();
      release();
      await session.close();
    }
  } finally {
    storage?.close();
    await client.end().catch(() => undefined);
  }

  ctx.reporter.output(Outputs.BackupId, manifest.backupId);
  ctx.reporter.output(Outputs.Sha256, manifest.archive.sha256);
  ctx.reporter.output(Outputs.SizeBytes, String(totalStoredBytes(manifest)));
  ctx.reporter.output(Outputs.Verified, manifest.verification.level);
  if (settings.pin) log.info(`Pinned ${manifest.backupId}: no retention rule deletes it.`);
  if (hasRules(settings.retention)) {
    const rules = { rules: settings.retention, orphanGraceSeconds: settings.orphanGraceSeconds };
    const outcome = await applyRetention(
      store,
      settings.name,
      { ...rules, justTaken: manifest.backupId },
      log,
    );
    await ctx.reporter.summary(renderRetentionSummary(outcome, true));
  }
  return { manifest, catalog };
}

function bufferStream(data: Buffer) {
  return Readable.from([data]);
}
