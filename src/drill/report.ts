import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { storedArchives, totalDumpBytes, totalStoredBytes, type Manifest } from '../archive/manifest.js';
import type { DrillSettings } from '../settings/settings.js';
import type { Profile } from '../settings/constants.js';
import { formatDuration } from '../duration.js';
import { describeError, LifeboatError } from '../errors.js';
import type { Log } from '../log.js';
import { describeTarget } from '../postgres/connection.js';
import type { Preparation, ResolvedProfile, SkippedEntry } from '../postgres/profile.js';
import { errorsOf, type Check, type CheckKind, type Comparison } from '../postgres/verify/checks.js';
import type { DrillSteps, StepRecord } from './steps.js';
import { githubServerUrl, repositoryName, tempRoot, workflowRunId } from '../settings/environment.js';

/**
 * The drill's result as JSON: what was restored where, how long each step took, every
 * difference found, and the objectives met or missed. Written to a file a workflow can
 * upload; it names tables and counts rows but never holds a password or a key.
 */
export interface DrillReport {
  format: 'lifeboat-drill-report';
  formatVersion: 1;
  status: 'passed' | 'failed';
  name: string;
  backupId: string;
  startedAt: string;
  finishedAt: string;
  /** Wall time from the drill's start to a verified restore; null when it never got there. */
  rtoSeconds: number | null;
  /** Age of the backup when the drill started; null when no backup was found. */
  rpoSeconds: number | null;
  rtoTargetSeconds: number | null;
  rpoTargetSeconds: number | null;
  /**
   * The most temporary disk the drill used beyond the restored database (list files; the
   * dump itself streams from the store and never touches the disk); null before it started.
   */
  tempPeakBytes: number | null;
  backup: {
    createdAt: string;
    completedAt: string;
    /** Stored bytes of every part together. */
    sizeBytes: number;
    dumpBytes: number | null;
    /** SHA-256 of the main archive; each part's is in the manifest. */
    sha256: string;
    /** Archives the backup was stored as: more than one when dumped in parallel. */
    parts: number;
    serverVersion: string;
    pgDumpVersion: string;
    levelBefore: string;
  } | null;
  target: { server: string; database: string | null; serverVersion: string | null; kept: boolean };
  profile: { requested: Profile; used: ResolvedProfile | null; reason: string | null };
  restore: { pgRestore: string | null; jobs: number; skipped: SkippedEntry[]; prepared: string[] };
  steps: StepRecord[];
  compared: Partial<Record<CheckKind, number>>;
  /** Differences only: errors fail the drill, warnings are worth a look. */
  checks: Check[];
  failure: { step: string; message: string; hint?: string } | null;
  run: { id: string | null; url: string | null };
  issueUrl: string | null;
}

/** Objectives missed become failed checks that say by how much. */
export function objectiveChecks(r: {
  rtoSeconds: number | null;
  rpoSeconds: number | null;
  rtoTargetSeconds: number | null;
  rpoTargetSeconds: number | null;
}): Check[] {
  const checks: Check[] = [];
  if (r.rtoTargetSeconds !== null && r.rtoSeconds !== null && r.rtoSeconds > r.rtoTargetSeconds) {
    checks.push({
      kind: 'rto',
      object: 'RTO',
      expected: r.rtoTargetSeconds,
      actual: round(r.rtoSeconds),
      severity: 'error',
      message: `The drill took ${formatDuration(r.rtoSeconds)} from start to verified restore, ${formatDuration(r.rtoSeconds - r.rtoTargetSeconds)} over the RTO target of ${formatDuration(r.rtoTargetSeconds)}.`,
      hint: 'Restore time grows with the database: a bigger drill runner (more cores, faster disk) or a smaller database brings it down; or revise the target.',
    });
  }
  if (r.rpoTargetSeconds !== null && r.rpoSeconds !== null && r.rpoSeconds > r.rpoTargetSeconds) {
    checks.push({
      kind: 'rpo',
      object: 'RPO',
      expected: r.rpoTargetSeconds,
      actual: round(r.rpoSeconds),
      severity: 'error',
      message: `The backup was ${formatDuration(r.rpoSeconds)} old when the drill started, ${formatDuration(r.rpoSeconds - r.rpoTargetSeconds)} over the RPO target of ${formatDuration(r.rpoTargetSeconds)}.`,
      hint: 'Back up more often (the backup workflow schedule), or check that recent backups succeeded.',
    });
  }
  return checks;
}

export function drillStatus(checks: Check[], failure: DrillReport['failure']): 'passed' | 'failed' {
  return failure || errorsOf(checks).length > 0 ? 'failed' : 'passed';
}

/**
 * Writes the report into a directory of its own (0700, a fresh random name under
 * RUNNER_TEMP or the temp dir), created exclusively (0600): a shared temp dir must not let
 * another user read it, or plant a file or link at a name they could predict. The
 * directory stays for the workflow to upload; its path is the `report-path` output.
 * Masked once more on the way out: a file leaves by another door than the log.
 */
