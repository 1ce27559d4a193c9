/**
 * The steps of a restore drill, one after another: read the manifest, fetch the archive
 * while the drill database is created, prepare it for the profile, restore, verify. Each
 * step is timed and recorded by DrillSteps; index.ts runs them and reports.
 */
import { readFile } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import type pg from 'pg';
import { resolveManifest } from '../archive/manifests.js';
import type { DrillSettings } from '../settings/settings.js';
import { errorsOf, merge } from '../postgres/verify/checks.js';
import { checkStorage } from './storage-check.js';
import { readArchiveHead, type ArchiveContents } from '../postgres/archive-toc.js';
import {
  assertEmpty,
  createDrillDatabase,
  drillDatabaseName,
  dropDrillDatabase,
  replaySettings,
  replayedAfterRestore,
} from '../postgres/throwaway-database.js';
import { readExpectedCatalog } from '../archive/fetch.js';
import { storedArchives, totalStoredBytes } from '../archive/manifest.js';
import { openPlainArchive, readHead } from '../archive/plain-stream.js';
import { applyPreparation, readTargetState } from '../postgres/profile-apply.js';
import { watchRestore } from './restore-progress.js';
import type { DrillFacts } from './report.js';
import { STEPS, type DrillSteps } from './steps.js';
import { parseToc } from '../postgres/toc.js';
import { verifyRestore } from '../postgres/verify/restored.js';
import { formatBytes } from '../duration.js';
import { describeError, LifeboatError } from '../errors.js';
import type { Log, Reporter } from '../log.js';
import type { BackupStore } from '../stores/store.js';
import type { CatalogSnapshot } from '../postgres/catalog.js';
import { describeTarget, withDatabase } from '../postgres/connection.js';
import { splitSqlChecks, type SqlCheck } from '../postgres/verify/live-checks.js';
import { detectProfile, planPreparation } from '../postgres/profile.js';
import { findPgRestore, headFeed, listArchive } from '../postgres/pg-restore.js';
import { restoreDrillDatabase } from './restore-rows.js';
import { openClient, type ServerInfo } from '../postgres/session.js';
import { createToolFinder, type PgTool } from '../postgres/tools.js';
import { DEFAULT_MIGRATIONS_TABLE } from '../postgres/inspect.js';
import type { PrivateTempDir } from '../tempfiles.js';
import { decryptKeys } from '../settings/settings.js';

export interface DrillContext {
  log: Log;
  reporter: Reporter;
  store: BackupStore;
  env?: NodeJS.ProcessEnv;
  prompt?: (question: string) => Promise<string>;
}

/** The drill's own working state on top of what the report needs. */
export interface DrillState extends DrillFacts {
  expected?: CatalogSnapshot;
  server?: ServerInfo;
  admin?: pg.Client;
  tool?: PgTool;
  /** performance.now() at the start, for the RTO: immune to clock changes. */
  clock: number;
  /** Set once cleanup started, so a signal and the normal way out share one. */
  cleaning?: Promise<void>;
  /** The CREATE DATABASE in flight, if any. */
  creating?: Promise<void>;
}

