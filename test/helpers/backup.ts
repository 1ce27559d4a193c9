import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateIdentity } from '../../src/archive/age/index.js';
import { parseSettings, type BackupSettings } from '../../src/settings/settings.js';
import { MemoryLog, MemoryReporter } from '../../src/log.js';
import { runBackup, type BackupResult } from '../../src/backup/index.js';
import { LocalStore } from '../../src/stores/local.js';
import type { BackupStore } from '../../src/stores/store.js';

/** A throwaway local store directory and an age key pair, shared by a test file. */
export interface BackupFixture {
  dir: string;
  store: LocalStore;
  identity: string;
  recipient: string;
  cleanup(): Promise<void>;
}

export async function backupFixture(): Promise<BackupFixture> {
  const dir = await mkdtemp(path.join(tmpdir(), 'lifeboat-store-'));
  const { identity, recipient } = generateIdentity();
  return {
    dir,
    store: new LocalStore(dir),
    identity,
    recipient,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface BackupRun {
  log: MemoryLog;
  reporter: MemoryReporter;
  result?: BackupResult;
  error?: unknown;
}

/** Settings exactly as the action would parse them from inputs. */
export function backupSettings(inputs: Record<string, string>, log = new MemoryLog()): BackupSettings {
  return parseSettings(
    (name) => inputs[name] ?? '',
    (value) => log.secret(value),
  ) as BackupSettings;
}

/** Runs a backup the way the action does and keeps everything it said; never throws. */
export async function tryBackup(
  inputs: Record<string, string>,
  store: BackupStore,
  options: { now?: Date } = {},
): Promise<BackupRun> {
  const log = new MemoryLog();
  const reporter = new MemoryReporter();
  try {
    const settings = backupSettings({ mode: 'backup', ...inputs }, log);
    const result = await runBackup(settings, { log, reporter, store, now: options.now });
    return { log, reporter, result };
  } catch (error) {
    return { log, reporter, error };
  }
}

/** Everything a run could have shown a person: log lines, outputs, summaries, the error. */
export function everythingSaid(run: BackupRun): string {
  const error = run.error as { message?: string; hint?: string } | undefined;
  return [
    run.log.text(),
    JSON.stringify(run.reporter.outputs),
    run.reporter.summaries.join('\n'),
    error?.message ?? '',
    error?.hint ?? '',
  ].join('\n');
}
