/**
 * The Lifeboat under test: the bundled CLI run as its own process (so its memory is
 * measured alone), an age key pair, and a local store directory.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { decryptBytes, generateIdentity } from '../src/archive/age/index.js';
import type { CatalogSnapshot } from '../src/postgres/catalog.js';

export interface LifeboatCli {
  /** The bundled CLI file, run with `node`. */
  file: string;
  /** How it was obtained, for the report. */
  source: string;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const at = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(at) : statSync(at).mtimeMs);
  }
  return newest;
}

/**
 * `dist/cli.js` when it is newer than every source file; otherwise a fresh bundle of
 * src/cli.ts made the way `npm run bundle` makes it (ncc), in `workDir`, so the numbers
 * always describe the code in the working tree and dist/ is left alone.
 */
export async function prepareCli(
  root: string,
  workDir: string,
  log: (line: string) => void,
  given?: string,
): Promise<LifeboatCli> {
  if (given) return { file: path.resolve(given), source: `${given} (given with --cli)` };
  const dist = path.join(root, 'dist', 'cli.js');
  const sourceTime = newestMtime(path.join(root, 'src'));
  const distTime = (() => {
    try {
      return statSync(dist).mtimeMs;
    } catch {
      return 0;
    }
  })();
  if (distTime > sourceTime) return { file: dist, source: 'dist/cli.js (newer than every file in src/)' };
  log('dist/cli.js is older than src/: bundling src/cli.ts with ncc into a temp dir…');
  const out = path.join(workDir, 'cli');
  await new Promise<void>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        path.join(root, 'node_modules/@vercel/ncc/dist/ncc/cli.js'),
        'build',
        'src/cli.ts',
        '-o',
        out,
        '--transpile-only',
        '-q',
      ],
      { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] },
    );
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`ncc exited with ${code}`))));
  });
  return { file: path.join(out, 'index.js'), source: 'fresh ncc bundle of src/cli.ts (dist/ was stale)' };
}

export interface Keys {
  recipient: string;
  identityFile: string;
}

export async function makeKeys(dir: string): Promise<Keys> {
  const { identity, recipient } = generateIdentity();
  const identityFile = path.join(dir, 'bench-identity.txt');
  await writeFile(identityFile, `${identity}\n`, { mode: 0o600 });
  return { recipient, identityFile };
}

/** The newest archive and its manifest in a local store's set directory. */
export function newestBackup(storeDir: string, name: string): { archive: string; manifest: Manifest } {
  const dir = path.join(storeDir, name);
  const manifests = readdirSync(dir)
    .filter((f) => f.endsWith('.manifest.json'))
    .sort();
  const latest = manifests.at(-1);
  if (!latest) throw new Error(`no manifest in ${dir}`);
  const manifest = JSON.parse(readFileSync(path.join(dir, latest), 'utf8')) as Manifest;
  return { archive: path.join(storeDir, manifest.archive.key), manifest };
}

/** The parts of a manifest the bench reads. */
export interface Manifest {
  backupId: string;
  archive: {
    key: string;
    sizeBytes: number;
    dumpBytes: number | null;
    sha256: string;
    tocEntries: number | null;
    /** The data parts of a backup dumped in parallel (`--dump-jobs`). */
    parts?: { key: string; sizeBytes: number }[];
  };
  verification: { level: string };
  durationSeconds: number;
  /** The age-encrypted catalog snapshot, base64. */
  catalog: string;
}

/** Stored bytes of a backup, every part included. */
export function storedBytes(manifest: Manifest): number {
  return manifest.archive.sizeBytes + (manifest.archive.parts ?? []).reduce((n, p) => n + p.sizeBytes, 0);
}

/** Whether the backup recorded content fingerprints (the drill then checks them too). */
export async function hasFingerprints(manifest: Manifest, keys: Keys): Promise<boolean> {
  const identity = (await readFile(keys.identityFile, 'utf8')).trim();
  const plain = await decryptBytes(Buffer.from(manifest.catalog, 'base64'), { identities: [identity] });
  const catalog = JSON.parse(plain.toString('utf8')) as CatalogSnapshot;
  return catalog.tables.some((t) => t.fingerprint !== undefined);
}

/** The Lifeboat CLI's own log lines that end each phase of a backup. */
export const BACKUP_MARKS = {
  connected: /^Server PostgreSQL/,
  stored: /^Stored /,
  verified: /^Backup \S+ verified/,
};
