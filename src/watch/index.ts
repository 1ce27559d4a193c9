import { describeError, LifeboatError } from '../errors.js';
import { GitHubPermissionError, githubContextFromEnv } from '../github/index.js';
import type { Log, Reporter } from '../log.js';
import { Outputs } from '../settings/constants.js';
import { workflowRunUrl } from '../settings/environment.js';
import type { WatchSettings } from '../settings/settings.js';
import type { BackupStore } from '../stores/store.js';
import { evaluateSet, type WatchCheck, type WatchRules } from './watch-checks.js';
import { readSet } from './watch-read.js';
import { trackWatchIssue } from './watch-issue.js';
import { newReport, renderWatchSummary, writeWatchReport, type WatchReport } from './watch-summary.js';

export interface WatchContext {
  log: Log;
  reporter: Reporter;
  store: BackupStore;
  env?: NodeJS.ProcessEnv;
  now?: Date;
}

/**
 * The watch: for each watched set, is there a recent verified backup whose archives are all
 * still stored, and a recent passed drill? One verdict, reported as outputs, job summary,
 * JSON report and one tracking issue. Throws when unhealthy unless fail-on-problem is false.
 */
export async function runWatch(settings: WatchSettings, ctx: WatchContext): Promise<WatchReport> {
  const { log, reporter, store } = ctx;
  const env = ctx.env ?? process.env;
  const now = ctx.now ?? new Date();
  const rules: WatchRules = {
    maxAgeSeconds: settings.maxAgeSeconds,
    require: settings.require,
    drillMaxAgeSeconds: settings.drillMaxAgeSeconds,
  };
  const checks: WatchCheck[] = [];
  for (const name of settings.names) {
    const facts = await readSet(store, name, settings.require);
    checks.push(...evaluateSet(facts, rules, now));
  }
  const healthy = !checks.some((c) => c.severity === 'problem');
  for (const c of checks) {
    const line = `${c.name} · ${c.check}: ${c.reason}`;
    if (c.severity === 'ok') log.info(line);
    else log.warning(line);
  }
  const runUrl = workflowRunUrl(env);
  const report = newReport({
    checkedAt: now.toISOString(),
    healthy,
    store: store.location,
    names: settings.names,
    rules,
    checks,
    run: { url: runUrl ?? null },
    issueUrl: null,
  });
  report.issueUrl = await fileIssue(settings, checks, runUrl, log, env);
  await reporter.summary(log.mask(renderWatchSummary(report)));
  const file = await writeWatchReport(report, log, env).catch((error: unknown) => {
    log.warning(`The watch report could not be written: ${describeError(error)}`);
    return undefined;
  });
  const problems = checks
    .filter((c) => c.severity !== 'ok')
    .map(({ name, check, reason, severity }) => ({ name, check, reason, severity }));
  reporter.output(Outputs.Healthy, String(healthy));
  reporter.output(Outputs.Problems, log.mask(JSON.stringify(problems)));
  reporter.output(Outputs.ReportPath, file ?? '');
  reporter.output(Outputs.IssueUrl, report.issueUrl ?? '');
  if (healthy) {
    log.info(`Watch: healthy (${settings.names.join(', ')}).`);
    return report;
  }
  const first = checks.find((c) => c.severity === 'problem')!;
  const count = problems.filter((p) => p.severity === 'problem').length;
  const message = `The watch found ${count} problem(s); first: ${first.name} · ${first.check}: ${first.reason}`;
  if (!settings.failOnProblem) {
    log.warning(`${message} (fail-on-problem is false, so the job passes).`);
    return report;
  }
  throw new LifeboatError('watch', message, {
    hint: 'Check the backup workflow (disabled schedule, expired secret, failing runs) and the drill workflow; the job summary lists every problem.',
  });
}

/** The tracking issue is a courtesy beside the outputs: trouble filing it is a warning. */
async function fileIssue(
  settings: WatchSettings,
  checks: WatchCheck[],
  runUrl: string | undefined,
  log: Log,
  env: NodeJS.ProcessEnv,
): Promise<string | null> {
  const gh = githubContextFromEnv(settings.githubToken, env);
  if (!gh) {
    log.info('No GitHub token or repository (a local run): no tracking issue.');
    return null;
  }
  try {
    const outcome = await trackWatchIssue(gh, checks, runUrl, (t) => log.mask(t));
    if (outcome.action === 'none') return null;
    log.info(`Watch issue #${outcome.number} ${outcome.action}: ${outcome.url}`);
    return outcome.url;
  } catch (error) {
    if (error instanceof GitHubPermissionError) {
      log.warning(
        `The watch issue was not filed: the token lacks \`${error.permission}\`. Add \`permissions: issues: write\` to the watch job.`,
      );
    } else {
      log.warning(`The watch issue was not filed: ${describeError(error)}`);
    }
    return null;
  }
}
