/**
 * The world a fault row runs in, and what it must leave as it was.
 *
 * Each test file gets a private sandbox: TMPDIR and RUNNER_TEMP point into it, and its
 * local stores live in it, so every file Lifeboat or its child processes create during a
 * row can be found afterwards and searched for secrets and plaintext, with nothing from
 * other test files running alongside. Clusters start before the sandbox opens, so their
 * data directories (the databases themselves) stay outside it.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { createDecryptStream, decryptBytes } from '../../src/archive/age/index.js';
import { parseManifest, type Manifest } from '../../src/archive/manifest.js';
import type { DecryptKeys } from '../../src/archive/age/index.js';
import type { CatalogSnapshot } from '../../src/postgres/catalog.js';
import { createToolFinder } from '../../src/postgres/tools.js';
import { LocalStore } from '../../src/stores/local.js';
import type { BackupStore } from '../../src/stores/store.js';
import { archiveKey, manifestKey, MANIFEST_SUFFIX } from '../../src/archive/store-keys.js';
import type { Cluster } from '../helpers/cluster.js';
import { rowCounts } from '../helpers/fixtures.js';

export interface Sandbox {
  root: string;
  /** What TMPDIR (os.tmpdir()) points at while the sandbox is open. */
  tmp: string;
  /** What RUNNER_TEMP points at while the sandbox is open. */
  runnerTemp: string;
  /** A fresh local store directory inside the sandbox. */
  localStore(name: string): Promise<LocalStore>;
  close(): Promise<void>;
}