export async function writeReport(
  report: DrillReport,
  log: Log,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const dir = await mkdtemp(path.join(tempRoot(env), 'lifeboat-report-'));
  try {
    await chmod(dir, 0o700);
    const file = path.join(dir, `lifeboat-drill-${report.backupId}.json`);
    await writeFile(file, `${log.mask(JSON.stringify(report, null, 2))}\n`, { flag: 'wx', mode: 0o600 });
    return file;
  } catch (error) {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    throw error;
  }
}

export function round(seconds: number): number {
  return Math.round(seconds * 10) / 10;
}

/** What a drill learnt, however far it got; the report is built from it. */
export interface DrillFacts {
  startedAt: Date;
  manifest?: Manifest;
  rpoSeconds: number | null;
  rtoSeconds: number | null;
  serverVersion?: string;
  database?: string;
  pgRestore?: string;
  jobs: number;
  tempPeakBytes?: number;
  prep?: Preparation;
  profileReason?: string;
  result: Comparison;
}

export function buildReport(
  settings: DrillSettings,
  facts: DrillFacts,
  steps: DrillSteps,
  env: NodeJS.ProcessEnv,
  log: Log,
): DrillReport {
  const error = steps.failure?.error;
  const failure = steps.failure
    ? {
        step: steps.failure.step,
        message: log.mask(error instanceof Error ? error.message : describeError(error)),
        hint: error instanceof LifeboatError ? error.hint : undefined,
      }
    : null;
  const m = facts.manifest;
  const prep = facts.prep;
  const targets = {
    rtoTargetSeconds: settings.rtoTargetSeconds ?? null,
    rpoTargetSeconds: settings.rpoTargetSeconds ?? null,
  };
  const times = {
    rtoSeconds: facts.rtoSeconds === null ? null : round(facts.rtoSeconds),
    rpoSeconds: facts.rpoSeconds === null ? null : round(facts.rpoSeconds),
  };
  const checks: Check[] = [
    ...(failure ? [stepFailure(failure)] : []),
    ...facts.result.checks,
    ...(prep?.skipped ?? []).map((s): Check => ({
      kind: 'skipped',
      object: s.entry,
      expected: 'restored',
      actual: 'skipped',
      severity: 'warning',
      message: `Skipped ${s.entry}: ${s.reason}.`,
    })),
    ...objectiveChecks({ ...times, ...targets }),
  ];
  const runId = workflowRunId(env) ?? null;
  const server = githubServerUrl(env);
  const repository = repositoryName(env);
  return {
    format: 'lifeboat-drill-report',
    formatVersion: 1,
    status: drillStatus(checks, failure),
    name: settings.name,
    backupId: m?.backupId ?? settings.backupId,
    startedAt: facts.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    ...times,
    ...targets,
    tempPeakBytes: facts.tempPeakBytes ?? null,
    backup: m
      ? {
          createdAt: m.createdAt,
          completedAt: m.completedAt,
          sizeBytes: totalStoredBytes(m),
          dumpBytes: totalDumpBytes(m),
          sha256: m.archive.sha256,
          parts: storedArchives(m).length,
          serverVersion: m.source.serverVersion,
          pgDumpVersion: m.source.pgDumpVersion,
          levelBefore: m.verification.level,
        }
      : null,
    target: {
      server: describeTarget(settings.target).replace(/\/[^/]*$/, ''),
      database: facts.database ?? null,
      serverVersion: facts.serverVersion ?? null,
      kept: settings.keepDatabase,
    },
    profile: {
      requested: settings.profile,
      used: prep?.profile ?? null,
      reason: facts.profileReason ?? null,
    },
    restore: {
      pgRestore: facts.pgRestore ?? null,
      jobs: facts.jobs,
      skipped: prep?.skipped ?? [],
      prepared: prep
        ? [
            ...prep.roles.map((r) => `role ${r}`),
            ...prep.schemas.map((x) => `schema ${x}`),
            ...prep.functions.map((f) => `function ${f}`),
          ]
        : [],
    },
    steps: steps.records,
    compared: { ...facts.result.compared, restore: 1 },
    checks,
    failure,
    run: {
      id: runId,
      url: runId && repository ? `${server}/${repository}/actions/runs/${runId}` : null,
    },
    issueUrl: null,
  };
}

function stepFailure(failure: NonNullable<DrillReport['failure']>): Check {
  return {
    kind: 'restore',
    object: failure.step,
    expected: 'ok',
    actual: 'failed',
    severity: 'error',
    message: failure.message,
    hint: failure.hint,
  };
}

/** The error a failed drill ends with, after it was reported: the first cause, and where to read the rest. */
export function drillFailed(report: DrillReport, file: string | undefined): LifeboatError {
  const failed = errorsOf(report.checks);
  const first = report.failure?.message ?? failed[0]?.message ?? 'see the report';
  const where = report.failure ? ` at "${report.failure.step}"` : '';
  const more = failed.length > 1 ? ` (and ${failed.length - 1} more failed checks)` : '';
  const issue = report.issueUrl ? `, the drill issue ${report.issueUrl}` : '';
  const places = file
    ? `The job summary${issue} and the JSON report (${file}) list every check.`
    : `The job summary${issue ? ` and${issue.slice(1)}` : ''} lists every check.`;
  return new LifeboatError('drill', `The restore drill of ${report.name} failed${where}: ${first}${more}`, {
    hint: report.failure?.hint ? `${report.failure.hint} ${places}` : places,
  });
}
