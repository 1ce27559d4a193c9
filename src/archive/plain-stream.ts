import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { createDecryptStream, type DecryptKeys } from './age/index.js';
import { HashCounter } from './hash.js';
import { storedArchives, type Manifest } from './manifest.js';
import { ProgressMeter } from './progress.js';
import { archiveKeyOf, checkManifestKeys, generationOf } from './store-keys.js';
import { startDecompressor } from './zstd.js';
import { isLifeboatError, LifeboatError } from '../errors.js';
import type { Log } from '../log.js';
import type { Child } from '../process.js';
import type { BackupStore } from '../stores/store.js';

/**
 * One stored archive of a backup as a stream of its plaintext dump, never written to disk:
 * store → SHA-256 → age → zstd → `stdout`. pg_restore reads it on its standard input, so
 * a drill or a restore needs no room for the dump; a parallel restore opens one stream per
 * worker (decrypting again costs far less than loading the rows, see docs/performance.md).
 *
 * `done` resolves once every stored byte went through and hashed to the manifest's SHA-256,
 * age authenticated every chunk and zstd checked its frames; a reader that wants only the
 * head (the table of contents) calls `stop` instead and ignores `done`.
 */
export interface PlainArchive {
  /** The stored key, for messages. */
  key: string;
  /** The plaintext; null when zstd writes it straight `into` another process (see OpenArchiveOptions). */
  stdout: Readable | null;
  done: Promise<{ sizeBytes: number; sha256: string }>;
  /** Abandons the stream: the rest is no longer wanted. */
  stop(): void;
}

/** A stream abandoned by its reader: not a fault of the archive. */
export class StreamStopped extends Error {
  constructor(key: string) {
    super(`The stream of ${key} was stopped.`);
  }
}

/** The stream's own failure, if it failed by itself within a moment; else undefined. */
export async function ownFailure(plain: PlainArchive): Promise<unknown> {
  const own = await Promise.race([
    plain.done.then(
      () => undefined,
      (e: unknown) => e,
    ),
    delay(500, undefined),
  ]);
  return own instanceof StreamStopped ? undefined : own;
}

export interface OpenArchiveOptions {
  store: BackupStore;
  manifest: Manifest;
  /** 1 is the main archive, 2…N the data parts of a parallel backup. */
  part: number;
  keys: DecryptKeys;
  /** Reports progress of the stored bytes when given (one stream of several is enough). */
  log?: Log;
  signal?: AbortSignal;
  /**
   * zstd writes the plaintext straight into this pipe (a child's standard input) instead of
   * `stdout`, so the dump never passes through Node: copying it in and out of Node cost a
   * drill more CPU than decrypting it (docs/performance.md). Node keeps only its copy of
   * the encrypted bytes. When the child stops reading early zstd dies of SIGPIPE; the
   * child's own exit status says whether it had what it wanted.
   */
  into?: Writable;
  /**
   * Read every stored byte and check the SHA-256 against the manifest (the default). Off for a
   * reader that wants only a beginning of the archive: the rest is never fetched, and `done`
   * then never resolves with a checked hash.
   */
  check?: boolean;
}

/** What a reader of the plaintext, or a child fed by it, is handed by openPlainArchive's callers. */
export type ArchiveOpener = (o: { into?: Writable; check: boolean }) => Promise<PlainArchive>;

export async function openPlainArchive(o: OpenArchiveOptions): Promise<PlainArchive> {
  const { manifest } = o;
  const check = o.check ?? true;
  // Read from the key derived from the set name, backup id and part number, never from
  // the manifest's own field: a forged one could name another backup's archive.
  checkManifestKeys(manifest, `of backup ${manifest.name}/${manifest.backupId}`);
  const archive = storedArchives(manifest)[o.part - 1];
  if (!archive)
    throw new LifeboatError('internal', `Backup ${manifest.backupId} has no archive part ${o.part}.`);
  const key = archiveKeyOf(manifest.name, manifest.backupId, o.part, generationOf(manifest));
  const source = await o.store.get(key);
  const hasher = check ? new HashCounter() : undefined;
  // A child that exited already has no pipe left to take: zstd then writes nowhere and the
  // child's own exit status says what went wrong.
  const into = o.into ? (o.into.destroyed ? 'ignore' : o.into) : undefined;
  const zstd = startDecompressor(into ?? 'pipe');
  // zstd holds its own end of the child's pipe: ours must close, or the child never sees the end.
  if (o.into && !o.into.destroyed) o.into.destroy();
  const stdout = into ? null : zstd.process.stdout!;
  let stopped = false;
  const sink = into ? new ZstdSink(zstd, check) : zstd.process.stdin!;
  const stages = [
    source,
    ...(hasher ? [hasher] : []),
    ...(o.log ? [new ProgressMeter(o.log, `Streaming ${key}`)] : []),
  ];
  const flowing = pipeline([...stages, createDecryptStream(o.keys), sink], { signal: o.signal });
  // Writing into a child, zstd dying of SIGPIPE means the child stopped reading: not a fault.
  const decompressed = into ? zstd.done.catch((error: unknown) => readerLeft(zstd, error)) : zstd.done;
  const done = (async () => {
    try {
      await Promise.all([flowing, decompressed]);
    } catch (error) {
      zstd.kill();
      source.destroy();
      // Its reader let go (a table of contents was all it wanted): zstd then dies of SIGPIPE.
      if (stopped || error instanceof ReaderLeft || (stdout && stdout.destroyed && !stdout.readableEnded))
        throw new StreamStopped(key);
      // A backup may be several archives: say which one failed to decrypt.
      if (isLifeboatError(error, 'integrity') && !error.message.includes(key)) {
        throw new LifeboatError('integrity', `Reading ${key}: ${error.message}`, {
          hint: error.hint,
          cause: error,
        });
      }
      throw error;
    }
    if (!hasher) throw new StreamStopped(key);
    const sha256 = hasher.digest();
    if (hasher.bytes !== archive.sizeBytes || sha256 !== archive.sha256) {
      throw new LifeboatError(
        'integrity',
        `The stored archive ${key} does not match its manifest: ${hasher.bytes} bytes with SHA-256 ${sha256}, the manifest says ${archive.sizeBytes} bytes with ${archive.sha256}.`,
        { hint: 'The store lost or altered bytes since the backup; use another backup and check the store.' },
      );
    }
    return { sizeBytes: hasher.bytes, sha256 };
  })();
  done.catch(() => undefined); // a head-only reader never awaits it
  return {
    key,
    stdout,
    done,
    stop: () => {
      stopped = true;
      source.destroy();
      zstd.kill();
      stdout?.destroy();
    },
  };
}

