/**
 * The world the gate tests share, built on the shared one (world.ts): a cluster with a
 * Supabase-like database (three applied migrations, a fourth file not yet applied) and a plain
 * one, a readable backup of each in its own local store, and the gate run through the harness.
 */
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { readManifest } from '../../src/archive/manifests.js';
import { serializeManifest, type Manifest } from '../../src/archive/manifest.js';
import { LocalStore } from '../../src/stores/local.js';
import { latestBackupId, type BackupStore } from '../../src/stores/store.js';
import { manifestKey } from '../../src/archive/store-keys.js';
import { backupFixture, startWorld, type BackupFixture } from './world.js';
import type { Cluster } from './cluster.js';
import { runLifeboat, type LifeboatRun } from './lifeboat.js';

export const FOURTH = '20240401000000';
const MIGRATION_FILES = [
  '20240101000000_initial_schema.sql',
  '20240215093000_worker_jobs.sql',
  '20240320120000_billing_rls.sql',
  `${FOURTH}_add_invoices.sql`,
];
export const HOUR = 3600 * 1000;

export interface GateWorld {
  cluster: Cluster;
  fx: BackupFixture;
  work: string;
  migrationsDir: string;
  /** A Supabase-like database with three applied migrations, and a readable backup of it. */
  appUrl: string;
  appStore: string;
  /** A database without a migrations table, and a backup of it. */
  plainUrl: string;
  plainStore: string;
  /** A readable backup (the identity lets it read its archive back). */
  backup(databaseUrl: string, store: BackupStore): Promise<Manifest>;
  /** A private copy of a store directory, so a test can damage it freely. */
  copyOf(storeDir: string): Promise<string>;
  /**
   * Runs the gate through the same door as the action: inputs parsed into settings, the
   * store opened from them. `env` stands in for the runner's environment; the host's own
   * GITHUB_* variables never leak in.
   */
  gate(inputs: Record<string, string>, env?: Record<string, string>): Promise<LifeboatRun>;
  stop(): Promise<void>;
}

export async function startGateWorld(): Promise<GateWorld> {
  const world = await startWorld({ fixtures: ['supabase'] });
  const { cluster, appUrl } = world;
  const fx = await backupFixture();
  const work = await mkdtemp(path.join(tmpdir(), 'lifeboat-gate-'));
  const migrationsDir = path.join(work, 'supabase', 'migrations');
  await mkdir(migrationsDir, { recursive: true });
  for (const file of MIGRATION_FILES) await writeFile(path.join(migrationsDir, file), '-- migration\n');

  const backup = async (databaseUrl: string, store: BackupStore): Promise<Manifest> => {
    const run = await runLifeboat(
      {
        mode: 'backup',
        'database-url': databaseUrl,
        'encryption-recipient': fx.recipient,
        'encryption-identity': fx.identity,
      },
      { store },
    );
    if (run.error) throw run.error;
    return run.manifest!;
  };

  const appStore = path.join(work, 'app-store');
  await backup(appUrl, new LocalStore(appStore));

  const plainUrl = await cluster.createDatabase('plain');
  await cluster.exec('CREATE TABLE public.notes (id int PRIMARY KEY, body text)', 'plain');
  const plainStore = path.join(work, 'plain-store');
  await backup(plainUrl, new LocalStore(plainStore));

  return {
    cluster,
    fx,
    work,
    migrationsDir,
    appUrl,
    appStore,
    plainUrl,
    plainStore,
    backup,
    async copyOf(storeDir) {
      const dir = await mkdtemp(path.join(work, 'store-'));
      await cp(storeDir, dir, { recursive: true });
      return dir;
    },
    gate(inputs, env = {}) {
      return runLifeboat({ mode: 'gate', 'migrations-dir': migrationsDir, ...inputs }, { env: { ...env } });
    },
    async stop() {
      await world.close();
      await fx.cleanup();
      await rm(work, { recursive: true, force: true });
    },
  };
}

/** Rewrites the newest manifest of `production` in place, as a test's way to age or alter it. */
export async function rewriteNewest(
  store: BackupStore,
  change: (m: Manifest) => Manifest,
): Promise<Manifest> {
  const id = (await latestBackupId(store, 'production'))!;
  const next = change(await readManifest(store, 'production', id));
  await store.put(manifestKey('production', id), Readable.from([serializeManifest(next)]), {
    overwrite: true,
  });
  return next;
}

export function takenAt(m: Manifest, at: Date): Manifest {
  return { ...m, createdAt: at.toISOString(), completedAt: at.toISOString() };
}
