import { createHash, randomBytes } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveKey, partKey } from '../../src/archive/store-keys.js';
import { MemoryLog } from '../../src/log.js';
import { parseStore } from '../../src/settings/values.js';
import { openStore } from '../../src/stores/open.js';
import { listBackupIds, type BackupStore } from '../../src/stores/store.js';
import { startCacheServer, type CacheServer } from '../helpers/cache-server.js';
import { expectNoSecrets, runAction, runLifeboat, startCli } from '../helpers/lifeboat.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';
import { startWorld, type World } from '../helpers/world.js';
import { flipByte } from '../faults/damage.js';

const NAME = 'production';
let world: World;
let s3: S3TestServer;
let cache: CacheServer;
/** The source: a local store with two backups, the newer one dumped in parts. */
let source: string;
let ids: string[];
let env: NodeJS.ProcessEnv;
const opened: BackupStore[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  [world, s3, cache] = await Promise.all([
    startWorld({ fixtures: ['supabase'] }),
    startS3Server(),
    startCacheServer(),
  ]);
  env = { ...process.env, ...s3.env, ...cache.env };
  source = await freshDir();
  const backup = async (extra: Record<string, string>) => {
    const run = await runLifeboat({
      mode: 'backup',
      'database-url': world.appUrl,
      store: source,
      name: NAME,
      'encryption-recipient': world.recipient,
      ...extra,
    });
    expect(run.error).toBeUndefined();
    return run.outputs['backup-id']!;
  };
  ids = [await backup({}), await backup({ 'dump-jobs': '2' })];
});

afterAll(async () => {
  await Promise.all(opened.map((s) => s.close?.()));
  await Promise.all([
    world?.close(),
    s3?.stop(),
    cache?.stop(),
    ...dirs.map((d) => rm(d, { recursive: true, force: true })),
  ]);
});

async function freshDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'lifeboat-copy-'));
  dirs.push(dir);
  return dir;
}

/** A store prefix no other test uses. */
const freshS3 = () => `s3://${s3.bucket}/copy-${randomBytes(4).toString('hex')}`;

async function storeAt(spec: string): Promise<BackupStore> {
  const store = await openStore(parseStore(spec), {
    env,
    log: new MemoryLog(),
    githubToken: cache.env.GITHUB_TOKEN,
  });
  opened.push(store);
  return store;
}

/** Every object of the set, by key, as the SHA-256 of its bytes. */
async function contents(spec: string): Promise<Record<string, string>> {
  const store = await storeAt(spec);
  const out: Record<string, string> = {};
  for (const key of (await store.list(`${NAME}/`)).sort()) {
    out[key] = createHash('sha256')
      .update(await buffer(await store.get(key)))
      .digest('hex');
  }
  return out;
}

function copy(from: string, to: string, extra: Record<string, string> = {}) {
  return runLifeboat(
    {
      mode: 'copy',
      store: from,
      'copy-to': to,
      name: NAME,
      'github-token': cache.env.GITHUB_TOKEN!,
      ...extra,
    },
    { env },
  );
}

