import { closeSync, constants, existsSync, openSync, unlinkSync, write as fsWrite } from 'node:fs';
import { mkdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { ownFailure, type PlainArchive } from '../archive/plain-stream.js';
import { formatDuration } from '../duration.js';
import { LifeboatError } from '../errors.js';
import type { Log } from '../log.js';
import { startChild, type Child } from '../process.js';
import { writePrivateFile, type PrivateTempDir } from '../tempfiles.js';
import type { ArchiveContents } from './archive-toc.js';
import { DataBlockScanner } from './data-blocks.js';
import { runPgRestore, type RestoreOptions } from './pg-restore.js';
import { pipePlanRefusal, planPipes, type PipeLane } from './pipe-plan.js';
import { useList } from './restore-shares.js';

/**
 * A restore by one `pg_restore --jobs` whose archive is a directory of pipes: pg_restore
 * schedules the whole restore itself (its workers load rows, build each index and add each
 * foreign key as soon as it can, one connection each), as it does from a file, while the
 * rows stream from the store and never touch the disk.
 *
 * pg_restore cannot run workers over a custom-format archive on its standard input (they
 * seek in it). A directory archive is read one file per entry, each opened as a worker
 * starts that entry; here every `<id>.dat` is a named pipe, and the table of contents
 * (toc.dat, the schema without a row) is a link to a file this process holds open and has
 * already removed, so nothing of the dump outlives the process, even killed. The rows come
 * from lanes (pipe-plan.ts), each a stream of one archive that decrypts and decompresses it
 * in order and writes its tables' rows into their pipes as pg_restore opens them, skipping
 * the rest; each data part of a parallel backup is a lane of its own, so its bytes are read
 * once. Every archive is read to its end by one lane, so its SHA-256 is checked.
 */
export interface PipedRestoreOptions extends Omit<
  RestoreOptions,
  'file' | 'listFile' | 'sections' | 'jobs' | 'started' | 'beside'
> {
  jobs: number;
  /** Each archive's head, as readArchiveHead gives it from a stream: the main one first, then the data parts. */
  archives: ArchiveContents[];
  /** Entries of the main archive left out (what the profile skips). */
  skip: Set<number>;
  sizeOf: (schema: string | null, table: string) => number;
  /** A stream of archive `part`'s plaintext; `whole`: read to the end and checked; `first`: report progress. */
  open: (part: number, whole: boolean, first: boolean) => Promise<PlainArchive>;
  temp: PrivateTempDir;
  log?: Log;
}

/**
 * Why a restore cannot run through pipes, or undefined when it can: besides what the
 * archives hold (pipePlanRefusal), the table of contents needs a way to open a file already
 * removed (Linux's /proc).
 */
export function pipedRestoreRefusal(archives: ArchiveContents[]): string | undefined {
  // One archive read by several streams: each stream would pass every byte through Node to
  // find its tables' rows; several pg_restore processes fed straight by zstd cost less
  // (docs/performance.md).
  if (archives.length === 1) return 'one archive';
  if (!existsSync(`/proc/${process.pid}/fd`)) return 'this system has no /proc file descriptors';
  return pipePlanRefusal(archives);
}

export async function restorePiped(o: PipedRestoreOptions): Promise<void> {
  const { log } = o;
  const plan = planPipes(o.archives, o.skip, o.jobs, o.sizeOf);
  const dir = o.temp.file('archive');
  const pipeOf = (id: number) => path.join(dir, `${id}.dat`);
  await mkdir(dir, { mode: 0o700 });
  const tocFile = o.temp.file('toc.dat');
  await writePrivateFile(tocFile, plan.toc);
  const tocFd = openSync(tocFile, 'r');
  try {
    unlinkSync(tocFile);
    await symlink(`/proc/${process.pid}/fd/${tocFd}`, path.join(dir, 'toc.dat'));
    await makePipes(plan.pipes.map(pipeOf));
    const listFile = o.temp.file('piped.list');
    await writePrivateFile(
      listFile,
      useList(plan.wanted, () => true),
    );
    const started = performance.now();
    const tables = plan.lanes.reduce((n, l) => n + l.pipes.length, 0);
    log?.info(
      `Restoring with pg_restore --jobs=${o.jobs}, the rows of ${tables} ${tables === 1 ? 'table' : 'tables'} through named pipes from ${plan.lanes.length === 1 ? 'one stream' : `${plan.lanes.length} streams`} of the backup…`,
    );
    await runPgRestore({
      tool: o.tool,
      target: o.target,
      profile: o.profile,
      mask: o.mask,
      definitionsOnly: o.definitionsOnly,
      file: dir,
      listFile,
      jobs: o.jobs,
      beside: (child) => feedLanes(child, plan.lanes, pipeOf, o),
    });
    log?.info(`Restored in ${formatDuration((performance.now() - started) / 1000)}.`);
  } finally {
    closeSync(tocFd);
  }
}

/** `mkfifo`, a few hundred at a time: only the owner may read or write them. */
async function makePipes(paths: string[]): Promise<void> {
  for (let i = 0; i < paths.length; i += 200) {
    await startChild('mkfifo', ['-m', '600', ...paths.slice(i, i + 200)], {
      label: 'mkfifo',
      code: 'disk',
      stdio: ['ignore', 'ignore', 'pipe'],
      hint: 'The temporary directory must allow named pipes (any local Linux file system does).',
    }).done;
  }
}

/** A lane given up because pg_restore or another lane failed: not a cause of its own. */
class LaneStopped extends Error {}

/**
 * Runs every lane beside pg_restore. A lane that fails kills pg_restore before closing its
 * pipe (pg_restore must never take a cut-off table for a whole one); pg_restore failing
 * stops the lanes. The first cause is thrown: a lane's own failure (the archive's check),
 * else pg_restore's.
 */
async function feedLanes(
  child: Child,
  lanes: PipeLane[],
  pipeOf: (id: number) => string,
  o: PipedRestoreOptions,
): Promise<void> {
  const stop = new AbortController();
  let cause: unknown;
  void child.done.then(
    () => stop.abort(),
    () => stop.abort(),
  );
  const reporter = lanes.findIndex((l) => l.part === 1 && l.whole);
  const running = lanes.map((lane, i) =>
    feedLane(lane, {
      first: i === reporter,
      // More lanes than jobs: the later ones open their stream once pg_restore wants their
      // first rows, rather than hold a store download paused until then.
      late: i >= o.jobs && lane.pipes.length > 0,
      pipeOf,
      open: o.open,
      contents: o.archives[lane.part - 1]!,
      signal: stop.signal,
      child,
    }).catch((error: unknown) => {
      if (!(error instanceof LaneStopped)) cause ??= error;
      child.kill();
      stop.abort();
      throw error;
    }),
  );
  const [restored, ...fed] = await Promise.allSettled([child.done, ...running]);
  if (cause) throw cause;
  if (restored!.status === 'rejected') throw restored.reason;
  if (fed.some((r) => r.status === 'rejected')) {
    throw new LifeboatError('restore', 'pg_restore finished without reading the rows of every table.', {
      hint: 'This pg_restore reads a directory archive differently than Lifeboat expects; please report it with its version.',
    });
  }
}

interface LaneContext {
  first: boolean;
  late: boolean;
  pipeOf: (id: number) => string;
  open: PipedRestoreOptions['open'];
  contents: ArchiveContents;
  signal: AbortSignal;
  child: Child;
}

/** One stream of the archive: the rows of the lane's tables into their pipes, the rest skipped. */
async function feedLane(lane: PipeLane, c: LaneContext): Promise<void> {
  const { ids, pipes } = lane;
  const { contents } = c;
  let early = c.late ? await openWhenRead(c.pipeOf(pipes[0]!), c.signal) : undefined;
  let plain: PlainArchive;
  try {
    plain = await c.open(lane.part, lane.whole, c.first);
  } catch (error) {
    await early?.close();
    throw error;
  }
  const scanner = new DataBlockScanner(contents.intSize, contents.dataStart);
  let next = 0;
  let pipe: PipeWriter | undefined;
  try {
    for await (const chunk of plain.stdout!) {
      if (next === ids.length) continue; // the checking lane reads on to the end
      for (let at = 0; ;) {
        const { at: stop, event } = scanner.scan(chunk, at);
        at = stop;
        const rows = scanner.take();
        if (rows) await pipe!.write(rows);
        if (event.kind === 'more') break;
        if (event.kind === 'start') {
          scanner.keep = event.id === ids[next];
          if (scanner.keep) {
            pipe = early ?? (await openWhenRead(c.pipeOf(pipes[next]!), c.signal));
            early = undefined;
          }
        } else if (scanner.keep) {
          scanner.keep = false;
          await pipe!.close();
          pipe = undefined;
          if (++next === ids.length && !lane.whole) return plain.stop();
          if (next === ids.length) break;
        }
      }
    }
    if (next < ids.length) {
      throw new LifeboatError('integrity', `The archive ends before the rows of entry ${ids[next]}.`, {
        hint: 'The archive is truncated or not the one its manifest describes; use another backup.',
      });
    }
    if (lane.whole) await plain.done;
  } catch (error) {
    // pg_restore goes first: a pipe closed on a cut-off table would read as its end.
    c.child.kill();
    await pipe?.close();
    await early?.close();
    const stopped = error instanceof LaneStopped || c.signal.aborted;
    const own = stopped ? undefined : await ownFailure(plain);
    plain.stop();
    throw stopped ? new LaneStopped() : (own ?? error);
  }
}

/**
 * Opens a pipe for writing once pg_restore opened it for reading. A blocking open would
 * wait in one of libuv's four threads per pipe; a non-blocking one fails with ENXIO until
 * the reader is there, so it is retried (every millisecond, after 200 tries every 10). The
 * pipe is then opened again, blocking, for the writes: each write waits in the kernel while
 * pg_restore reads 4 KiB at a time, where a non-blocking pipe would wake Node for every
 * 4 KiB (measured: the writes cost twice the CPU).
 */
async function openWhenRead(pipe: string, signal: AbortSignal): Promise<PipeWriter> {
  for (let tries = 0; ; tries++) {
    let probe: number | undefined;
    try {
      probe = openSync(pipe, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENXIO') throw error;
    }
    if (probe !== undefined) {
      try {
        return new PipeWriter(openSync(pipe, constants.O_WRONLY));
      } finally {
        closeSync(probe);
      }
    }
    if (signal.aborted) throw new LaneStopped();
    // A worker usually comes within milliseconds; one busy building an index may take minutes.
    await delay(tries < 200 ? 1 : 10);
  }
}

/** Blocking writes to a pipe, each in libuv's thread pool; EPIPE once pg_restore is gone. */
class PipeWriter {
  private writing: Promise<void> = Promise.resolve();
  private closed = false;
  constructor(private readonly fd: number) {}

  write(rows: Buffer): Promise<void> {
    this.writing = (async () => {
      for (let at = 0; at < rows.length;) at += await writeAsync(this.fd, rows, at, rows.length - at);
    })();
    return this.writing;
  }

  /** Closes once no write is under way: a number closed under a write could be reused by another open. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writing.catch(() => undefined);
    closeSync(this.fd);
  }
}

const writeAsync = promisify(
  (fd: number, buffer: Buffer, offset: number, length: number, done: (e: Error | null, n: number) => void) =>
    fsWrite(fd, buffer, offset, length, null, done),
);