export async function openSandbox(): Promise<Sandbox> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'lifeboat-faults-'));
  const tmp = path.join(root, 'tmp');
  const runnerTemp = path.join(root, 'runner');
  const stores = path.join(root, 'stores');
  await Promise.all([tmp, runnerTemp, stores].map((d) => mkdir(d, { recursive: true })));
  const saved = { TMPDIR: process.env.TMPDIR, RUNNER_TEMP: process.env.RUNNER_TEMP };
  process.env.TMPDIR = tmp;
  process.env.RUNNER_TEMP = runnerTemp;
  return {
    root,
    tmp,
    runnerTemp,
    async localStore(name) {
      const dir = path.join(stores, name);
      await mkdir(dir, { recursive: true });
      return new LocalStore(dir);
    },
    async close() {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      await rm(root, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}

/** A backup taken before any fault, which no fault may touch. */
export interface GoodBackup {
  store: BackupStore;
  name: string;
  backupId: string;
  manifest: Manifest;
  manifestSha: string;
  archiveSha: string;
  /** What decrypts it. */
  keys: DecryptKeys;
}

export async function sha256Of(store: BackupStore, key: string): Promise<string> {
  return createHash('sha256')
    .update(await buffer(await store.get(key)))
    .digest('hex');
}

export async function recordGood(
  store: BackupStore,
  manifest: Manifest,
  keys: DecryptKeys,
): Promise<GoodBackup> {
  const { name, backupId } = manifest;
  return {
    store,
    keys,
    name,
    backupId,
    manifest,
    manifestSha: await sha256Of(store, manifestKey(name, backupId)),
    archiveSha: await sha256Of(store, archiveKey(name, backupId)),
  };
}

/** Why a good backup is no longer byte for byte what it was, or undefined when it is. */
export async function goodBackupProblem(good: GoodBackup): Promise<string | undefined> {
  const where = `${good.name}/${good.backupId}`;
  const sha = (key: string) => sha256Of(good.store, key).catch((e: Error) => `gone (${e.message})`);
  if ((await sha(manifestKey(good.name, good.backupId))) !== good.manifestSha)
    return `the manifest of ${where} changed or went`;
  if ((await sha(archiveKey(good.name, good.backupId))) !== good.archiveSha)
    return `the archive of ${where} changed or went`;
  return undefined;
}

/** Every manifest in a store: key → verification level, a hash of its bytes, and its text. */
export type ManifestState = Map<string, { level: string; sha: string; text: string }>;

export async function manifestState(store: BackupStore): Promise<ManifestState> {
  const state: ManifestState = new Map();
  for (const key of await store.list('')) {
    if (!key.endsWith(MANIFEST_SUFFIX)) continue;
    const bytes = await buffer(await store.get(key)).catch(() => undefined);
    if (!bytes) continue;
    let level = 'unparseable';
    try {
      level = parseManifest(bytes, key).verification.level;
    } catch {
      // A damaged manifest planted by a row still counts as present.
    }
    state.set(key, { level, sha: createHash('sha256').update(bytes).digest('hex'), text: bytes.toString() });
  }
  return state;
}

/** Files under a directory: path → size and mtime, skipping `exclude`d subtrees. */
export type FileState = Map<string, string>;

export async function fileState(root: string, exclude: string[] = []): Promise<FileState> {
  const state: FileState = new Map();
  const walk = async (dir: string): Promise<void> => {
    if (exclude.some((e) => dir === e || dir.startsWith(`${e}${path.sep}`))) return;
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else {
        const info = await stat(full).catch(() => undefined);
        if (info) state.set(full, `${info.size}:${info.mtimeMs}`);
      }
    }
  };
  await walk(root);
  return state;
}

/** The files that appeared or changed between two states. */
export function changedFiles(before: FileState, after: FileState): string[] {
  return [...after].filter(([file, sig]) => before.get(file) !== sig).map(([file]) => file);
}

/** Which of `needles` a file holds, by name (the needle itself is never returned). */
export async function needlesIn(
  file: string,
  needles: { label: string; bytes: Buffer }[],
): Promise<string[]> {
  const data = await readFile(file).catch(() => undefined);
  if (!data) return [];
  return needles.filter((n) => data.includes(n.bytes)).map((n) => n.label);
}

/** Top-level entries of a directory right now: the peers (S3, cache) a file started. */
export async function entriesOf(dir: string): Promise<Set<string>> {
  return new Set((await readdir(dir).catch(() => [])).map((e) => path.join(dir, e)));
}

/**
 * Restores a good backup the way a person would by hand (decrypt, decompress, pg_restore)
 * into a fresh database, and returns its exact row counts next to those its catalog recorded.
 */
export async function restoreGoodByHand(
  good: GoodBackup,
  cluster: Cluster,
): Promise<{ restored: Record<string, number>; recorded: Record<string, number> }> {
  const database = `good_${good.backupId.slice(-8)}_${Date.now() % 100000}`;
  await cluster.createDatabase(database);
  const pgRestore = (await createToolFinder().candidates('pg_restore'))[0]!;
  const child = spawn(pgRestore.path, ['--exit-on-error', '--no-owner', '-d', database], {
    env: {
      ...process.env,
      PGHOST: cluster.host,
      PGPORT: String(cluster.port),
      PGUSER: cluster.superuser,
      PGPASSWORD: cluster.password,
    },
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const zstd = spawn('zstd', ['-q', '-d', '-c'], { stdio: ['pipe', 'pipe', 'inherit'] });
  await Promise.all([
    pipeline(await good.store.get(good.manifest.archive.key), createDecryptStream(good.keys), zstd.stdin!),
    pipeline(zstd.stdout!, child.stdin!),
  ]);
  if ((await exited) !== 0) throw new Error(`pg_restore failed: ${stderr}`);
  const catalog = JSON.parse(
    (await decryptBytes(Buffer.from(good.manifest.catalog, 'base64'), good.keys)).toString(),
  ) as CatalogSnapshot;
  const recorded = Object.fromEntries(
    catalog.tables.filter((t) => t.kind === 'r').map((t) => [`${t.schema}.${t.name}`, t.rows ?? -1]),
  );
  const restored = await rowCounts(cluster, database);
  await cluster.query(`DROP DATABASE "${database}"`);
  return { restored, recorded };
}
