/**
 * The world integration and fault tests share: a source cluster with the fixture databases,
 * further clusters by major, an age key pair and a passphrase, local stores, a sandbox for
 * rows that search every file a run leaves, and good backups taken before anything breaks.
 * The peers (S3, the Actions cache, the GitHub stand-in) are fixtures of their own beside it:
 * s3-server.ts, cache-server.ts, github-server.ts.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { generateIdentity } from '../../src/archive/age/index.js';
import { readManifest } from '../../src/archive/manifests.js';
import { LocalStore } from '../../src/stores/local.js';
import type { BackupStore } from '../../src/stores/store.js';
import { startCluster, type Cluster } from './cluster.js';
import { loadFixture, tableContents, type FixtureName } from './fixtures.js';
import { recordGood, restoreGoodByHand, type GoodBackup } from './good-backups.js';
import { runLifeboat, type Secret } from './lifeboat.js';
import { openSandbox, type Sandbox } from './sandbox.js';

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

export interface World {
  cluster: Cluster;
  /** The further clusters asked for, in order: by major (a newer server), then the targets. */
  others: Cluster[];
  /** Open while the world is, when asked for: TMPDIR and RUNNER_TEMP point into it. */
  sandbox?: Sandbox;
  identity: string;
  recipient: string;
  /** A passphrase for tests that use one; counted among the secrets. */
  passphrase: string;
  /** Connection URL of the `app` database. */
  appUrl: string;
  /** Secrets beyond the standard ones, added by tests (a role's password, a token). */
  extraSecrets: { label: string; value: string }[];
  /** Every secret of the world, named: every cluster's password, the identity, the passphrase, the extras. */
  secrets(): Exclude<Secret, string>[];
  /** Takes a good backup into `store` (with the key pair, or a passphrase) and records it. */
  goodBackup(
    store: BackupStore,
    name?: string,
    options?: { passphrase?: string; dumpJobs?: number },
  ): Promise<GoodBackup>;
  /** Restores each good backup by hand (age, zstd, pg_restore) and requires the source's every table back. */
  expectGoodRestorable(good: GoodBackup[]): Promise<void>;
  close(): Promise<void>;
}

export interface WorldOptions {
  /** Loaded into the `app` database of the source cluster, in order. */
  fixtures?: FixtureName[];
  /** Majors of further clusters to start. */
  more?: number[];
  /** Further clusters of the default major, after those of `more`: servers to drill or restore into. */
  targets?: number;
  /** Opens a sandbox (after the clusters start, so their data stays outside it). */
  sandbox?: boolean;
}

/** A world with its sandbox open: what a fault file runs in. */
export type SandboxedWorld = World & { sandbox: Sandbox };

export async function startWorld(options: WorldOptions & { sandbox: true }): Promise<SandboxedWorld>;
export async function startWorld(options?: WorldOptions): Promise<World>;
export async function startWorld(options: WorldOptions = {}): Promise<World> {
  // Clusters first: their data directories must stay outside the sandbox.
  const [cluster, ...others] = await Promise.all([
    startCluster(),
    ...(options.more ?? []).map((major) => startCluster({ major })),
    ...Array.from({ length: options.targets ?? 0 }, () => startCluster()),
  ]);
  const appUrl = await cluster!.createDatabase('app');
  for (const fixture of options.fixtures ?? ['supabase', 'awkward'])
    await loadFixture(cluster!, 'app', fixture);
  const sandbox = options.sandbox ? await openSandbox() : undefined;
  const { identity, recipient } = generateIdentity();
  const passphrase = `correct horse ${randomBytes(6).toString('hex')} battery`;
  const extraSecrets: { label: string; value: string }[] = [];
  return {
    cluster: cluster!,
    others,
    sandbox,
    identity,
    recipient,
    passphrase,
    appUrl,
    extraSecrets,
    secrets: () => [
      ...[cluster!, ...others].map((c) => ({
        label: `the PostgreSQL ${c.major} password`,
        value: c.password,
      })),
      { label: 'the age identity', value: identity },
      { label: 'the passphrase', value: passphrase },
      ...extraSecrets,
    ],
    async goodBackup(store, name = 'production', options = {}) {
      const keys: Record<string, string> = options.passphrase
        ? { 'encryption-passphrase': options.passphrase }
        : { 'encryption-recipient': recipient, 'encryption-identity': identity };
      // Content fingerprints recorded, so drills and restores of it compare every value.
      const run = await runLifeboat(
        {
          mode: 'backup',
          'database-url': appUrl,
          store: 'given',
          name,
          'verify-content': 'true',
          ...(options.dumpJobs ? { 'dump-jobs': String(options.dumpJobs) } : {}),
          ...keys,
        },
        { store },
      );
      if (run.code !== 0) throw new Error(`the good backup failed: ${run.message}`);
      const id = run.outputs['backup-id']!;
      const source = await tableContents(cluster!, 'app');
      const decrypt = options.passphrase ? { passphrase: options.passphrase } : { identities: [identity] };
      return recordGood(store, await readManifest(store, name, id), decrypt, source);
    },
    async expectGoodRestorable(good) {
      for (const g of good) {
        const restored = await restoreGoodByHand(g, cluster!);
        expect(Object.keys(restored).length).toBeGreaterThan(0);
        // Every table with the rows and values the source had when the backup was taken.
        expect(restored).toEqual(g.source);
      }
    },
    async close() {
      await Promise.all([cluster!.stop(), ...others.map((c) => c.stop()), sandbox?.close()]);
    },
  };
}
