import { emptyComparison } from '../postgres/verify/checks.js';
import { onInterrupt } from '../interrupt.js';
import { restoreJobs } from '../postgres/pg-restore.js';
import type { DrillSettings } from '../settings/settings.js';
import { watchDiskUsage } from '../disk-usage.js';
import { createPrivateTempDir } from '../tempfiles.js';
import { cleanUp, drill, type DrillContext, type DrillState } from './drill-run.js';
import { publishDrill } from './publish.js';
import { recordDrill } from './record.js';
import { buildReport, drillFailed, type DrillReport } from './report.js';
import { DrillSteps, STEPS } from './steps.js';

export type { DrillContext };

/**
 * A whole restore drill, unattended: fetch and prove the backup, restore it into a fresh
 * database on a throwaway server, compare it with what the backup recorded, then tell the
 * team. Throws when the drill failed, after reporting.
 */
export async function runDrill(settings: DrillSettings, ctx: DrillContext): Promise<DrillReport> {
  const { log } = ctx;
  const env = ctx.env ?? process.env;
  const steps = new DrillSteps(log);
  const state: DrillState = {
    startedAt: new Date(),
    clock: performance.now(),
    rpoSeconds: null,
    rtoSeconds: null,
    jobs: restoreJobs(),
    result: emptyComparison(),
  };
  const temp = await createPrivateTempDir('lifeboat-drill-', env);
  // A cancelled job must not leave a drill database behind on a server that outlives it.
  const release = onInterrupt(() => cleanUp(settings, state, log));
  const usage = watchDiskUsage(temp.path);
  try {
    await drill(settings, ctx, steps, state, temp);
  } catch (error) {
    // A step that failed has recorded it; anything else failed between steps.
    steps.failure ??= { step: 'drill', error };
  } finally {
    // The Storage step belongs to backups that took Storage; others never list it.
    steps.skipRest(Object.values(STEPS).filter((n) => n !== STEPS.storage || state.manifest?.storage));
    state.tempPeakBytes = await usage.stop();
    await cleanUp(settings, state, log);
    release();
    await temp.remove();
  }
  const report = buildReport(settings, state, steps, env, log);
  const file = await publishDrill(report, {
    ...ctx,
    env,
    githubToken: settings.githubToken,
    manifest: state.manifest,
  });
  await recordDrill(report, ctx.store, log);
  if (report.status === 'failed') throw drillFailed(report, file);
  log.info(`Restore drill passed: restored and verified in ${report.rtoSeconds}s.`);
  return report;
}
