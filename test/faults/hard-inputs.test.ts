/**
 * Inputs that break tools which build SQL or shell commands by string concatenation, and
 * sizes that break tools which hold a value in memory: identifiers with quotes, newlines,
 * unicode and SQL-looking text, a 50 MB row and large objects must back up and drill back
 * exactly. And interruptions: a signal in the middle of a backup or a drill must leave no
 * temporary file, no partial object in the store and no plaintext behind.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifest } from '../../src/archive/manifests.js';
import type { LocalStore } from '../../src/stores/local.js';
import { createS3Store } from '../../src/stores/s3.js';
import { startCacheServer, type CacheServer } from '../helpers/cache-server.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';
import { loadFixture } from '../helpers/fixtures.js';
import {
  faultWorld,
  expectWorldIntact,
  snapshot,
  type FaultWorld,
  changedFiles,
  fileState,
} from './assertions.js';
import { wrapperBinDir } from './inject.js';
import { runLifeboat, startCli, warmCli } from '../helpers/lifeboat.js';
import { startWorld, type SandboxedWorld } from '../helpers/world.js';

let a: SandboxedWorld;
let store: LocalStore;
let world: FaultWorld;
let hardUrl: string;
let cache: CacheServer;
let s3: S3TestServer;
/** A database whose archive is several 16 MiB parts: random bytes do not compress. */
let noisyUrl: string;

beforeAll(async () => {
  a = await startWorld({ sandbox: true, fixtures: ['awkward'] });
  hardUrl = await a.cluster.createDatabase('hard');
  await loadFixture(a.cluster, 'hard', 'awkward');
  await a.cluster.exec(
    `CREATE TABLE public."big ""row""" (id int PRIMARY KEY, payload bytea NOT NULL);
     INSERT INTO public."big ""row""" SELECT 1, decode(repeat(md5('fifty megabytes'), 3276800), 'hex');
     SELECT lo_from_bytea(0, convert_to(repeat('large object ' || n || E'\\n', 1000), 'UTF8'))
       FROM generate_series(1, 5) AS n;`,
    'hard',
  );
  noisyUrl = await a.cluster.createDatabase('noisy');
  await a.cluster.exec(
    `CREATE TABLE noise AS SELECT g AS id, decode(md5(random()::text) || md5(random()::text), 'hex') AS bytes
       FROM generate_series(1, 1500000) AS g;`,
    'noisy',
  );
  store = await a.sandbox.localStore('hard');
  cache = await startCacheServer();
  a.extraSecrets.push({ label: 'the Actions runtime token', value: cache.env.ACTIONS_RUNTIME_TOKEN! });
  s3 = await startS3Server();
  a.extraSecrets.push({ label: 'the S3 secret key', value: s3.secretAccessKey });
  world = faultWorld(a, [store], [await a.goodBackup(store)]);
  await warmCli(process.env);
});

afterAll(async () => {
  await s3?.stop();
  await cache?.stop();
  await a?.close();
});

describe('hard inputs', () => {
  it('backs up and drills back awkward identifiers, a 50 MB row and large objects, every table equal by content', async () => {
    const before = await snapshot(world);
    const keys = { 'encryption-recipient': a.recipient, 'encryption-identity': a.identity };
    const backup = await runLifeboat(
      {
        mode: 'backup',
        'database-url': hardUrl,
        store: 'given',
        name: 'hard',
        'verify-content': 'true',
        ...keys,
      },
      { store },
    );
    expect(backup.message).toBe('');
    const id = backup.outputs['backup-id']!;
    // pg_dump writes the 52 MB value as 104 MB of hex in one COPY line.
    expect((await readManifest(store, 'hard', id)).archive.dumpBytes).toBeGreaterThan(104e6);
    const drill = await runLifeboat(
      { mode: 'drill', store: 'given', name: 'hard', 'target-url': a.cluster.url(), ...keys },
      { store },
    );
    expect(drill.message).toBe('');
    const summary = drill.summaries.join('\n');
    expect(summary).toMatch(/Table contents \(fingerprint\) \| 7 \| ✅/);
    expect(summary).toMatch(/Large objects \| 1 \| ✅/);
    expect((await readManifest(store, 'hard', id)).verification.level).toBe('restored');
    await expectWorldIntact(
      world,
      before,
      { shown: backup.shown + drill.shown, outputs: {} },
      {
        verifiedAllowed: true,
      },
    );
  });
});

/** A tool that does its real work, then signals it is done and lingers, so Lifeboat is caught mid-step. */
async function lingeringTool(tool: 'pg_dump' | 'pg_restore'): Promise<{ bin: string; marker: string }> {
  const marker = path.join(a.sandbox.root, `${tool}-done-${Date.now()}`);
  const bin = await wrapperBinDir(a.sandbox.root, {
    // pg-bin-dir must hold both tools a backup uses: the other one simply runs.
    pg_dump: 'exec "$REAL" "$@"',
    pg_restore: 'exec "$REAL" "$@"',
    // Appended: a backup in parts runs one pg_dump per part, and every one lingers.
    [tool]: `"$REAL" "$@" || exit $?\necho $$ >> '${marker}'\nexec sleep 60`,
  });
  return { bin, marker };
}

