/**
 * Manifests that name keys other than the ones derived from their set name and backup id:
 * another set's archive, another backup's archive, a path with `..` segments. Every reader
 * refuses them and retention deletes nothing outside its set, on a local directory and on
 * a real S3 peer, with real backups of a real database.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveKey, backupKeys, manifestKey } from '../../src/archive/store-keys.js';
import { readAllManifests, readManifest } from '../../src/archive/manifests.js';
import { serializeManifest, type Manifest } from '../../src/archive/manifest.js';
import { isLifeboatError, type LifeboatError } from '../../src/errors.js';
import { MemoryLog } from '../../src/log.js';
import { applyRetention } from '../../src/backup/retention-apply.js';
import { LocalStore } from '../../src/stores/local.js';
import { createS3Store } from '../../src/stores/s3.js';
import type { BackupStore } from '../../src/stores/store.js';
import { backupFixture, type BackupFixture } from '../helpers/world.js';
import { startCluster, type Cluster, confirmFor } from '../helpers/cluster.js';
import { databaseState } from '../helpers/fixtures.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';
import { runLifeboat } from '../helpers/lifeboat.js';

let cluster: Cluster;
let fx: BackupFixture;
let s3: S3TestServer;
let url: string;
let work: string;

beforeAll(async () => {
  [cluster, fx, s3] = await Promise.all([startCluster(), backupFixture(), startS3Server()]);
  work = await mkdtemp(path.join(tmpdir(), 'lifeboat-forged-'));
  url = await cluster.createDatabase('app');
  await cluster.exec(
    `CREATE TABLE public.notes (id int PRIMARY KEY, body text);
     INSERT INTO public.notes SELECT g, md5(g::text) FROM generate_series(1, 200) g;`,
    'app',
  );
});

afterAll(async () => {
  await Promise.all([cluster?.stop(), fx?.cleanup(), s3?.stop()]);
  if (work) await rm(work, { recursive: true, force: true });
});

/** A readable backup of the database into `store`, as the action takes it. */
async function backup(store: BackupStore, name: string): Promise<Manifest> {
  const run = await runLifeboat(
    {
      mode: 'backup',
      'database-url': url,
      name,
      'encryption-recipient': fx.recipient,
      'encryption-identity': fx.identity,
    },
    { store: store },
  );
  if (run.error) throw run.error;
  return run.manifest!;
}

/** Rewrites a stored manifest, as someone with write access to the store could. */
async function forge(store: BackupStore, m: Manifest, change: (m: Manifest) => Manifest): Promise<void> {
  const body = Readable.from([serializeManifest(change(m))]);
  await store.put(manifestKey(m.name, m.backupId), body, { overwrite: true });
}

/** Points a manifest's archive at another one, size and SHA-256 included, so every hash check agrees. */
function pointAt(target: Manifest['archive'], key = target.key): (m: Manifest) => Manifest {
  return (m) => ({
    ...m,
    archive: {
      ...m.archive,
      key,
      sizeBytes: target.sizeBytes,
      sha256: target.sha256,
      dumpBytes: target.dumpBytes,
    },
  });
}

/** Every key under `prefix` with the SHA-256 of its bytes. */
async function contents(store: BackupStore, prefix: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const key of (await store.list(prefix)).sort()) {
    out[key] = createHash('sha256')
      .update(await buffer(await store.get(key)))
      .digest('hex');
  }
  return out;
}

async function levelOf(store: BackupStore, m: Manifest): Promise<{ level: string; steps: number }> {
  const raw = JSON.parse(
    (await buffer(await store.get(manifestKey(m.name, m.backupId)))).toString(),
  ) as Manifest;
  return { level: raw.verification.level, steps: raw.verification.history.length };
}

const stores: [string, (prefix: string) => Promise<BackupStore>][] = [
  ['a local directory', async (prefix) => new LocalStore(await mkdtemp(path.join(work, `${prefix}-`)))],
  ['S3-compatible storage', async (prefix) => createS3Store(`s3://${s3.bucket}/${prefix}`, s3.env)],
];

