/**
 * The stream a drill or restore feeds pg_restore from: zstd writes the plaintext straight
 * into the child's standard input (it never passes through Node), and a stream that must be
 * checked is still read to its end, hashed and matched with the manifest when its reader
 * stops early. Real zstd, age and child processes; a local store.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encryptBytes, generateIdentity } from '../../src/archive/age/index.js';
import type { Manifest } from '../../src/archive/manifest.js';
import { archiveFeed, openPlainArchive, type ArchiveOpener } from '../../src/archive/plain-stream.js';
import { archiveKey } from '../../src/archive/store-keys.js';
import { startChild, type Child } from '../../src/process.js';
import { LocalStore } from '../../src/stores/local.js';
import { makeManifest } from '../helpers/manifest.js';

let dir: string;
let store: LocalStore;
let manifest: Manifest;
let plaintext: Buffer;
let file: string;
const { identity, recipient } = generateIdentity();
const keys = { identities: [identity] };

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'lifeboat-plain-stream-'));
  store = new LocalStore(dir);
  // 8 MiB, half of it incompressible: many age chunks and zstd blocks.
  plaintext = Buffer.concat([randomBytes(4 << 20), Buffer.alloc(4 << 20, 'COPY public.t (a) FROM stdin;\n')]);
  const compressed = execFileSync('zstd', ['-q', '-c', '--check'], { input: plaintext, maxBuffer: 64 << 20 });
  const stored = await encryptBytes(compressed, { recipients: [recipient] });
  const base = makeManifest({ name: 'stream', backupId: '20261207_010203_004_0a1b2c3d' });
  manifest = {
    ...base,
    archive: {
      ...base.archive,
      sizeBytes: stored.length,
      sha256: createHash('sha256').update(stored).digest('hex'),
    },
  };
  file = path.join(dir, archiveKey(manifest.name, manifest.backupId));
  await store.put(archiveKey(manifest.name, manifest.backupId), Readable.from([stored]));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const opener: ArchiveOpener = (feeding) => openPlainArchive({ store, manifest, part: 1, keys, ...feeding });

/** A child reading its standard input, its stdout collected. */
function reader(command: string, args: string[]): { child: Child; output: () => string } {
  const child = startChild(command, args, {
    label: command,
    code: 'internal',
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.process.stdout!.setEncoding('utf8').on('data', (text: string) => (output += text));
  return { child, output: () => output };
}

const digest = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('a plaintext stream fed straight into a child', () => {
  it('gives the child every byte of the dump, zstd writing into its stdin, not Node', async () => {
    let handed: Awaited<ReturnType<ArchiveOpener>> | undefined;
    const { child, output } = reader('sha256sum', []);
    await archiveFeed(async (feeding) => (handed = await opener(feeding)), true)(child);
    expect(output().split(' ')[0]).toBe(digest(plaintext));
    // No stdout for Node to read: the plaintext went from zstd to the child directly.
    expect(handed!.stdout).toBeNull();
    await expect(handed!.done).resolves.toEqual({
      sizeBytes: manifest.archive.sizeBytes,
      sha256: manifest.archive.sha256,
    });
  });

  it('reads a checked stream to its end and matches its SHA-256 though the child stopped early', async () => {
    let handed: Awaited<ReturnType<ArchiveOpener>> | undefined;
    const { child, output } = reader('head', ['-c', '1000']);
    await archiveFeed(async (feeding) => (handed = await opener(feeding)), true)(child);
    expect(output().length).toBeGreaterThan(0);
    await expect(handed!.done).resolves.toMatchObject({ sha256: manifest.archive.sha256 });
  });

  it('fails a checked stream whose stored bytes changed after the point where the child stopped reading', async () => {
    const saved = await readFile(file);
    const altered = Buffer.from(saved);
    altered[altered.length - 100]! ^= 0x01;
    await writeFile(file, altered);
    try {
      const { child } = reader('head', ['-c', '1000']);
      const fed = archiveFeed(opener, true)(child);
      await expect(fed).rejects.toMatchObject({ code: 'integrity' });
      await expect(fed).rejects.toThrow(/stream\/20261207_010203_004_0a1b2c3d\.dump\.zst\.age/);
    } finally {
      await writeFile(file, saved);
    }
  });

  it('lets a head-only reader go without reading the rest, and still feeds a reader that wants Node to copy', async () => {
    const { child } = reader('head', ['-c', '1000']);
    await expect(archiveFeed(opener, false)(child)).resolves.toBeUndefined();
    // An opener that ignores `into` hands Node the plaintext, which copies it into the child.
    const copied = reader('sha256sum', []);
    await archiveFeed(() => openPlainArchive({ store, manifest, part: 1, keys }), true)(copied.child);
    expect(copied.output().split(' ')[0]).toBe(digest(plaintext));
  });
});
