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
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { createDecryptStream } from '../../src/archive/age/index.js';
import { parseManifest, type Manifest } from '../../src/archive/manifest.js';
import type { DecryptKeys } from '../../src/archive/age/index.js';
import { inspectDatabase } from '../../src/postgres/inspect.js';
import { LocalStore } from '../../src/stores/local.js';
import type { BackupStore } from '../../src/stores/store.js';
import { archiveKey, manifestKey, MANIFEST_SUFFIX } from '../../src/archive/store-keys.js';
import pg from 'pg';
import type { Cluster } from '../helpers/cluster.js';

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
  /** The source database when the backup was taken: every table's rows and content fingerprint. */
  source: Record<string, string>;
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
  source: Record<string, string>,
): Promise<GoodBackup> {
  const { name, backupId } = manifest;
  return {
    store,
    keys,
    source,
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

/** Every user table of a database: `schema.name` → rows and content fingerprint. */
export async function contents(cluster: Cluster, database: string): Promise<Record<string, string>> {
  const client = new pg.Client({ connectionString: cluster.url({ database }) });
  await client.connect();
  try {
    const { tables } = await inspectDatabase(client, { fingerprints: true });
    return Object.fromEntries(
      tables
        .filter((t) => t.kind === 'r')
        .map((t) => [`${t.schema}.${t.name}`, `${t.rows}:${t.fingerprint}`]),
    );
  } finally {
    await client.end();
  }
}

/**
 * Restores a good backup the way the README tells a person to, with the standard tools
 * alone: `age -d -i key.txt | zstd -d | pg_restore`, into a fresh database; returns its
 * contents, to compare with the source's when the backup was taken. (age reads a passphrase
 * only at a terminal, so a passphrase backup is decrypted by Lifeboat's own reader.)
 */
export async function restoreGoodByHand(good: GoodBackup, cluster: Cluster): Promise<Record<string, string>> {
  const database = `good_${good.backupId.slice(-8)}_${Date.now() % 100000}`;
  await cluster.createDatabase(database);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lifeboat-by-hand-'));
  try {
    const pgRestore = path.join(cluster.clientBinDir, 'pg_restore');
    const restore = spawn(pgRestore, ['--exit-on-error', '--no-owner', '-d', database], {
      env: {
        PATH: process.env.PATH,
        PGHOST: cluster.host,
        PGPORT: String(cluster.port),
        PGUSER: cluster.superuser,
        PGPASSWORD: cluster.password,
      },
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let stderr = '';
    restore.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const restored = new Promise<number | null>((resolve) => restore.on('close', resolve));
    const zstd = spawn('zstd', ['-q', '-d', '-c'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const archive = await good.store.get(good.manifest.archive.key);
    const identity = 'identities' in good.keys ? good.keys.identities[0] : undefined;
    if (identity) {
      const keyFile = path.join(dir, 'key.txt');
      await writeFile(keyFile, `${identity}\n`, { mode: 0o600 });
      const age = spawn('age', ['-d', '-i', keyFile], { stdio: ['pipe', 'pipe', 'inherit'] });
      const aged = new Promise<number | null>((resolve) => age.on('close', resolve));
      await Promise.all([
        pipeline(archive, age.stdin!),
        pipeline(age.stdout!, zstd.stdin!),
        pipeline(zstd.stdout!, restore.stdin!),
      ]);
      if ((await aged) !== 0) throw new Error('age -d failed');
    } else {
      await Promise.all([
        pipeline(archive, createDecryptStream(good.keys), zstd.stdin!),
        pipeline(zstd.stdout!, restore.stdin!),
      ]);
    }
    if ((await restored) !== 0) throw new Error(`pg_restore failed: ${stderr}`);
    return await contents(cluster, database);
  } finally {
    await cluster.query(`DROP DATABASE IF EXISTS "${database}"`);
    await rm(dir, { recursive: true, force: true });
  }
}
