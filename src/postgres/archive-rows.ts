import { LifeboatError } from '../errors.js';
import type { ArchiveContents } from './archive-toc.js';

const BLOCK_DATA = 1;
const BLOCK_BLOBS = 3;

/**
 * The rows of one TABLE DATA entry as pg_dump stored them: COPY's text format, read from a
 * plaintext stream of the archive without pg_restore and without any SQL around them. One
 * chunk at a time, so memory stays flat whatever the table's size; the stream is read to its
 * end afterwards, so whoever opened it can check it whole.
 *
 * The layout (pg_backup_custom.c): ints are a sign byte plus `intSize` little-endian bytes;
 * data blocks are a type byte (1 data, 3 large objects), the dump id, then length-prefixed
 * chunks ending in a zero length; a large-objects block holds, per object, its oid and chunks.
 */
export async function* streamTableRows(
  stream: AsyncIterable<Buffer>,
  archive: ArchiveContents,
  dumpId: number,
): AsyncGenerator<Buffer> {
  if (archive.compressed) {
    throw new LifeboatError(
      'restore',
      'The archive compresses its own data, so its rows cannot be read directly.',
      {
        hint: 'Restore with a target-url user that may create databases (CREATEDB).',
      },
    );
  }
  const r = new StreamBytes(stream[Symbol.asyncIterator](), archive.intSize);
  await r.skip(archive.dataStart);
  for (;;) {
    const type = await r.byteOrEnd();
    if (type === undefined) throw new Error(`the archive holds no data block for entry ${dumpId}`);
    const id = await r.int();
    if (type === BLOCK_BLOBS) {
      while ((await r.int()) !== 0) await r.skipChunks();
      continue;
    }
    if (type !== BLOCK_DATA) throw new Error(`unknown block type ${type}`);
    if (id !== dumpId) {
      await r.skipChunks();
      continue;
    }
    for (let length = await r.int(); length !== 0; length = await r.int()) yield await r.bytes(length);
    await r.drain();
    return;
  }
}

/** Sequential reads over a stream's chunks: only what a read needs is held. */
class StreamBytes {
  private buf: Buffer = Buffer.alloc(0);
  private at = 0;

  constructor(
    private readonly source: AsyncIterator<Buffer>,
    private readonly intSize: number,
  ) {}

  private async more(): Promise<boolean> {
    const next = await this.source.next();
    if (next.done) return false;
    this.buf =
      this.at < this.buf.length ? Buffer.concat([this.buf.subarray(this.at), next.value]) : next.value;
    this.at = 0;
    return true;
  }

  private async need(n: number): Promise<void> {
    while (this.buf.length - this.at < n) if (!(await this.more())) throw new Error('the archive ends early');
  }

  async byteOrEnd(): Promise<number | undefined> {
    if (this.at >= this.buf.length && !(await this.more())) return undefined;
    return this.buf[this.at++];
  }

  async int(): Promise<number> {
    await this.need(1 + this.intSize);
    const negative = this.buf[this.at++] !== 0;
    let value = 0;
    for (let b = 0; b < this.intSize; b++) value += this.buf[this.at++]! * 2 ** (8 * b);
    return negative ? -value : value;
  }

  async bytes(n: number): Promise<Buffer> {
    await this.need(n);
    const out = Buffer.from(this.buf.subarray(this.at, this.at + n));
    this.at += n;
    return out;
  }

  async skip(n: number): Promise<void> {
    for (let left = n; left > 0;) {
      if (this.at >= this.buf.length && !(await this.more())) throw new Error('the archive ends early');
      const step = Math.min(left, this.buf.length - this.at);
      this.at += step;
      left -= step;
    }
  }

  async skipChunks(): Promise<void> {
    for (let length = await this.int(); length !== 0; length = await this.int()) await this.skip(length);
  }

  /** Reads the rest, keeping nothing. */
  async drain(): Promise<void> {
    while (await this.more()) this.at = this.buf.length;
  }
}
