import type { GateSettings } from '../settings/settings.js';
import { Outputs } from '../settings/constants.js';
import { LifeboatError } from '../errors.js';
import { updateGateComment } from './comment.js';
import { evaluateGate, type GateVerdict, type ProductionMigration, type Unreadable } from './evaluate.js';
import { pendingMigrations, type BaselineSource } from './migrations.js';
import { readPullRequestContext, type PullRequestContext } from './pull-request.js';
import {
  checkArchives,
  describeFailure,
  readMigrationFiles,
  readNewestBackup,
  readProductionMigration,
} from './read.js';
import type { Log, Reporter } from '../log.js';
import { renderGateSummary } from './gate-summary.js';
import type { BackupStore } from '../stores/store.js';

export interface GateContext {
  log: Log;
  reporter: Reporter;
  store: BackupStore;
  env?: NodeJS.ProcessEnv;
  prompt?: (question: string) => Promise<string>;
  /** The gate's clock; tests pin it. */
  now?: Date;
}

/**
 * Is there a backup we could restore right now, taken after the last migration production
 * applied? Reads manifests only and stats the archives (never reads one, needs no key),
 * so it runs in pull-request jobs without secrets. Outputs, summary and comment are
 * written before a stale verdict fails.
 */
export async function runGate(settings: GateSettings, ctx: GateContext): Promise<GateVerdict> {
  const { log, store } = ctx;
  const env = ctx.env ?? process.env;
  const now = ctx.now ?? new Date();
  log.info(`Looking for a fresh backup of "${settings.name}" in ${store.location}.`);

  const newest = await readNewestBackup(store, settings.name);
  const archives = newest.manifest ? await checkArchives(store, newest.manifest) : undefined;
  let productionMigration: ProductionMigration | undefined;
  let productionUnreadable: Unreadable | undefined;
  if (settings.database) {
    try {
      productionMigration = await readProductionMigration(settings.database, settings.migrationsTable);
    } catch (error) {
      productionUnreadable = describeFailure(error);
    }
  }
  const verdict = evaluateGate({
    name: settings.name,
    store: store.location,
    manifest: newest.manifest,
    unreadable: newest.unreadable,
    now,
    maxAgeSeconds: settings.maxAgeSeconds,
    require: settings.require,
    productionMigration,
    productionUnreadable,
    archives,
  });

  const files = await readMigrationFiles(settings.migrationsDir, env, log);
  const [baseline, source] = appliedBaseline(productionMigration, newest.manifest?.migration);
  const markdown = renderGateSummary({
    verdict,
    manifest: newest.manifest,
    name: settings.name,
    store: store.location,
    require: settings.require,
    maxAgeSeconds: settings.maxAgeSeconds,
    productionMigration,
    pending: files && pendingMigrations(files, baseline, source),
    migrationsDir: settings.migrationsDir,
    failOnStale: settings.failOnStale,
  });

  ctx.reporter.output(Outputs.Fresh, String(verdict.fresh));
  ctx.reporter.output(Outputs.BackupId, verdict.backupId ?? '');
  ctx.reporter.output(Outputs.AgeSeconds, verdict.ageSeconds === undefined ? '' : String(verdict.ageSeconds));
  ctx.reporter.output(Outputs.Reason, verdict.reason);
  await ctx.reporter.summary(markdown);
  const pullRequest = await pullRequestOf(env, log);
  await updateGateComment({ pullRequest, token: settings.githubToken, env, markdown, log });

  if (verdict.fresh) {
    log.info(verdict.reason);
  } else if (settings.failOnStale) {
    throw new LifeboatError('gate', verdict.reason, {
      hint: verdict.hint ?? 'Run the backup workflow (mode: backup) now, then re-run this job.',
    });
  } else {
    log.warning(`${verdict.reason} (fail-on-stale is false: reporting only.)`);
  }
  return verdict;
}

/**
 * What production has already applied, for the list of pending migrations: production's
 * own record when the gate could read it, else what the newest backup recorded.
 */
function appliedBaseline(
  production: ProductionMigration | undefined,
  backup: { latestVersion: string | null } | null | undefined,
): [string | null, BaselineSource] {
  if (production) return [production.exists ? production.latestVersion : null, 'production'];
  if (backup) return [backup.latestVersion, 'backup'];
  return [null, 'none'];
}

async function pullRequestOf(env: NodeJS.ProcessEnv, log: Log): Promise<PullRequestContext | undefined> {
  try {
    return await readPullRequestContext(env);
  } catch (error) {
    log.warning(`Could not read the pull request from the workflow event: ${(error as Error).message}`);
    return undefined;
  }
}