/** Runs every step in turn; a step that fails is recorded by `steps` and ends the drill. */
export async function drill(
  settings: DrillSettings,
  ctx: DrillContext,
  steps: DrillSteps,
  s: DrillState,
  temp: PrivateTempDir,
): Promise<void> {
  const { log, store } = ctx;
  const keys = decryptKeys(settings.keys)!;
  let sqlChecks: SqlCheck[] = [];
  const manifest = await steps.run(STEPS.manifest, async (step) => {
    const manifest = await resolveManifest(store, settings.name, settings.backupId);
    s.manifest = manifest;
    s.rpoSeconds = Math.max(0, (s.startedAt.getTime() - Date.parse(manifest.completedAt)) / 1000);
    s.expected = await readExpectedCatalog(manifest, keys);
    if (settings.verifySql) sqlChecks = splitSqlChecks(await readVerifySql(settings.verifySql));
    step.note(
      `backup ${manifest.backupId} (level ${manifest.verification.level}), ${s.expected.tables.length} tables recorded`,
    );
    return manifest;
  });
  const expected = s.expected!;

  const database = drillDatabaseName(manifest.backupId);
  const drillTarget = withDatabase(settings.target, database);
  // Reading the tables of contents needs no database and creating the drill database needs
  // no archive: once connected (the pg_restore found then says best why an archive is too
  // new) they run side by side. A failed create stops the read; a failed read lets the short
  // create finish, and the cleanup drops what it made.
  const stop = new AbortController();
  let heads: ArchiveContents[] = [];
  let connected: Promise<void> = Promise.resolve();
  // Every archive streams from the store for each pg_restore that reads it; nothing of the
  // dump is written to disk. Here only the tables of contents are read, from each stream's head.
  const open = (part: number, first = false, feeding: { into?: Writable; check?: boolean } = {}) =>
    openPlainArchive({
      store,
      manifest,
      part,
      keys,
      log: first ? log : undefined,
      signal: stop.signal,
      ...feeding,
    });
  const creating = (async () => {
    connected = steps.run(STEPS.connect, async (step) => {
      const { client, server } = await openClient(settings.target, 'target-url');
      s.admin = client;
      s.server = server;
      s.serverVersion = server.version;
      s.tool = await findPgRestore(
        createToolFinder({ binDir: settings.pgBinDir }),
        manifest.source.pgDumpVersion,
      );
      s.pgRestore = s.tool.version;
      if (server.major < manifest.source.serverMajor) {
        log.warning(
          `The backup comes from PostgreSQL ${manifest.source.serverVersion} and the target runs ${server.version}; restoring into an older major may fail. Drill into PostgreSQL ${manifest.source.serverMajor} or newer.`,
        );
      }
      step.note(
        `PostgreSQL ${server.version} at ${describeTarget(settings.target)}; pg_restore ${s.tool.version}`,
      );
    });
    await connected;
    await steps.run(STEPS.create, async (step) => {
      // A signal during CREATE DATABASE waits for it, so the cleanup knows whether to drop.
      s.creating = createDrillDatabase(s.admin!, database, settings.target);
      await s.creating;
      s.database = database;
      const { client } = await openClient(drillTarget, 'target-url');
      try {
        await assertEmpty(client, database);
      } finally {
        await client.end().catch(() => undefined);
      }
      step.note(database);
    });
  })();
  const fetching = (async () => {
    await connected;
    await steps.run(
      STEPS.fetch,
      async (step) => {
        heads = await Promise.all(
          storedArchives(manifest).map((_, i) =>
            readHead(() => open(i + 1, false, { check: false }), readArchiveHead),
          ),
        );
        const count = heads.reduce((n, h) => n + h.entries.length, 0);
        step.note(
          `${count} entries${heads.length > 1 ? ` in ${heads.length} archives` : ''}; ${formatBytes(totalStoredBytes(manifest))} stored, streamed to pg_restore`,
        );
      },
      stop.signal,
    );
  })();
  creating.catch(() => stop.abort());
  const [fetched, created] = await Promise.allSettled([fetching, creating]);
  if (created.status === 'rejected') throw created.reason;
  if (fetched.status === 'rejected') throw fetched.reason;

  let db: pg.Client | undefined;
  try {
    await steps.run(STEPS.prepare, async (step) => {
      // Connected only now: a connection left idle through a long fetch may be cut by an idle timeout.
      const client = (await openClient(drillTarget, 'target-url')).client;
      db = client;
      // The table of contents is in memory already (read from the stream's head): pg_restore --list reads no further.
      const listing = await listArchive(s.tool!, headFeed(heads[0]!.head!));
      const toc = parseToc(listing);
      const { profile, reason } = detectProfile(expected, settings.profile);
      s.profileReason = reason;
      log.info(`Profile ${profile}: ${reason}.`);
      const state = await readTargetState(client);
      s.prep = planPreparation(profile, expected, toc, state, { logins: settings.restoreRoleLogins });
      await applyPreparation(client, s.prep, state, log);
      step.note(
        `profile ${profile}; ${toc.length} archive entries, ${s.prep.steps.length} preparations, ${s.prep.skipped.length} skipped`,
      );
    });
    await steps.run(STEPS.settings, async (step) => {
      const n = await replaySettings(db!, database, expected.databaseSettings, 'before', log);
      const later = expected.databaseSettings.filter(replayedAfterRestore).length;
      step.note(
        `${n} of ${expected.databaseSettings.length - later} settings${later ? `; ${later} read-only ${later === 1 ? 'setting' : 'settings'} once the rows are in` : ''}`,
      );
    });
    await steps.run(STEPS.restore, async (step) => {
      const skip = new Set(s.prep!.skipped.map((e) => e.id));
      // Bytes on disk where the backup recorded them, else rows: what loading a table takes.
      const sizes = new Map(expected.tables.map((t) => [`${t.schema}.${t.name}`, t.bytes ?? t.rows ?? 0]));
      const watch = watchRestore(s.admin!, database, log);
      let bytes = 0;
      try {
        await restoreDrillDatabase({
          tool: s.tool!,
          target: drillTarget,
          jobs: s.jobs,
          heads,
          skip,
          sizeOf: (schema, table) => sizes.get(`${schema}.${table}`) ?? 0,
          lockSlots: s.server!.lockSlots,
          profile: s.prep!.profile,
          open,
          temp,
          log,
        });
      } finally {
        bytes = await watch.stop();
      }
      await replaySettings(db!, database, expected.databaseSettings, 'after', log);
      step.note(
        `${s.jobs} parallel jobs${heads.length > 1 ? `, ${heads.length} archives` : ''}, every archive streamed and its SHA-256 checked; the database holds ${formatBytes(bytes)}`,
      );
    });
  } finally {
    await db?.end().catch(() => undefined);
  }

  const verified = await steps.run(STEPS.verify, async (step) => {
    const { result } = await verifyRestore({
      target: drillTarget,
      expected,
      migrationsTable: manifest.migration?.table ?? DEFAULT_MIGRATIONS_TABLE,
      sqlChecks,
      jobs: s.jobs,
      log,
      skippedExtensions: s.prep!.skippedExtensions,
      prepared: { schemas: s.prep!.schemas, functions: s.prep!.functions },
    });
    const failed = errorsOf(result.checks).length;
    step.note(`${failed} failed, ${result.checks.length - failed} warnings`);
    return result;
  });
  s.result = verified;
  if (manifest.storage)
    await steps.run(STEPS.storage, async (step) => {
      const { result, note } = await checkStorage({
        store,
        manifest,
        expected,
        keys,
        target: drillTarget,
        log,
      });
      merge(s.result, result);
      step.note(note);
    });
  s.rtoSeconds = (performance.now() - s.clock) / 1000;
}

