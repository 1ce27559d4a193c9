import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isLifeboatError, LifeboatError } from '../errors.js';
import type { Log } from '../log.js';
import type { PgTool } from '../postgres/tools.js';
import { startChild } from '../process.js';
import type { BackupStore } from '../stores/store.js';
import { createDecryptStream } from './age/index.js';
import { HashCounter } from './hash.js';
import { ProgressMeter } from './progress.js';
import { startDecompressor } from './zstd.js';

export type DecryptKeys = { identities: string[] } | { passphrase: string };

export interface ReadBackResult {
  level: 'stored' | 'readable';
  /** Size of the plain pg_dump archive, known once it was decompressed. */
  dumpBytes: number | null;
  tocEntries: number | null;
}

/**
 * Reads the stored archive back, every byte. Level `stored`: its bytes hash to what was
 * written. Level `readable` (needs a key): every age chunk authenticates, zstd
 * decompresses to the end with its frame checksum, and pg_restore parses the table of
 * contents. `pg_restore --list` alone proves nothing: it reads only the start.
 */
export async function readBack(options: {
  store: BackupStore;
  key: string;
  sha256: string;
  sizeBytes: number;
  keys?: DecryptKeys;
  pgRestore?: PgTool;
  log: Log;
}): Promise<ReadBackResult> {
  const { store, key, log } = options;
  const source = await store.get(key).catch((error: unknown) => {
    if (!isLifeboatError(error, 'not-found')) throw error;
    throw new LifeboatError(
      'integrity',
      `The store acknowledged ${key}, but reading it back found nothing there: ${error.message}.`,
      {
        hint: 'The store lost an object it reported stored (a misbehaving S3-compatible service, say). Nothing was marked verified; check the store and take a new backup.',
        cause: error,
      },
    );
  });
  const hasher = new HashCounter();
  const meter = new ProgressMeter(log, 'Reading back');
  try {
    if (!options.keys || !options.pgRestore) {
      await pipeline(source, hasher, meter, sink());
      checkHash(hasher, options, key);
      return { level: 'stored', dumpBytes: null, tocEntries: null };
    }
    const zstd = startDecompressor();
    const toc = new TocReader(options.pgRestore);
    try {
      await Promise.all([
        pipeline(source, hasher, meter, createDecryptStream(options.keys), zstd.process.stdin!),
        pipeline(zstd.process.stdout!, toc),
        zstd.done,
      ]);
    } catch (error) {
      zstd.kill();
      toc.abort();
      throw error;
    }
    checkHash(hasher, options, key);
    const entries = await toc.entries();
    return { level: 'readable', dumpBytes: toc.bytes, tocEntries: entries };
  } finally {
    meter.stop();
  }
}

function checkHash(hasher: HashCounter, expected: { sha256: string; sizeBytes: number }, key: string): void {
  const digest = hasher.digest();
  if (hasher.bytes !== expected.sizeBytes || digest !== expected.sha256) {
    throw new LifeboatError(
      'integrity',
      `The stored archive ${key} does not match what was written: ${hasher.bytes} bytes with SHA-256 ${digest}, expected ${expected.sizeBytes} bytes with ${expected.sha256}.`,
      {
        hint: 'The store lost or altered bytes. Nothing was marked verified; check the store and take a new backup.',
      },
    );
  }
}

function sink(): Writable {
  return new Writable({ write: (_chunk, _enc, cb) => cb() });
}

/**
 * Feeds the decompressed dump to `pg_restore --list` (which reads only the header and
 * table of contents, then exits) and keeps counting to the very end, so the whole
 * stream is proven while the TOC is parsed by the tool that will restore it.
 */
class TocReader extends Writable {
  bytes = 0;
  private open = true;
  private readonly child;
  private listing = '';

  constructor(tool: PgTool) {
    super();
    this.child = startChild(tool.path, ['--list'], {
      label: `pg_restore ${tool.version} --list`,
      code: 'integrity',
      stdio: ['pipe', 'pipe', 'pipe'],
      hint: 'The archive decrypted and decompressed but is not a pg_dump custom-format archive this pg_restore can read.',
    });
    this.child.process.stdout!.setEncoding('utf8');
    this.child.process.stdout!.on('data', (text: string) => {
      this.listing += text;
    });
    const stdin = this.child.process.stdin!;
    stdin.on('error', () => {
      this.open = false; // pg_restore closes its input once it has read the TOC.
    });
    stdin.on('close', () => {
      this.open = false;
    });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.bytes += chunk.length;
    const stdin = this.child.process.stdin!;
    if (!this.open || stdin.destroyed) return callback();
    if (stdin.write(chunk)) return callback();
    const done = () => {
      stdin.off('drain', done);
      stdin.off('close', done);
      callback();
    };
    stdin.on('drain', done);
    stdin.on('close', done);
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.open) this.child.process.stdin!.end();
    callback();
  }

  abort(): void {
    this.child.kill();
  }

  async entries(): Promise<number> {
    await this.child.done;
    const lines = this.listing.split('\n').filter((l) => l.trim() && !l.startsWith(';'));
    if (lines.length === 0) {
      throw new LifeboatError('integrity', 'The archive has an empty table of contents.', {
        hint: 'pg_dump produced no objects; check the database and the role used for the backup.',
      });
    }
    return lines.length;
  }
}
