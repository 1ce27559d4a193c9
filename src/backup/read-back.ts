import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isLifeboatError, LifeboatError } from '../errors.js';
import type { Log } from '../log.js';
import { startListing } from '../postgres/pg-restore.js';
import type { PgTool } from '../postgres/tools.js';
import { setTimeout as delay } from 'node:timers/promises';
import { preferChildError, type Child } from '../process.js';
import type { BackupStore } from '../stores/store.js';
import { createDecryptStream, type DecryptKeys } from '../archive/age/index.js';
import { HashCounter } from '../archive/hash.js';
import { ProgressMeter } from '../archive/progress.js';
import { startDecompressionTest, startDecompressor, testedBytes } from '../archive/zstd.js';

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
 *
 * Node hashes and decrypts; the decompressed dump never passes through it. `zstd -t`
 * decompresses all of it and checks the frame checksum, and a second zstd feeds
 * pg_restore directly until it has read the table of contents. Routing the plaintext
 * through Node instead cost about a fifth more time (npm run bench).
 */
export async function readBack(options: {
  store: BackupStore;
  key: string;
  sha256: string;
  sizeBytes: number;
  keys?: DecryptKeys;
  pgRestore?: PgTool;
  log: Log;
  /** Which part of a parallel backup this is, for the progress lines. */
  label?: string;
  /** The database held no objects (see holdsNoObjects): an empty table of contents is its dump. */
  emptyAllowed?: boolean;
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
  const meter = new ProgressMeter(log, `Reading back${options.label ? ` ${options.label}` : ''}`);
  try {
    if (!options.keys || !options.pgRestore) {
      await pipeline(source, hasher, meter, sink());
      checkHash(hasher, options, key);
      return { level: 'stored', dumpBytes: null, tocEntries: null };
    }
    const test = startDecompressionTest();
    let toc: TocListing;
    try {
      toc = startTocListing(options.pgRestore);
    } catch (error) {
      test.kill();
      throw error;
    }
    try {
      await Promise.all([
        pipeline(
          source,
          hasher,
          meter,
          createDecryptStream(options.keys),
          new Tee(test.process.stdin!, toc.input),
        ),
        test.done,
        toc.done,
      ]);
    } catch (error) {
      source.destroy();
      const cause = await firstOwnFailure([test, toc.feeder], error);
      test.kill();
      toc.kill();
      throw cause;
    }
    checkHash(hasher, options, key);
    return {
      level: 'readable',
      dumpBytes: testedBytes(test.stderr()),
      tocEntries: toc.entries(options.emptyAllowed ?? false),
    };
  } finally {
    meter.stop();
  }
}

/**
 * A zstd that stopped on damaged data (or was killed, say by the kernel's OOM killer)
 * breaks the pipes around it, and pg_restore then fails on a short input: the zstd's own
 * error says why, so it wins. A zstd that died of a closed pipe (SIGPIPE) or is still
 * reading says nothing.
 */
async function firstOwnFailure(children: Child[], error: unknown): Promise<unknown> {
  await Promise.race([Promise.allSettled(children.map((c) => c.done)), delay(200)]);
  const ended = children.filter(
    ({ process: p }) => (p.exitCode !== null || p.signalCode !== null) && p.signalCode !== 'SIGPIPE',
  );
  return preferChildError(error, ended);
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

interface TocListing {
  /** Where the compressed dump goes; stops taking it once pg_restore has read the TOC. */
  input: Writable;
  /** The zstd that decompresses into pg_restore. */
  feeder: Child;
  done: Promise<void>;
  kill(): void;
  entries(emptyAllowed: boolean): number;
}

/**
 * zstd → `pg_restore --list`, joined by a pipe between the two processes. pg_restore
 * exits once it has read the table of contents; the zstd feeding it then dies of the
 * closed pipe, which is expected and says nothing about the archive (the test does).
 */
function startTocListing(tool: PgTool): TocListing {
  const list = startListing(tool);
  const feeder = startDecompressor(list.process.stdin!);
  // The feeder holds the pipe now; ours would keep pg_restore from seeing the end of its input.
  list.process.stdin!.destroy();
  let listing = '';
  list.process.stdout!.setEncoding('utf8');
  list.process.stdout!.on('data', (text: string) => (listing += text));
  const input = feeder.process.stdin!;
  input.on('error', () => undefined); // EPIPE once the feeder is gone: see above.
  return {
    input,
    feeder,
    done: list.done,
    kill() {
      list.kill();
      feeder.kill();
    },
    entries(emptyAllowed) {
      const lines = listing.split('\n').filter((l) => l.trim() && !l.startsWith(';'));
      if (lines.length === 0 && !emptyAllowed) {
        throw new LifeboatError('integrity', 'The archive has an empty table of contents.', {
          hint: 'pg_dump produced no objects; check the database and the role used for the backup.',
        });
      }
      return lines.length;
    },
  };
}

/**
 * Writes every chunk to the first stream and, while it stays open, to the second; waits
 * for both to take it, so the slower one sets the pace and memory stays bounded.
 */
class Tee extends Writable {
  private second: Writable | undefined;

  constructor(
    private readonly first: Writable,
    second: Writable,
  ) {
    super();
    this.second = second;
    // A reader that stopped breaks the pipe: the whole tee fails, and the caller says why.
    first.on('error', (error) => this.destroy(error));
    const drop = () => (this.second = undefined);
    second.once('error', drop);
    second.once('close', drop);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    let pending = 1;
    const settle = () => {
      if (--pending === 0) callback();
    };
    for (const target of [this.first, this.second]) {
      if (!target || target.destroyed) continue;
      pending++;
      if (target.write(chunk)) {
        settle();
        continue;
      }
      const resume = () => {
        target.off('drain', resume);
        target.off('close', resume);
        settle();
      };
      target.on('drain', resume);
      target.on('close', resume);
    }
    settle();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.first.end();
    if (this.second && !this.second.destroyed) this.second.end();
    callback();
  }
}
