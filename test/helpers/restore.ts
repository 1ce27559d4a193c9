import pg from 'pg';
import { parseSettings, type RestoreSettings } from '../../src/settings/settings.js';
import { MemoryLog, MemoryReporter } from '../../src/log.js';
import { runRestore } from '../../src/restore/index.js';
import { inspectDatabase } from '../../src/postgres/inspect.js';
import type { BackupStore } from '../../src/stores/store.js';

export interface RestoreRun {
  log: MemoryLog;
  reporter: MemoryReporter;
  error?: unknown;
  /** What the confirmation prompt asked, when a prompt answer was given. */
  questions: string[];
}

/**
 * A restore as the action runs it; never throws. Secrets are not registered with the log:
 * whatever it prints, it printed itself, so a password in the text is a real leak.
 * `answer`, when given, is typed at the confirmation prompt.
 */
export async function tryRestore(
  store: BackupStore,
  inputs: Record<string, string>,
  answer?: string,
): Promise<RestoreRun> {
  const run: RestoreRun = { log: new MemoryLog(), reporter: new MemoryReporter(), questions: [] };
  const all: Record<string, string> = { mode: 'restore', ...inputs };
  try {
    const settings = parseSettings(
      (name) => all[name] ?? '',
      () => undefined,
    ) as RestoreSettings;
    const prompt =
      answer === undefined ? undefined : async (question: string) => (run.questions.push(question), answer);
    await runRestore(settings, { log: run.log, reporter: run.reporter, store, prompt });
  } catch (error) {
    run.error = error;
  }
  return run;
}

/**
 * A database's catalog with a content fingerprint of every table, minus when it was taken:
 * what "unchanged" and "restored exactly" mean in the restore tests.
 */
export async function databaseState(url: string): Promise<unknown> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { takenAt: _, ...rest } = await inspectDatabase(client, { fingerprints: true });
    return rest;
  } finally {
    await client.end();
  }
}

/** What `confirm` must be for a database of a test cluster: `host:port/database`. */
export function confirmFor(cluster: { host: string; port: number }, database: string): string {
  return `${cluster.host}:${cluster.port}/${database}`;
}
