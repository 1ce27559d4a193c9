/**
 * The one way tests run Lifeboat: in process, as the entry points do (inputs parsed once into
 * settings, a mode run against a store, any failure turned into one masked message and an
 * exit status), keeping everything it said in one typed result; or, where a test needs a real
 * process, as the action's or the CLI's entry (`runAction`, `startCli`). `expectNoSecrets`
 * is the one check that no secret shows in anything Lifeboat said.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import type { Manifest } from '../../src/archive/manifest.js';
import { runBackup } from '../../src/backup/index.js';
import type { DrillReport } from '../../src/drill/report.js';
import { describeError, isLifeboatError, type LifeboatError } from '../../src/errors.js';
import { MemoryLog, MemoryReporter } from '../../src/log.js';
import { removeCaFiles } from '../../src/postgres/ca-file.js';
import { runModeIn } from '../../src/run.js';
import { parseSettings } from '../../src/settings/settings.js';
import { openStore } from '../../src/stores/open.js';
import type { BackupStore } from '../../src/stores/store.js';

export { runAction, startCli, warmCli, type ActionRun, type CliProcess } from './lifeboat-process.js';

export interface LifeboatRun {
  /** What the CLI would exit with: 0, 1, or 2 for bad input. */
  code: number;
  /**
   * What the run threw, if anything. Typed as Lifeboat's own error so tests can read its code
   * and hint; `isLifeboatError` tells whether it really is one (anything else is a bug).
   */
  error?: LifeboatError;
  /** The message the entry point prints (masked), '' on success. */
  message: string;
  log: MemoryLog;
  outputs: Record<string, string>;
  summaries: string[];
  /** The job summary as one text. */
  summary: string;
  /** A backup's manifest, as the backup returned it. */
  manifest?: Manifest;
  /** A drill's JSON report (the file `report-path` names), parsed, and its text. */
  report?: DrillReport;
  reportText?: string;
  /** The runner temp directory made for this run (`runnerTemp: true`); left for the test to inspect. */
  runnerTemp?: string;
  /** What the confirmation prompt asked, when `answer` was given. */
  questions: string[];
  /** Everything a person could see: log lines, outputs, summaries and the message. */
  shown: string;
}

export interface RunOptions {
  /** A store the test built itself (a fault switch, small parts, a peer); else the one `store` names. */
  store?: BackupStore;
  /** The runner's environment; the process's own when absent. */
  env?: NodeJS.ProcessEnv;
  /** Pins a backup's id. */
  now?: Date;
  /** Typed at the confirmation prompt, as a person at a terminal does. */
  answer?: string;
  /** A fresh RUNNER_TEMP of its own (PATH and `env` beside it), returned as `runnerTemp`. */
  runnerTemp?: boolean;
  /**
   * Secrets are not registered with the log: whatever it prints, it printed itself, so a
   * secret in the text is a real leak. By default they are, as the action registers them.
   */
  unmasked?: boolean;
}

/** Runs one mode of Lifeboat as the action runs it; never throws. */
export async function runLifeboat(
  inputs: Record<string, string>,
  options: RunOptions = {},
): Promise<LifeboatRun> {
  const log = new MemoryLog();
  const reporter = new MemoryReporter();
  const questions: string[] = [];
  const runnerTemp = options.runnerTemp ? await mkdtemp(path.join(tmpdir(), 'lifeboat-runner-')) : undefined;
  const env = runnerTemp ? { PATH: process.env.PATH, ...options.env, RUNNER_TEMP: runnerTemp } : options.env;
  const { answer } = options;
  const prompt =
    answer === undefined ? undefined : async (question: string) => (questions.push(question), answer);
  let error: unknown;
  let manifest: Manifest | undefined;
  try {
    const settings = parseSettings(
      (name) => inputs[name] ?? '',
      (value) => (options.unmasked ? undefined : log.secret(value)),
    );
    // As runMode does, but a backup's result kept: tests read the manifest it wrote.
    const store =
      options.store ?? (await openStore(settings.store, { env, log, githubToken: settings.githubToken }));
    const ctx = { log, reporter, env, prompt, store, now: options.now };
    try {
      if (settings.mode === 'backup')
        manifest = (await runBackup(settings, ctx).finally(removeCaFiles)).manifest;
      else await runModeIn(settings, ctx);
    } finally {
      if (!options.store) await store.close?.();
    }
  } catch (e) {
    error = e;
  }
  const message = error === undefined ? '' : log.mask(describeError(error));
  const code = error === undefined ? 0 : isLifeboatError(error, 'input') ? 2 : 1;
  const reportPath = reporter.outputs['report-path'];
  const reportText = reportPath ? await readFile(reportPath, 'utf8').catch(() => undefined) : undefined;
  return {
    code,
    error: error as LifeboatError | undefined,
    message,
    log,
    outputs: reporter.outputs,
    summaries: reporter.summaries,
    summary: reporter.summaries.join('\n'),
    manifest,
    report: reportText === undefined ? undefined : (JSON.parse(reportText) as DrillReport),
    reportText,
    runnerTemp,
    questions,
    shown: [log.text(), JSON.stringify(reporter.outputs), ...reporter.summaries, message].join('\n'),
  };
}

/** A secret, named so a failure says which one showed without printing it. */
export type Secret = string | { label: string; value: string };

/**
 * No secret, raw or URL-encoded, in anything Lifeboat said: for a run, what it showed, each
 * output, the error as thrown (unmasked, message and hint) and a drill's report; or the given texts.
 */
export function expectNoSecrets(
  said: Pick<LifeboatRun, 'shown'> & Partial<LifeboatRun>,
  secrets: Secret[],
): void;
export function expectNoSecrets(said: string | string[], secrets: Secret[]): void;
export function expectNoSecrets(
  said: string | string[] | (Pick<LifeboatRun, 'shown'> & Partial<LifeboatRun>),
  secrets: Secret[],
): void {
  const texts =
    typeof said === 'string'
      ? [said]
      : Array.isArray(said)
        ? said
        : [
            said.shown,
            ...Object.values(said.outputs ?? {}),
            said.error === undefined ? '' : describeError(said.error),
            said.reportText ?? '',
          ];
  const leaks: string[] = [];
  for (const [i, secret] of secrets.entries()) {
    const { label, value } =
      typeof secret === 'string' ? { label: `secret #${i + 1}`, value: secret } : secret;
    const encoded = encodeURIComponent(value);
    const forms = [[label, value], ...(encoded === value ? [] : [[`${label} (URL-encoded)`, encoded]])];
    for (const [form, text] of forms as [string, string][]) {
      texts.forEach((t, at) => {
        if (t.includes(text)) leaks.push(`${form} in text #${at + 1}`);
      });
    }
  }
  expect(leaks).toEqual([]);
}
