/**
 * What rekey tests share: a set of two backups under the world's key pair (the older one
 * dumped in parts, so a rekey can be stopped between the archives of one backup), copied
 * afresh into a directory store per test, and a second key pair to rekey to. Each backup is
 * proven to read with one key and not the other by fetching its every archive, and to
 * restore by a drill.
 */
import { createHash, randomBytes } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { generateIdentity } from '../../src/archive/age/index.js';
import { checkArchive } from '../../src/archive/plain-stream.js';
import { storedArchives } from '../../src/archive/manifest.js';
import { readManifest } from '../../src/archive/manifests.js';
import type { Manifest } from '../../src/archive/manifest.js';
import { MemoryLog } from '../../src/log.js';
import { LocalStore } from '../../src/stores/local.js';
import { parseStore } from '../../src/settings/values.js';
import { openStore } from '../../src/stores/open.js';
import { listBackupIds, type BackupStore } from '../../src/stores/store.js';
import type { S3TestServer } from './s3-server.js';
import { runLifeboat, startCli } from './lifeboat.js';
import type { World } from './world.js';

export const SET = 'production';

export interface RekeyWorld {
  /** The backup ids of the template set, oldest first (the first one in parts). */
  ids: string[];
  /** The key pair the backups are rekeyed to. */
  next: { identity: string; recipient: string };
  /** A fresh directory store holding a copy of the template set. */
  freshStore(): Promise<{ dir: string; store: LocalStore }>;
  /** A fresh S3 prefix holding a copy of the template set (copied there by mode copy). */
  freshS3(s3: S3TestServer): Promise<{ dir: string; store: BackupStore }>;
  /** `lifeboat rekey` in a child process, the old identity and the new one in its environment. */
  rekey(dir: string, args: string[], env?: NodeJS.ProcessEnv): ReturnType<typeof startCli>;
  cleanup(): Promise<void>;
}

export async function startRekeyWorld(world: World): Promise<RekeyWorld> {
  const dirs: string[] = [];
  const newDir = async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'lifeboat-rekey-'));
    dirs.push(dir);
    return dir;
  };
  const template = await newDir();
  const ids: string[] = [];
  for (const jobs of ['2', '1']) {
    const run = await runLifeboat({
      mode: 'backup',
      'database-url': world.appUrl,
      store: template,
      name: SET,
      'encryption-recipient': world.recipient,
      'encryption-identity': world.identity,
      'dump-jobs': jobs,
    });
    if (run.error) throw new Error(`the template backup failed: ${run.message}`);
    ids.push(run.outputs['backup-id']!);
  }
  const next = generateIdentity();
  return {
    ids,
    next,
    async freshStore() {
      const dir = await newDir();
      await cp(template, dir, { recursive: true });
      return { dir, store: new LocalStore(dir) };
    },
    rekey(dir, args, env = {}) {
      return startCli(['rekey', '--store', dir, '--recipient', next.recipient, ...args], {
        ...process.env,
        LIFEBOAT_IDENTITY: world.identity,
        LIFEBOAT_NEW_IDENTITY: next.identity,
        ...env,
      });
    },
    async freshS3(s3) {
      const dir = `s3://${s3.bucket}/rekey-${randomBytes(4).toString('hex')}`;
      const copy = await runLifeboat(
        { mode: 'copy', store: template, 'copy-to': dir, name: SET, 'backup-id': 'all' },
        { env: { ...process.env, ...s3.env } },
      );
      if (copy.error) throw new Error(`copying the template to S3 failed: ${copy.message}`);
      const store = await openStore(parseStore(dir), { env: s3.env, log: new MemoryLog() });
      return { dir, store };
    },
    cleanup: () =>
      Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))).then(() => undefined),
  };
}

/** Whether every archive of the backup decrypts, hashes to its manifest and decompresses with `identity`. */
export async function readsWith(store: BackupStore, manifest: Manifest, identity: string): Promise<boolean> {
  try {
    for (const [i] of storedArchives(manifest).entries())
      await checkArchive({ store, manifest, part: i + 1, keys: { identities: [identity] } });
    return true;
  } catch {
    return false;
  }
}

/**
 * Every backup of the template is still listed and reads with exactly one of the two keys
 * (the one its manifest names), and restores with it in a drill. Returns which key each needs.
 */
export async function expectEachReadable(
  world: World,
  rw: RekeyWorld,
  store: BackupStore,
  dir: string,
  options: { drill?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<('old' | 'new')[]> {
  expect(await listBackupIds(store, SET)).toEqual([...rw.ids].reverse());
  const keys: ('old' | 'new')[] = [];
  for (const id of rw.ids) {
    const manifest = await readManifest(store, SET, id);
    const key = manifest.recipients?.includes(rw.next.recipient) ? 'new' : 'old';
    const [right, wrong] =
      key === 'new' ? [rw.next.identity, world.identity] : [world.identity, rw.next.identity];
    expect(await readsWith(store, manifest, right), `${id} with the ${key} key`).toBe(true);
    expect(await readsWith(store, manifest, wrong), `${id} with the other key`).toBe(false);
    if (options.drill) {
      const drill = await runLifeboat(
        {
          mode: 'drill',
          store: dir,
          name: SET,
          'backup-id': id,
          'target-url': world.cluster.url(),
          'encryption-identity': right,
        },
        { env: options.env },
      );
      expect(drill.error, drill.message).toBeUndefined();
      expect(drill.outputs.status).toBe('passed');
    }
    keys.push(key);
  }
  return keys;
}

/** Every file of a directory store's set, by name, as its SHA-256. */
export async function fileHashes(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(path.join(dir, SET))).sort())
    out[name] = createHash('sha256')
      .update(await readFile(path.join(dir, SET, name)))
      .digest('hex');
  return out;
}
