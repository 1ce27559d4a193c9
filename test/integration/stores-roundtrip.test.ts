import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAllManifests, readManifest } from '../../src/archive/manifests.js';
import { readBack } from '../../src/backup/read-back.js';
import { parseStore } from '../../src/settings/values.js';
import { MemoryLog } from '../../src/log.js';
import { createToolFinder } from '../../src/postgres/tools.js';
import { openStore } from '../../src/stores/open.js';
import { listBackupIds, type BackupStore } from '../../src/stores/store.js';
import { archiveKey } from '../../src/archive/store-keys.js';
import { backupFixture, type BackupFixture } from '../helpers/world.js';
import { startCacheServer, type CacheServer } from '../helpers/cache-server.js';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { loadFixture } from '../helpers/fixtures.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';
import { runLifeboat } from '../helpers/lifeboat.js';

let cluster: Cluster;
let url: string;
let fx: BackupFixture;
let s3: S3TestServer;
let cache: CacheServer;

beforeAll(async () => {
  [cluster, fx, s3, cache] = await Promise.all([
    startCluster(),
    backupFixture(),
    startS3Server(),
    startCacheServer(),
  ]);
  url = await cluster.createDatabase('app');
  await loadFixture(cluster, 'app', 'supabase');
});

afterAll(async () => {
  await Promise.all([cluster?.stop(), fx?.cleanup(), s3?.stop(), cache?.stop()]);
});

const stores: [string, () => { spec: string; env: NodeJS.ProcessEnv }][] = [
  ['a local directory', () => ({ spec: fx.dir, env: process.env })],
  [
    'S3-compatible storage',
    () => ({ spec: `s3://${s3.bucket}/lifeboat`, env: { ...process.env, ...s3.env } }),
  ],
  ['the GitHub Actions cache', () => ({ spec: 'actions-cache', env: { ...process.env, ...cache.env } })],
];

describe.each(stores)('a backup round-trips through %s', (_name, where) => {
  let store: BackupStore;

  beforeAll(async () => {
    const { spec, env } = where();
    store = await openStore(parseStore(spec), { env, log: new MemoryLog(), githubToken: env.GITHUB_TOKEN });
  });

  afterAll(async () => {
    await store.close?.();
  });

  it('stores, reads back at level readable, and lists the same manifest and checksum', async () => {
    const inputs = {
      'database-url': url,
      store: 'x',
      'encryption-recipient': fx.recipient,
      'encryption-identity': fx.identity,
      name: 'roundtrip',
    };
    const first = await runLifeboat({ mode: 'backup', ...inputs }, { store: store });
    expect(first.error).toBeUndefined();
    const written = first.manifest!;
    expect(written.verification.level).toBe('readable');

    expect(await readManifest(store, 'roundtrip', written.backupId)).toEqual(written);
    const pgRestore = (await createToolFinder().candidates('pg_restore'))[0];
    const again = await readBack({
      store,
      key: archiveKey('roundtrip', written.backupId),
      sha256: written.archive.sha256,
      sizeBytes: written.archive.sizeBytes,
      keys: { identities: [fx.identity] },
      pgRestore,
      log: new MemoryLog(),
    });
    expect(again).toMatchObject({
      level: 'readable',
      dumpBytes: written.archive.dumpBytes,
      tocEntries: written.archive.tocEntries,
    });

    // A second backup with keep: 1 retires the first, manifest and archive both.
    const second = await runLifeboat({ mode: 'backup', ...inputs, keep: '1' }, { store: store });
    expect(second.error).toBeUndefined();
    const ids = await listBackupIds(store, 'roundtrip');
    expect(ids).toEqual([second.manifest!.backupId]);
    const { manifests, damaged } = await readAllManifests(store, 'roundtrip');
    expect(damaged).toEqual([]);
    expect(manifests.map((m) => m.backupId)).toEqual(ids);
    await expect(store.get(archiveKey('roundtrip', written.backupId))).rejects.toMatchObject({
      code: 'not-found',
    });
  });

  it('stores a backup dumped in parts, reads every part back, and retires every part', async () => {
    const inputs = {
      'database-url': url,
      store: 'x',
      'encryption-recipient': fx.recipient,
      'encryption-identity': fx.identity,
      name: 'in-parts',
      'dump-jobs': '3',
    };
    const first = await runLifeboat({ mode: 'backup', ...inputs }, { store: store });
    expect(first.error).toBeUndefined();
    const written = first.manifest!;
    expect(written.archive.parts?.length).toBe(2);
    const pgRestore = (await createToolFinder().candidates('pg_restore'))[0];
    for (const part of written.archive.parts!) {
      const again = await readBack({
        store,
        ...part,
        keys: { identities: [fx.identity] },
        pgRestore,
        log: new MemoryLog(),
      });
      expect(again).toMatchObject({
        level: 'readable',
        dumpBytes: part.dumpBytes,
        tocEntries: part.tocEntries,
      });
    }
    const second = await runLifeboat(
      { mode: 'backup', ...inputs, keep: '1', 'dump-jobs': '1' },
      { store: store },
    );
    expect(second.error).toBeUndefined();
    expect(await listBackupIds(store, 'in-parts')).toEqual([second.manifest!.backupId]);
    for (const part of written.archive.parts!) {
      await expect(store.get(part.key)).rejects.toMatchObject({ code: 'not-found' });
    }
  });
});

