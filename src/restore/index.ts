import type pg from 'pg';
import { resolveManifest } from '../archive/manifests.js';
import type { Manifest } from '../archive/manifest.js';
import type { RestoreSettings } from '../settings/settings.js';
import { Outputs } from '../settings/constants.js';
import { readExpectedCatalog } from '../archive/fetch.js';
import { describeError } from '../errors.js';
import type { Log, Reporter } from '../log.js';
import { tableRef, type CatalogSnapshot } from '../postgres/catalog.js';
import { DEFAULT_MIGRATIONS_TABLE, inspectDatabase } from '../postgres/inspect.js';
import { WRITABLE_SESSION } from '../postgres/client.js';
import { openClient } from '../postgres/session.js';
import { renderRestoreSummary, type RestoreReport } from './restore-summary.js';
import { askConfirmation, confirmFromInput } from './confirm.js';
import { diffText } from './copy-back.js';
import { restoreFull, type FullProgress } from './full.js';
import { buildRestorePlan, chooseTables, key, type RestorePlan } from './plan.js';
import { renderPlanText } from './plan-text.js';
import { storeText } from './rollback.js';
import { restoreSelective, type SelectiveResult } from './selective.js';
import type { BackupStore } from '../stores/store.js';
import { decryptKeys } from '../settings/settings.js';
import { restoreStorage } from './storage-restore.js';

// What a refresh (src/refresh) shares with a full restore: the confirmation, the drops
// and the restore in one transaction, with its own SQL run before COMMIT.
export { askConfirmation, checkConfirmation, confirmationFor, confirmFromInput } from './confirm.js';
export { planDrops } from './extras.js';
export { openForReplace, planReplace, replaceContents, type ReplacePlan } from './replace.js';

export interface RestoreContext {
  log: Log;
  reporter: Reporter;
  store: BackupStore;
  env?: NodeJS.ProcessEnv;
  prompt?: (question: string) => Promise<string>;
}

/**
 * Restores a backup into the target, in full or a few tables into a side schema. Refuses
 * before touching anything unless `confirm` names the target uniquely; prints the plan
 * first; a dry run stops there. Throws when the restore failed, after reporting.
 */
export async function runRestore(settings: RestoreSettings, ctx: RestoreContext): Promise<void> {
  // Storage objects only, the database untouched: see storage-restore.ts.
  if (settings.restoreStorage) return restoreStorage(settings, ctx);
  const { log, reporter, store } = ctx;
  const env = ctx.env ?? process.env;
  let plan: RestorePlan | undefined;
  const progress: FullProgress = { checks: [] };
  let selective: SelectiveResult | undefined;
  try {
    let confirmed = confirmFromInput(settings, Boolean(ctx.prompt));
    const manifest = await resolveManifest(store, settings.name, settings.backupId);
    reporter.output(Outputs.BackupId, manifest.backupId);
    const keys = decryptKeys(settings.keys)!;
    const expected = await readExpectedCatalog(manifest, keys);
    const { client } = await openClient(settings.target, 'target-url');
    // The restore was confirmed: a target read-only by default (writes stopped for the incident) still takes it.
    await client.query(WRITABLE_SESSION);
    try {
      const live = await inspectTarget(client, settings, expected, manifest);
      plan = buildRestorePlan({
        manifest,
        expected,
        live,
        target: settings.target,
        settings: { ...settings, confirm: confirmed ?? '' },
        storeLocation: store.location,
        now: new Date(),
      });
      for (const line of renderPlanText(plan)) log.info(line);
      reporter.output(Outputs.ConfirmWith, plan.confirm.needed);
      if (settings.dryRun) {
        reporter.output(Outputs.Status, 'passed');
        await reporter.summary(renderRestoreSummary(report(plan, 'dry-run')));
        log.info(`Dry run: nothing was changed. The real run needs confirm: ${plan.confirm.needed}.`);
        return;
      }
      if (confirmed === undefined) {
        confirmed = await askConfirmation(settings, ctx.prompt!);
        plan.confirm = { ...plan.confirm, given: confirmed, matches: true };
      }
      const input = { settings, manifest, plan, keys, client, store, log, env };
      if (plan.kind === 'full') {
        await restoreFull({ ...input, expected, live }, progress);
      } else {
        selective = await restoreSelective({ ...input, expected });
        logSelective(log, selective);
      }
    } finally {
      await client.end().catch(() => undefined);
    }
    if (progress.safetyBackupId) reporter.output(Outputs.SafetyBackupId, progress.safetyBackupId);
    reporter.output(Outputs.Status, 'passed');
    await reporter.summary(renderRestoreSummary(report(plan, 'passed')));
    log.info(
      plan.kind === 'full'
        ? `Restored ${plan.backup.id} over ${plan.target.where} and verified it. ${progress.rollback ?? ''}`
        : `Restored ${plan.tables.length} tables into schema ${plan.sideSchema}; live tables were not touched.`,
    );
  } catch (error) {
    if (progress.safetyBackupId) reporter.output(Outputs.SafetyBackupId, progress.safetyBackupId);
    reporter.output(Outputs.Status, 'failed');
    const message = log.mask(describeError(error));
    await reporter.summary(
      plan
        ? renderRestoreSummary({
            ...report(plan, 'failed'),
            error: message,
            unchanged: !progress.rollback && !selective,
          })
        : `### Lifeboat restore: failed before it started\n\n\`\`\`text\n${message}\n\`\`\`\n\nNothing was changed.\n`,
    );
    throw error;
  }

  function report(p: RestorePlan, status: RestoreReport['status']): RestoreReport {
    return {
      plan: p,
      status,
      store: storeText(settings.store),
      safetyBackupId: progress.safetyBackupId,
      rollback: progress.rollback,
      checks: progress.checks,
      selective: selective && {
        sideSchema: selective.sideSchema,
        method: selective.method,
        tables: selective.tables.map((t) => ({
          table: `${t.schema}.${t.name}`,
          side: `${t.sideSchema}.${t.sideName}`,
          diff: selective!.diffs.get(t),
        })),
        copyBack: selective.copyBack,
        review: selective.review,
      },
    };
  }
}

/**
 * The target as it is now. A full restore counts every table (it replaces them all); a
 * selective one counts only the tables it restores, which may be a few of many large ones.
 */
async function inspectTarget(
  client: pg.ClientBase,
  settings: RestoreSettings,
  expected: CatalogSnapshot,
  manifest: Manifest,
): Promise<CatalogSnapshot> {
  const migrationsTable = manifest.migration?.table ?? DEFAULT_MIGRATIONS_TABLE;
  const full = settings.tables.length === 0;
  const live = await inspectDatabase(client, { migrationsTable, rowCounts: full });
  if (full) return live;
  const chosen = new Set(chooseTables(expected, settings.tables).map(key));
  for (const t of live.tables) {
    if (!chosen.has(key(t)) || t.kind !== 'r') continue;
    // ONLY: the rows of the table itself, as its restored copy holds them (not an inheritance child's).
    const { rows } = await client.query(
      `SELECT count(*)::bigint AS n FROM ONLY ${tableRef(t.schema, t.name)}`,
    );
    t.rows = Number((rows[0] as { n?: string } | undefined)?.n ?? 0);
  }
  return live;
}

function logSelective(log: Log, result: SelectiveResult): void {
  for (const t of result.tables) {
    log.info(`${t.schema}.${t.name} → ${t.sideSchema}.${t.sideName}: ${diffText(result.diffs.get(t))}`);
  }
  log.info(`SQL to copy rows back (review it first; nothing has run):\n${result.copyBack}`);
}
