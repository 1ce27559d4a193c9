/**
 * The shared arrangement of a fault file: a source cluster with the fixture databases, a
 * sandbox, an age key pair, and good backups taken before any fault runs.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { generateIdentity } from '../../src/archive/age/index.js';
import type { BackupStore } from '../../src/stores/store.js';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { loadFixture, type FixtureName } from '../helpers/fixtures.js';
import type { FaultWorld } from './assertions.js';
import { runLifeboat } from '../helpers/lifeboat.js';
import {
  contents,
  openSandbox,
  recordGood,
  restoreGoodByHand,
  type GoodBackup,
  type Sandbox,
} from './world.js';

export interface Arrangement {
  cluster: Cluster;
  /** The further clusters asked for by major, in order (a newer server, a restore target). */
  others: Cluster[];
  sandbox: Sandbox;
  identity: string;
  recipient: string;
  /** A passphrase for rows that use one; registered as a secret. */
  passphrase: string;
  /** Connection URL of the `app` database. */
  appUrl: string;
  /** Secrets beyond the standard ones, added by rows (a role's password, a token). */
  extraSecrets: { label: string; value: string }[];
  world(stores: BackupStore[], good: GoodBackup[]): FaultWorld;
  /** Restores each good backup by hand (age, zstd, pg_restore) and requires the source's every table back. */
  expectGoodRestorable(good: GoodBackup[]): Promise<void>;
  /** Takes a good backup into `store` (with the key pair, or a passphrase) and records it. */
  goodBackup(store: BackupStore, name?: string, options?: { passphrase?: string }): Promise<GoodBackup>;
  close(): Promise<void>;
}

export async function arrange(
  options: { fixtures?: FixtureName[]; more?: number[] } = {},
): Promise<Arrangement> {
  // Clusters first: their data directories must stay outside the sandbox.
  const [cluster, ...others] = await Promise.all([
    startCluster(),
    ...(options.more ?? []).map((major) => startCluster({ major })),
  ]);
  const appUrl = await cluster!.createDatabase('app');
  for (const fixture of options.fixtures ?? ['supabase', 'awkward'])
    await loadFixture(cluster!, 'app', fixture);
  const sandbox = await openSandbox();
  const { identity, recipient } = generateIdentity();
  const passphrase = `correct horse ${randomBytes(6).toString('hex')} battery`;
  const extraSecrets: { label: string; value: string }[] = [];
  const arrangement: Arrangement = {
    cluster: cluster!,
    others,
    sandbox,
    identity,
    recipient,
    passphrase,
    appUrl,
    extraSecrets,
    world: (stores, good) => ({
      sandbox,
      stores,
      good,
      identity,
      secrets: () => [
        ...[cluster!, ...others].map((c) => ({
          label: `the PostgreSQL ${c.major} password`,
          value: c.password,
        })),
        { label: 'the age identity', value: identity },
        { label: 'the passphrase', value: passphrase },
        ...extraSecrets,
      ],
      // The drill's JSON report is an output a workflow uploads, not a temp file.
      outputsAllowed: [/^lifeboat-drill-.*\.json$/],
    }),
    async goodBackup(store, name = 'production', options = {}) {
      const keys: Record<string, string> = options.passphrase
        ? { 'encryption-passphrase': options.passphrase }
        : { 'encryption-recipient': recipient, 'encryption-identity': identity };
      // Content fingerprints recorded, so drills and restores of it compare every value.
      const outcome = await runLifeboat(
        { mode: 'backup', 'database-url': appUrl, store: 'given', name, 'verify-content': 'true', ...keys },
        { store },
      );
      if (outcome.code !== 0) throw new Error(`the good backup failed: ${outcome.message}`);
      const id = outcome.outputs['backup-id']!;
      const source = await contents(cluster!, 'app');
      const { readManifest } = await import('../../src/archive/manifests.js');
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
      await Promise.all([cluster!.stop(), ...others.map((c) => c.stop()), sandbox.close()]);
    },
  };
  return arrangement;
}