describe('archive stat', () => {
  it.each(stores)('is answered by %s with the stored size, without downloading', async (_name, where) => {
    const { spec, env } = where();
    const store = await openStore(parseStore(spec), {
      env: { ...env, GITHUB_TOKEN: '' },
      log: new MemoryLog(),
    });
    try {
      const backup = await runLifeboat(
        {
          mode: 'backup',
          'database-url': url,
          store: 'x',
          'encryption-recipient': fx.recipient,
          name: 'presence',
        },
        { store: store },
      );
      expect(backup.error).toBeUndefined();
      const { backupId, archive } = backup.manifest!;
      expect(await store.stat(archiveKey('presence', backupId))).toEqual({ sizeBytes: archive.sizeBytes });
      expect(await store.stat(archiveKey('presence', '20200101_000000_000_00000000'))).toBeUndefined();
    } finally {
      await store.close?.();
    }
  });
});

describe('an S3 download cut off mid-object', () => {
  let store: BackupStore;
  let log: MemoryLog;
  let backupId: string;

  beforeAll(async () => {
    log = new MemoryLog();
    const env = { ...process.env, ...s3.env };
    store = await openStore(parseStore(`s3://${s3.bucket}/cut`), { env, log, githubToken: undefined });
    const backup = await runLifeboat(
      {
        mode: 'backup',
        'database-url': url,
        store: 'x',
        'encryption-recipient': fx.recipient,
        'encryption-identity': fx.identity,
        name: 'cut',
      },
      { store },
    );
    expect(backup.error).toBeUndefined();
    backupId = backup.manifest!.backupId;
  });

  afterAll(async () => {
    s3.faults.cutGets = undefined;
    await store?.close?.();
  });

  const drill = () =>
    runLifeboat(
      {
        mode: 'drill',
        store: 'x',
        name: 'cut',
        'target-url': cluster.url(),
        'encryption-identity': fx.identity,
      },
      { store },
    );

  it('resumes where the bytes stopped, with a ranged read of the same version, and the drill passes', async () => {
    const before = s3.operations.length;
    s3.faults.cutGets = { afterBytes: 20_000, times: 3 };
    const run = await drill();
    expect(run.error, String((run.error as Error | undefined)?.message)).toBeUndefined();
    expect(s3.faults.cutGets.times).toBe(0);
    const resumed = log.text().match(/the connection dropped after \d+ bytes .*; resuming there\./g) ?? [];
    expect(resumed.length).toBe(3);
    expect(log.text()).toContain(`Reading cut/${backupId}.`);
    expect(s3.operations.slice(before).filter((op) => op === 'GetObject').length).toBeGreaterThan(3);
  });

  it('fails naming the object when the connection keeps dropping without progress', async () => {
    s3.faults.cutGets = { afterBytes: 0, times: 1000 };
    const run = await drill();
    expect(run.error).toBeDefined();
    expect(run.message).toMatch(/Could not read "cut\/\d{8}_[^"]+" in s3:\/\/.*: /);
  });
});
