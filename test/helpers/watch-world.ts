/**
 * The world the watch and notification tests share: one cluster with a database whose
 * table names are distinctive (so a test can prove no message carries one), an age key
 * pair, and backups, drills and watches run through the same door as the action: inputs
 * parsed into settings, the store opened from them, notifications and heartbeats around.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateIdentity } from '../../src/archive/age/index.js';
import { isLifeboatError, type LifeboatError } from '../../src/errors.js';
import { MemoryLog, MemoryReporter } from '../../src/log.js';
import { runMode } from '../../src/run.js';
import { parseSettings } from '../../src/settings/settings.js';
import { startCluster, type Cluster } from './cluster.js';

/** Table names no message, notification or heartbeat may ever carry. */
export const SECRET_TABLES = ['zebra_ledger_7731', 'quokka_payroll_4410'];
export const DB_PASSWORD = 'Hunter2-watch-Pa55';

export interface ModeRun {
  outputs: Record<string, string>;
  summary: string;
  log: MemoryLog;
  error?: LifeboatError;
}

export interface WatchWorld {
  cluster: Cluster;
  /** Connection string with a password, to the database with the distinctive tables. */
  databaseUrl: string;
  identity: string;
  recipient: string;
  work: string;
  /** A fresh empty store directory. */
  newStore(): Promise<string>;
  /** A private copy of a store directory. */
  copyOf(storeDir: string): Promise<string>;
  /** Any mode, as the action runs it; `env` stands in for the runner's environment. */
  run(inputs: Record<string, string>, env?: Record<string, string>): Promise<ModeRun>;
  backup(store: string, inputs?: Record<string, string>, env?: Record<string, string>): Promise<ModeRun>;
  drill(store: string, inputs?: Record<string, string>, env?: Record<string, string>): Promise<ModeRun>;
  watch(store: string, inputs?: Record<string, string>, env?: Record<string, string>): Promise<ModeRun>;
  stop(): Promise<void>;
}

export async function startWatchWorld(): Promise<WatchWorld> {
  const cluster = await startCluster();
  const { identity, recipient } = generateIdentity();
  const work = await mkdtemp(path.join(tmpdir(), 'lifeboat-watch-'));
  await cluster.createDatabase('ledger');
  await cluster.exec(
    [
      `CREATE ROLE watch_owner LOGIN PASSWORD '${DB_PASSWORD}' SUPERUSER`,
      `CREATE TABLE public.${SECRET_TABLES[0]} (id int PRIMARY KEY, amount numeric)`,
      `CREATE TABLE public.${SECRET_TABLES[1]} (id int PRIMARY KEY, note text)`,
      `INSERT INTO public.${SECRET_TABLES[0]} SELECT g, g * 1.5 FROM generate_series(1, 50) g`,
    ].join(';\n'),
    'ledger',
  );
  const databaseUrl = cluster.url({ database: 'ledger', user: 'watch_owner', password: DB_PASSWORD });

  const run = async (inputs: Record<string, string>, env: Record<string, string> = {}): Promise<ModeRun> => {
    const log = new MemoryLog();
    const reporter = new MemoryReporter();
    let error: LifeboatError | undefined;
    try {
      const settings = parseSettings(
        (name) => inputs[name] ?? '',
        (value) => log.secret(value),
      );
      // RUNNER_TEMP keeps reports in the world's directory; the host's GITHUB_* never leak in.
      await runMode(settings, { log, reporter, env: { RUNNER_TEMP: work, ...env } });
    } catch (caught) {
      if (!isLifeboatError(caught)) throw caught;
      error = caught;
    }
    return { outputs: reporter.outputs, summary: reporter.summaries.join('\n'), log, error };
  };

  return {
    cluster,
    databaseUrl,
    identity,
    recipient,
    work,
    newStore: () => mkdtemp(path.join(work, 'store-')),
    async copyOf(storeDir) {
      const dir = await mkdtemp(path.join(work, 'store-'));
      await cp(storeDir, dir, { recursive: true });
      return dir;
    },
    run,
    backup: (store, inputs = {}, env = {}) =>
      run(
        {
          mode: 'backup',
          store,
          'database-url': databaseUrl,
          'encryption-recipient': recipient,
          'encryption-identity': identity,
          ...inputs,
        },
        env,
      ),
    drill: (store, inputs = {}, env = {}) =>
      run(
        { mode: 'drill', store, 'target-url': cluster.url(), 'encryption-identity': identity, ...inputs },
        env,
      ),
    watch: (store, inputs = {}, env = {}) => run({ mode: 'watch', store, ...inputs }, env),
    async stop() {
      await cluster.stop();
      await rm(work, { recursive: true, force: true });
    },
  };
}
