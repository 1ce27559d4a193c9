/**
 * Faults in the stores and on the runner's disk: an upload that fails halfway, a store that
 * claims success and keeps nothing, a full temporary directory, two backups racing for one
 * name. Real peers throughout: s3rver behind a fault-injecting proxy, a local GitHub Actions
 * cache with Azurite, and a real tmpfs that fills up.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifest } from '../../src/archive/manifests.js';
import { MemoryLog } from '../../src/log.js';
import { createActionsCacheStore } from '../../src/stores/actions-cache.js';
import type { LocalStore } from '../../src/stores/local.js';
import { createS3Store, type S3Store } from '../../src/stores/s3.js';
import type { BackupStore } from '../../src/stores/store.js';
import { startCacheServer, type CacheServer } from '../helpers/cache-server.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';
import { faultWorld, expectFaultCaught, expectWorldIntact, snapshot, type FaultWorld } from './assertions.js';
import { fillUp, mountTmpfs } from './inject.js';
import { runLifeboat } from '../helpers/lifeboat.js';
import { startWorld, type SandboxedWorld } from '../helpers/world.js';

const MiB = 1024 * 1024;

let a: SandboxedWorld;
let s3: S3TestServer;
let cache: CacheServer;
let local: LocalStore;
let s3Store: S3Store;
let cacheStore: BackupStore;
let cacheEnv: NodeJS.ProcessEnv;
let world: FaultWorld;
let bigUrl: string;

beforeAll(async () => {
  a = await startWorld({ sandbox: true, fixtures: ['supabase'] });
  // Peers start inside the sandbox, so what they store is searched for secrets too.
  [s3, cache] = await Promise.all([startS3Server(), startCacheServer()]);
  bigUrl = await a.cluster.createDatabase('big');
  // ~12 MB of random bytes: an archive of several 5 MiB parts.
  await a.cluster.exec(
    `CREATE TABLE blobs AS SELECT n, decode(string_agg(md5(n || '.' || g || random()::text), ''), 'hex') AS data
       FROM generate_series(1, 1500) AS n, generate_series(1, 512) AS g GROUP BY n;`,
    'big',
  );
  local = await a.sandbox.localStore('local');
  s3Store = createS3Store(`s3://${s3.bucket}/faults`, { ...process.env, ...s3.env }, { partSize: 5 * MiB });
  // The runner's temp directory is the sandbox's, so the cache store's staging is watched.
  cacheEnv = { ...process.env, ...cache.env, RUNNER_TEMP: a.sandbox.runnerTemp };
  cacheStore = createActionsCacheStore({ env: cacheEnv, log: new MemoryLog() });
  a.extraSecrets.push(
    { label: 'the S3 secret key', value: s3.secretAccessKey },
    { label: 'the Actions runtime token', value: cache.env.ACTIONS_RUNTIME_TOKEN! },
    { label: 'the GitHub token', value: cache.env.GITHUB_TOKEN! },
  );
  const good = await Promise.all([a.goodBackup(local), a.goodBackup(s3Store)]);
  good.push(await a.goodBackup(cacheStore));
  world = { ...faultWorld(a, [local, s3Store, cacheStore], good) };
});

afterAll(async () => {
  await Promise.all([s3Store?.close(), cacheStore?.close?.()]);
  await Promise.all([s3?.stop(), cache?.stop()]);
  await a?.close();
});

const backup = (extra: Record<string, string> = {}) => ({
  mode: 'backup',
  'database-url': a.appUrl,
  store: 'given',
  'encryption-recipient': a.recipient,
  'encryption-identity': a.identity,
  ...extra,
});

describe('store faults', () => {
  it('the S3 store failing mid-upload', async () => {
    const before = await snapshot(world);
    s3.faults.failAfterParts = 1;
    const outcome = await runLifeboat(backup({ 'database-url': bigUrl }), { store: s3Store }).finally(() => {
      s3.faults.failAfterParts = undefined;
    });
    await expectFaultCaught(world, before, outcome, {
      code: 'store',
      message: /Could not store .*\.dump\.zst\.age.*Injected failure: part refused/,
    });
    expect(await s3.pendingUploads()).toEqual([]);
  });

  it('the S3 store claiming success without storing (read-back catches it)', async () => {
    const before = await snapshot(world);
    s3.faults.lieOnComplete = true;
    const outcome = await runLifeboat(backup(), { store: s3Store }).finally(() => {
      s3.faults.lieOnComplete = false;
    });
    await expectFaultCaught(world, before, outcome, {
      code: 'integrity',
      message:
        /The store acknowledged production\/.*\.dump\.zst\.age, but reading it back found nothing there/,
    });
  });

  it('the Actions cache refusing an upload', async () => {
    const before = await snapshot(world);
    cache.failNextUpload();
    const outcome = await runLifeboat(backup({ store: 'actions-cache' }), { env: cacheEnv });
    await expectFaultCaught(world, before, outcome, {
      code: 'store',
      message: /Could not save production\/.*\.dump\.zst\.age/,
    });
  });
});

describe('a full temporary directory', () => {
  let full: string;
  let mounted: { unmount(): Promise<void> } | undefined;

  beforeAll(async () => {
    full = path.join(a.sandbox.root, 'full-disk');
    mounted = await mountTmpfs(full, '256k');
    if (mounted) await fillUp(full);
  });

  afterAll(async () => {
    await mounted?.unmount();
  });

  it('disk full where the Actions cache store stages the encrypted archive', async (context) => {
    if (!mounted) return context.skip('mounting a tmpfs needs root or password-less sudo');
    const before = await snapshot(world);
    const outcome = await runLifeboat(backup({ store: 'actions-cache' }), {
      env: { ...cacheEnv, RUNNER_TEMP: full },
    });
    await expectFaultCaught(world, before, outcome, {
      code: 'disk',
      message: /ran out of temporary space while staging production\/.*\.dump\.zst\.age/,
    });
  });

  it('disk full where the drill writes its lists of archive entries', async (context) => {
    if (!mounted) return context.skip('mounting a tmpfs needs root or password-less sudo');
    const before = await snapshot(world);
    const outcome = await runLifeboat(
      {
        mode: 'drill',
        store: 'given',
        'target-url': a.cluster.url(),
        'encryption-identity': a.identity,
      },
      { store: local, env: { ...process.env, RUNNER_TEMP: full } },
    );
    await expectFaultCaught(world, before, outcome, {
      code: 'drill',
      message: /temporary directory .* ran out of space writing .*\.list/,
      hint: /RUNNER_TEMP at a larger disk/,
    });
  });
});

describe('racing backups', () => {
  it.each([
    ['a local directory', () => ({ store: local as BackupStore, env: process.env, inputs: {} })],
    ['the Actions cache', () => ({ store: undefined, env: cacheEnv, inputs: { store: 'actions-cache' } })],
  ])(
    'two backups of the same name started at once in %s both succeed, with distinct ids',
    async (_where, how) => {
      const { store, env, inputs } = how();
      const before = await snapshot(world);
      const at = new Date();
      const runs = await Promise.all(
        [0, 1].map(() => runLifeboat(backup({ name: 'race', ...inputs }), { store, env, now: at })),
      );
      for (const run of runs) expect(run.message).toBe('');
      const ids = runs.map((r) => r.outputs['backup-id']!);
      expect(new Set(ids).size).toBe(2);
      const reader = store ?? cacheStore;
      for (const id of ids) {
        const manifest = await readManifest(reader, 'race', id);
        expect(manifest.verification.level).toBe('readable');
      }
      await expectWorldIntact(
        world,
        before,
        { shown: runs.map((r) => r.shown).join('\n'), outputs: {} },
        {
          verifiedAllowed: true,
        },
      );
    },
  );
});

describe('after every fault', () => {
  it('the good backups in every store still restore by hand, every row back', async () => {
    await a.expectGoodRestorable(world.good);
  });
});