describe('mode copy', () => {
  it('copies every backup local → S3 → actions cache → local, byte for byte, each object read back', async () => {
    const s3Spec = freshS3();
    const back = await freshDir();
    const original = await contents(source);
    // Both backups, the parts of the parallel one included, and each manifest.
    expect(Object.keys(original)).toContain(partKey(NAME, ids[1]!, 2));
    expect(Object.keys(original)).toHaveLength(5);

    for (const [from, to] of [
      [source, s3Spec],
      [s3Spec, 'actions-cache'],
      ['actions-cache', back],
    ] as const) {
      const run = await copy(from, to, { 'backup-id': 'all' });
      expect(run.error, run.message).toBeUndefined();
      expect(run.outputs).toMatchObject({ copied: '2', skipped: '0' });
      expect(await contents(to)).toEqual(original);
      expect(run.log.text()).toMatch(/read back from .* matches its SHA-256/);
      expectNoSecrets(run.shown, world.secrets());
    }
    // The copy restores: a drill from the far end proves it with the identity.
    const drill = await runLifeboat({
      mode: 'drill',
      store: back,
      name: NAME,
      'target-url': world.cluster.url(),
      'encryption-identity': world.identity,
    });
    expect(drill.error, drill.message).toBeUndefined();
    expect(drill.outputs.status).toBe('passed');
  });

  it('copies nothing the second time, and copies only the latest by default', async () => {
    const s3Spec = freshS3();
    const first = await copy(source, s3Spec);
    expect(first.outputs).toMatchObject({ copied: '1', skipped: '0' });
    expect(await listBackupIds(await storeAt(s3Spec), NAME)).toEqual([ids[1]]);
    const all = await copy(source, s3Spec, { 'backup-id': 'all' });
    expect(all.outputs).toMatchObject({ copied: '1', skipped: '1' });
    const before = await contents(s3Spec);
    const writes = s3.operations.length;
    const again = await copy(source, s3Spec, { 'backup-id': 'all' });
    expect(again.error).toBeUndefined();
    expect(again.outputs).toMatchObject({ copied: '0', skipped: '2' });
    expect(s3.operations.slice(writes).filter((op) => /Put|Upload|Delete/.test(op))).toEqual([]);
    expect(await contents(s3Spec)).toEqual(before);
  });

  it('detects a destination that corrupts a byte, removes the copy and fails', async () => {
    const s3Spec = freshS3();
    s3.faults.corruptWrites = true;
    const run = await copy(source, s3Spec).finally(() => (s3.faults.corruptWrites = false));
    expect(run.code).toBe(1);
    expect(run.message).toMatch(/does not match its manifest: .* SHA-256/);
    expect(run.message).toMatch(/destination store lost or altered bytes/);
    expect(run.outputs).toMatchObject({ copied: '0', skipped: '0' });
    // Nothing half-copied stays behind: no manifest, no archive.
    expect(await (await storeAt(s3Spec)).list(`${NAME}/`)).toEqual([]);
  });

  it('refuses to copy a damaged source backup and leaves the destination without it', async () => {
    const damaged = await freshDir();
    await cp(source, damaged, { recursive: true });
    const file = path.join(damaged, archiveKey(NAME, ids[0]!));
    await writeFile(file, flipByte(await readFile(file), 200));
    const to = await freshDir();
    const run = await copy(damaged, to, { 'backup-id': 'all' });
    expect(run.code).toBe(1);
    expect(run.message).toMatch(/backup in the source store is damaged|1 of 2 backup\(s\) were not copied/);
    // The good one is copied all the same; the damaged one is not listed there.
    expect(run.outputs).toMatchObject({ copied: '1' });
    expect(await listBackupIds(await storeAt(to), NAME)).toEqual([ids[1]]);
  });

  it('applies retention (keep) to the destination only', async () => {
    const to = await freshDir();
    const run = await copy(source, to, { 'backup-id': 'all', keep: '1' });
    expect(run.error, run.message).toBeUndefined();
    expect(await listBackupIds(await storeAt(to), NAME)).toEqual([ids[1]]);
    expect(await listBackupIds(await storeAt(source), NAME)).toEqual([...ids].reverse());
  });

  it('refuses a copy-to that is the store itself, and a missing copy-to', async () => {
    const same = await copy(source, source);
    expect(same.code).toBe(2);
    expect(same.message).toMatch(/`copy-to` names the same store as `store`/);
    const missing = await runLifeboat({ mode: 'copy', store: source });
    expect(missing.code).toBe(2);
    expect(missing.message).toMatch(/Input `copy-to` is required for mode `copy`/);
  });

  it('copies between two S3 providers, the destination with credentials of its own', async () => {
    const other = await startS3Server();
    try {
      const from = freshS3();
      expect((await copy(source, from, { 'backup-id': 'all' })).outputs.copied).toBe('2');
      const to = `s3://${other.bucket}/offsite`;
      const own = Object.fromEntries(Object.entries(other.env).map(([k, v]) => [`LIFEBOAT_COPY_TO_${k}`, v]));
      const run = await runLifeboat(
        { mode: 'copy', store: from, 'copy-to': to, name: NAME, 'backup-id': 'all' },
        { env: { ...env, ...own } },
      );
      expect(run.error, run.message).toBeUndefined();
      expect(run.outputs.copied).toBe('2');
      expectNoSecrets(run.shown, [other.secretAccessKey, s3.secretAccessKey]);
      const there = await openStore(parseStore(to), { env: other.env, log: new MemoryLog() });
      expect(await listBackupIds(there, NAME)).toEqual([...ids].reverse());
    } finally {
      await other.stop();
    }
  });

  it('runs as the action: outputs and job summary through the runner files', async () => {
    const to = await freshDir();
    const run = await runAction({ mode: 'copy', store: source, 'copy-to': to, 'backup-id': 'all' });
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect(run.outputs).toMatchObject({ copied: '2', skipped: '0' });
    expect(run.summary).toMatch(/Lifeboat copy: done/);
    expect(await contents(to)).toEqual(await contents(source));
  });

  it('runs from the CLI: lifeboat copy --to DIR --all', async () => {
    const to = await freshDir();
    const cli = startCli(['copy', '--store', source, '--to', to, '--all'], { ...process.env });
    const done = await cli.done;
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toMatch(/^copied=2$/m);
    expect(done.stdout).toMatch(/^skipped=0$/m);
    expect(await contents(to)).toEqual(await contents(source));
  });
});