describe('retention with forged manifests', () => {
  it.each(stores)(
    'deletes nothing outside its set on %s, whatever the manifests claim',
    async (_kind, open) => {
      const store = await open('prune');
      try {
        const staging = await backup(store, 'staging');
        const p0 = await backup(store, 'production');
        const p1 = await backup(store, 'production');
        const p2 = await backup(store, 'production');
        const p3 = await backup(store, 'production');
        // p1 claims staging's archive; p2 climbs there through "..".
        await forge(store, p1, pointAt(staging.archive));
        const climbing = `production/../staging/${staging.backupId}.dump.zst.age`;
        await forge(store, p2, pointAt(staging.archive, climbing));
        const stagingBefore = await contents(store, 'staging/');
        expect(Object.keys(stagingBefore)).toEqual(backupKeys('staging', staging.backupId, 1).sort());

        const log = new MemoryLog();
        const { deleted } = await applyRetention(
          store,
          'production',
          {
            rules: { keep: { kind: 'count', count: 1 } },
            orphanGraceSeconds: 86_400,
            justTaken: p3.backupId,
          },
          log,
        );

        expect(await contents(store, 'staging/')).toEqual(stagingBefore);
        // The genuine old backup goes, every key of it; the forged ones stay, named, for a person to look at.
        expect(deleted).toEqual([p0.backupId]);
        expect((await store.list('production/')).sort()).toEqual(
          [p1, p2, p3].flatMap((m) => backupKeys('production', m.backupId, 1)).sort(),
        );
        const warnings = log.lines.filter((l) => l.level === 'warning').map((l) => l.message);
        expect(warnings).toHaveLength(2);
        expect(warnings.find((w) => w.includes(p1.backupId))).toContain('(outside the set "production")');
        expect(warnings.find((w) => w.includes(p2.backupId))).toContain(
          `"${climbing}" (a path with ".." segments)`,
        );
      } finally {
        await store.close?.();
      }
    },
  );
});

describe('readers of a forged manifest', () => {
  let dir: string;
  let store: LocalStore;
  let older: Manifest;
  let newest: Manifest;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(work, 'readers-'));
    store = new LocalStore(dir);
    // Two backups of the same data: restoring the older one in place of the newer would
    // pass every check of the newer one's catalog.
    older = await backup(store, 'production');
    newest = await backup(store, 'production');
    await forge(store, newest, pointAt(older.archive));
  });

  it('refuses it when read, naming the manifest, its claim and the derived key', async () => {
    const error = await readManifest(store, 'production', newest.backupId).then(
      () => undefined,
      (e: unknown) => e as LifeboatError,
    );
    expect(isLifeboatError(error, 'integrity')).toBe(true);
    expect(error!.message).toBe(
      `The manifest ${manifestKey('production', newest.backupId)} claims its archive is "${archiveKey('production', older.backupId)}", but backup production/${newest.backupId} keeps it at "${archiveKey('production', newest.backupId)}". Refusing to read or delete anything it names.`,
    );
    expect(error!.hint).toMatch(/tampered with/);
    // `lifeboat list` reads the same way: the forged manifest is reported, not listed.
    const all = await readAllManifests(store, 'production');
    expect(all.manifests.map((m) => m.backupId)).toEqual([older.backupId]);
    expect(all.damaged).toEqual([{ backupId: newest.backupId, error: error!.message }]);
  });

  it('makes a drill refuse before restoring anything, and raises no backup to restored', async () => {
    const runnerTemp = await mkdtemp(path.join(work, 'runner-'));
    const { error, log } = await runLifeboat(
      { mode: 'drill', store: dir, 'target-url': cluster.url(), 'encryption-identity': fx.identity },
      { store, env: { PATH: process.env.PATH, RUNNER_TEMP: runnerTemp } },
    );
    expect(error?.code).toBe('drill');
    expect(error?.message).toContain(
      `failed at "Read the manifest and its catalog snapshot": The manifest ${manifestKey('production', newest.backupId)} claims its archive is "${archiveKey('production', older.backupId)}"`,
    );
    expect(error?.hint).toMatch(/tampered with/);
    expect(log.text()).not.toMatch(/Fetching|pg_restore/);
    expect(await levelOf(store, newest)).toEqual({
      level: 'readable',
      steps: newest.verification.history.length,
    });
    expect(await levelOf(store, older)).toEqual({
      level: 'readable',
      steps: older.verification.history.length,
    });
    const drills = await cluster.query(
      `SELECT datname FROM pg_database WHERE datname LIKE 'lifeboat_drill_%'`,
    );
    expect(drills).toEqual([]);
  });

  it('makes a restore refuse before touching the target, without a safety backup', async () => {
    const before = await databaseState(url);
    const run = await runLifeboat(
      {
        mode: 'restore',
        store: dir,
        'target-url': url,
        confirm: confirmFor(cluster, 'app'),
        'encryption-identity': fx.identity,
      },
      { store, unmasked: true },
    );
    expect(isLifeboatError(run.error, 'integrity')).toBe(true);
    expect((run.error as Error).message).toContain('claims its archive is');
    expect(await databaseState(url)).toEqual(before);
    expect(await store.list('production-pre-restore/')).toEqual([]);
  });

  it('fails the gate with the refusal as its reason', async () => {
    const { error, outputs } = await runLifeboat(
      { mode: 'gate', store: dir, 'migrations-dir': work },
      { env: {} },
    );
    expect(error?.code).toBe('gate');
    expect(outputs.fresh).toBe('false');
    expect(outputs.reason).toContain(`claims its archive is "${archiveKey('production', older.backupId)}"`);
  });
});