/** zstd's reader (a child fed directly) closed its input before the end. */
class ReaderLeft extends Error {}

/** zstd killed by SIGPIPE: its reader left, which is not a failure of the archive. */
function readerLeft(zstd: Child, error: unknown): void {
  if (zstd.process.signalCode !== 'SIGPIPE') throw error;
}

/**
 * zstd's standard input, for a zstd writing into a child: once zstd is gone (its reader
 * left, so it died of SIGPIPE) the rest of the archive is still read, hashed and decrypted
 * but thrown away when `drain` (the SHA-256 covers every stored byte), else the stream stops.
 */
class ZstdSink extends Writable {
  private gone = false;
  private readonly stdin: Writable;

  constructor(
    zstd: Child,
    private readonly drain: boolean,
  ) {
    super();
    this.stdin = zstd.process.stdin!;
    // EPIPE once zstd exited: expected, zstd's exit status says how it went.
    this.stdin.on('error', () => (this.gone = true));
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.gone) return callback(this.drain ? null : new ReaderLeft());
    this.stdin.write(chunk, (error) => {
      if (error) this.gone = true;
      callback(this.gone && !this.drain ? new ReaderLeft() : null);
    });
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.gone) this.stdin.end();
    callback();
  }
}

/**
 * Reads a whole archive and throws away the plaintext: proves the stored bytes match the
 * manifest, decrypt and decompress, before anything is changed. Memory and disk stay flat.
 */
export async function checkArchive(o: OpenArchiveOptions): Promise<{ sizeBytes: number; dumpBytes: number }> {
  const plain = await openPlainArchive(o);
  let dumpBytes = 0;
  try {
    for await (const chunk of plain.stdout!) dumpBytes += (chunk as Buffer).length;
  } catch (error) {
    const own = await ownFailure(plain);
    plain.stop();
    throw own ?? error;
  }
  const { sizeBytes } = await plain.done;
  return { sizeBytes, dumpBytes };
}

/**
 * Reads only the head of an archive (its table of contents) with `read`, then abandons the
 * stream. A failure of the stream itself (decryption) is reported over the parser's.
 */
export async function readHead<T>(
  open: () => Promise<PlainArchive>,
  read: (stdout: Readable) => Promise<T>,
): Promise<T> {
  const plain = await open();
  try {
    return await read(plain.stdout!);
  } catch (error) {
    throw (await ownFailure(plain)) ?? error;
  } finally {
    plain.stop();
  }
}

/**
 * What a child reading an archive on its stdin (pg_restore) is given: a function that
 * opens the stream, feeds the child and settles once both are through. `whole`: the child
 * reads the data, and the stream is read to its end and checked against the manifest even
 * where the child stopped reading early (after its last entry); otherwise the child needs
 * only a beginning (the table of contents, or rows up to its last entry) and the rest is
 * never fetched. An opener that honours `into` has zstd write straight into the child.
 */
export function archiveFeed(open: ArchiveOpener, whole: boolean): (child: Child) => Promise<void> {
  return async (child) => {
    const stdin = child.process.stdin!;
    let plain: PlainArchive;
    try {
      plain = await open({ into: stdin, check: whole });
    } catch (error) {
      child.kill();
      throw error;
    }
    try {
      const fed = plain.stdout ? feed(plain, plain.stdout, stdin, whole) : whole ? plain.done : undefined;
      await Promise.all([fed, child.done]);
    } catch (error) {
      // The archive's own failure is the cause when there is one: the child only saw its input end.
      const own = await ownFailure(plain);
      child.kill();
      plain.stop();
      throw own ?? error;
    }
    if (!whole) plain.stop();
  };
}

/** Copies the plaintext into `stdin`, with back-pressure; see archiveFeed for `whole`. */
async function feed(plain: PlainArchive, stdout: Readable, stdin: Writable, whole: boolean): Promise<void> {
  let open = true;
  let wake = () => {};
  const closed = () => {
    open = false;
    wake();
  };
  // EPIPE once the child stopped reading: expected, the child's exit status says how it went.
  stdin.on('error', closed).on('close', closed);
  for await (const chunk of stdout) {
    if (!open) {
      if (whole) continue;
      break;
    }
    if (!stdin.write(chunk)) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        stdin.once('drain', resolve);
        if (!open) resolve();
      });
      stdin.off('drain', wake);
    }
  }
  if (open) stdin.end();
  if (whole) await plain.done;
  else plain.stop();
}