/** Drops the drill database (unless kept) and disconnects, once, whichever way the drill ends. */
export function cleanUp(settings: DrillSettings, s: DrillState, log: Log): Promise<void> {
  s.cleaning ??= dropAndDisconnect(settings, s, log);
  return s.cleaning;
}

async function dropAndDisconnect(settings: DrillSettings, s: DrillState, log: Log): Promise<void> {
  await s.creating?.catch(() => undefined);
  if (s.admin && s.database) {
    if (settings.keepDatabase) {
      log.info(
        `Kept the drill database (keep-database): ${describeTarget(withDatabase(settings.target, s.database))}.`,
      );
    } else {
      await dropDrillDatabase(s.admin, s.database, s.server?.major ?? 13).then(
        () => log.info(`Dropped the drill database ${s.database}.`),
        (error: unknown) =>
          log.warning(`Could not drop the drill database ${s.database}: ${describeError(error)}`),
      );
    }
  }
  await s.admin?.end().catch(() => undefined);
}

async function readVerifySql(file: string): Promise<string> {
  return readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new LifeboatError(
      'input',
      `Input \`verify-sql\` names ${file}, which cannot be read (${error.code ?? error.message}).`,
      {
        hint: 'Give a path relative to the repository root, for example `supabase/drill-checks.sql`, and check out the repository first.',
      },
    );
  });
}