async function waitUntil(
  condition: () => boolean,
  seconds = 30,
  what = 'the condition never held',
): Promise<void> {
  for (let waited = 0; !condition(); waited++) {
    if (waited >= seconds * 10) throw new Error(what);
    await delay(100);
  }
}

async function waitFor(file: string, seconds = 60): Promise<string> {
  await waitUntil(() => existsSync(file), seconds, `${file} never appeared`);
  return (await readFile(file, 'utf8')).trim();
}

describe('interrupted by a signal', () => {
  it.each([
    ['SIGTERM', 'a backup while its archive is being stored', 'pg_dump', 'local', 'backup'],
    [
      'SIGTERM',
      'a backup while the Actions cache store stages its archive',
      'pg_dump',
      'actions-cache',
      'backup',
    ],
    [
      'SIGTERM',
      'a backup while its archive is uploaded in parts to S3-compatible storage',
      'pg_dump',
      's3',
      'backup',
    ],
    ['SIGTERM', 'a backup while it reads its stored archive back', 'pg_restore', 'local', 'backup'],
    [
      'SIGTERM',
      'a backup dumped in parts while its parts are being stored',
      'pg_dump',
      'local',
      'parallel backup',
    ],
    ['SIGINT', 'a drill while pg_restore reads the streamed dump', 'pg_restore', 'local', 'drill'],
  ] as const)('%s during %s leaves nothing behind', async (signal, _what, tool, where, mode) => {
    const { bin, marker } = await lingeringTool(tool);
    const storeBefore = await fileState(store.root);
    const cacheBefore = cache.entries().length;
    const before = await snapshot(world);
    // Database URLs through the environment: the CLI refuses a password on its command line.
    const args =
      mode === 'drill'
        ? ['drill']
        : ['backup', '--name', 'interrupted', ...(mode === 'parallel backup' ? ['--dump-jobs', '2'] : [])];
    const urls =
      mode === 'drill'
        ? { LIFEBOAT_TARGET_URL: a.cluster.url() }
        : { DATABASE_URL: where === 's3' ? noisyUrl : a.appUrl };
    const stores = {
      local: { spec: store.root, env: {} },
      'actions-cache': { spec: 'actions-cache', env: { ...cache.env, RUNNER_TEMP: a.sandbox.runnerTemp } },
      s3: { spec: `s3://${s3.bucket}/interrupted`, env: s3.env },
    };
    const cli = startCli([...args, '--store', stores[where].spec, '--pg-bin-dir', bin], {
      ...process.env,
      ...stores[where].env,
      ...urls,
      LIFEBOAT_RECIPIENT: a.recipient,
      LIFEBOAT_IDENTITY: a.identity,
    });
    await waitFor(marker);
    // Every part's pg_dump has dumped and lingers: each part's archive is held open in the store.
    const dumps = mode === 'parallel backup' ? 2 : 1;
    await waitUntil(
      () => readFileSync(marker, 'utf8').split('\n').filter(Boolean).length >= dumps,
      30,
      `fewer than ${dumps} pg_dump processes finished`,
    );
    // Caught mid-upload: some parts are in, the archive's end is held back until pg_dump exits.
    if (where === 's3') await waitUntil(() => s3.operations.includes('UploadPart'));
    cli.child.kill(signal);
    const ended = await cli.done;
    // Lifeboat may have ended them already, on its way out.
    for (const pid of (await readFile(marker, 'utf8')).split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
    }
    expect(ended.signal ?? ended.code, ended.stderr).not.toBe(0);
    expect(changedFiles(storeBefore, await fileState(store.root))).toEqual([]);
    if (where === 'actions-cache') {
      // Not an entry, finalized or reserved: a reserved key would block the next save under it.
      expect(
        cache
          .entries()
          .slice(cacheBefore)
          .filter((e) => e.key.includes('interrupted')),
      ).toEqual([]);
    }
    if (where === 's3') {
      expect(await s3.pendingUploads()).toEqual([]);
      expect(await createS3Store(`s3://${s3.bucket}/interrupted`, s3.env).list('')).toEqual([]);
    }
    await expectWorldIntact(
      world,
      before,
      { shown: ended.stdout + ended.stderr, outputs: {} },
      {
        verifiedAllowed: false,
      },
    );
    // The drill database is dropped before the process dies of the signal.
    const left = await a.cluster.query(
      `SELECT datname FROM pg_database WHERE datname LIKE 'lifeboat_drill_%'`,
    );
    expect(left).toEqual([]);
    if (mode === 'drill') expect(ended.stderr).toMatch(/Dropped the drill database|got SIGINT/);
    await a.cluster.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname LIKE 'lifeboat_drill_%'`,
    );
    for (const { datname } of await a.cluster.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE 'lifeboat_drill_%'`,
    )) {
      await a.cluster.query(`DROP DATABASE "${datname}" WITH (FORCE)`);
    }
  });
});

describe('after every fault', () => {
  it('the good backup still restores by hand, every row back', async () => {
    await a.expectGoodRestorable(world.good);
  });
});
