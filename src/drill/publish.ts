import { Readable } from 'node:stream';
import { serializeManifest, withLevel, type Manifest } from '../archive/manifest.js';
import { Outputs } from '../settings/constants.js';
import { describeError } from '../errors.js';
import type { Log, Reporter } from '../log.js';
import { publishDrillIssue } from './drill-issue.js';
import { renderDrillSummary } from './drill-summary.js';
import { GitHubPermissionError, githubContextFromEnv } from '../github/index.js';
import type { BackupStore } from '../stores/store.js';
import { generationOf, manifestKey } from '../archive/store-keys.js';
import { writeReport, type DrillReport } from './report.js';

export interface PublishContext {
  log: Log;
  reporter: Reporter;
  store: BackupStore;
  env: NodeJS.ProcessEnv;
  githubToken?: string;
  /** The manifest of the drilled backup, when it was found. */
  manifest?: Manifest;
}

/**
 * Tells the team: job summary, drill issue, JSON report, outputs; and on a pass, raises the
 * backup's verification level to `restored`. Reporting trouble is a warning, never the
 * verdict: the drill passes or fails on the drill alone.
 */
export async function publishDrill(report: DrillReport, ctx: PublishContext): Promise<string | undefined> {
  const { log, reporter } = ctx;
  await reporter.summary(log.mask(renderDrillSummary(report)));
  report.issueUrl = await fileIssue(report, ctx);
  // A full disk must not turn the drill's verdict into a bare ENOSPC: the summary and issue carry it.
  const file = await writeReport(report, log, ctx.env).then(
    (written) => written,
    (error: unknown) => {
      log.warning(`The drill report could not be written: ${describeError(error)}`);
      return undefined;
    },
  );
  if (file) log.info(`Drill report written to ${file}.`);
  reporter.output(Outputs.Status, report.status);
  reporter.output(Outputs.BackupId, report.backupId);
  reporter.output(
    Outputs.RtoSeconds,
    report.rtoSeconds === null ? '' : String(Math.round(report.rtoSeconds)),
  );
  reporter.output(
    Outputs.RpoSeconds,
    report.rpoSeconds === null ? '' : String(Math.round(report.rpoSeconds)),
  );
  reporter.output(Outputs.ReportPath, file ?? '');
  reporter.output(Outputs.IssueUrl, report.issueUrl ?? '');
  if (report.status === 'passed' && ctx.manifest) await raiseLevel(ctx.manifest, ctx);
  return file;
}

async function fileIssue(report: DrillReport, ctx: PublishContext): Promise<string | null> {
  const { log } = ctx;
  try {
    const gh = githubContextFromEnv(ctx.githubToken, ctx.env);
    if (!gh) {
      log.info('No GitHub token or repository (a local run): the drill result is not filed as an issue.');
      return null;
    }
    const issue = await publishDrillIssue(gh, report, (text) => log.mask(text));
    log.info(`${issue.created ? 'Opened' : 'Updated'} drill issue ${issue.url}.`);
    if (issue.closed.length)
      log.info(`Closed earlier drill issues: ${issue.closed.map((n) => `#${n}`).join(', ')}.`);
    return issue.url;
  } catch (error) {
    if (error instanceof GitHubPermissionError) {
      log.warning(
        `The drill issue was not filed: the token lacks \`${error.permission}\`. Add \`permissions: issues: write\` to the drill job. The drill ${report.status} all the same.`,
      );
    } else {
      log.warning(`The drill issue was not filed: ${describeError(error)}`);
    }
    return null;
  }
}

/** The gate can require `restored` once a drill has proven the backup. */
async function raiseLevel(manifest: Manifest, ctx: PublishContext): Promise<void> {
  const next = withLevel(manifest, 'restored', 'drill');
  try {
    const body = Readable.from([serializeManifest(next)]);
    await ctx.store.put(manifestKey(manifest.name, manifest.backupId, generationOf(manifest)), body, {
      overwrite: true,
    });
    ctx.log.info(`Backup ${manifest.backupId} is now verified at level "restored".`);
  } catch (error) {
    ctx.log.warning(`Could not record level "restored" in the manifest: ${describeError(error)}`);
  }
}
