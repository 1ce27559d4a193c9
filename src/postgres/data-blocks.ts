/**
 * The data blocks of a custom-format archive, scanned chunk by chunk as a stream delivers
 * them: which entry each block holds, and the rows of the blocks a caller keeps, without the
 * chunk lengths around them. What pg_restore reads from a directory archive's `<id>.dat` is
 * exactly those rows (COPY's text), so a kept block can be written to such a file or pipe.
 *
 * The chunks given are the scanner's to change (kept rows are moved within them).
 * Synchronous and allocation-free on purpose: a block is one chunk per row, millions of
 * them, and this runs on every byte of the archive in each stream that reads it. Layout as
 * in archive-rows.ts (pg_backup_custom.c): a type byte (1 data), the dump id, then chunks
 * of a length (sign byte, `intSize` little-endian bytes) and that many bytes, ending in a
 * zero length.
 */
export type BlockEvent =
  | { kind: 'start'; id: number }
  | { kind: 'end'; id: number }
  /** The chunk is used up: scan the next one. */
  | { kind: 'more' };

const BLOCK_DATA = 1;
const MORE: BlockEvent = { kind: 'more' };

type State = 'head' | 'type' | 'id' | 'length' | 'row';

export class DataBlockScanner {
  /** Keep the rows of the block that just started (set on its `start` event). */
  keep = false;
  private state: State;
  private headLeft: number;
  private id = 0;
  private rowLeft = 0;
  private readonly carry: Buffer;
  private carried = 0;
  private out: Buffer | undefined;
  private outStart = 0;
  private outEnd = 0;

  constructor(
    private readonly intSize: number,
    dataStart: number,
  ) {
    this.headLeft = dataStart;
    this.state = dataStart > 0 ? 'head' : 'type';
    this.carry = Buffer.alloc(1 + intSize);
  }

  /** Between blocks (or before the first): where a stream may end. */
  get betweenBlocks(): boolean {
    return this.state === 'type' || (this.state === 'head' && this.headLeft === 0);
  }

  /**
   * The rows kept since the last call, or undefined: a part of the chunk being scanned, valid
   * until the scan of it goes on (take them before calling scan again).
   */
  take(): Buffer | undefined {
    const out = this.out;
    this.out = undefined;
    return out && this.outEnd > this.outStart ? out.subarray(this.outStart, this.outEnd) : undefined;
  }

  /**
   * Scans `chunk` from `at` up to the next block's start or end, or to the chunk's end.
   * Returns where it stopped; call again from there after handling the event.
   */
  scan(chunk: Buffer, at: number): { at: number; event: BlockEvent } {
    const size = 1 + this.intSize;
    while (at < chunk.length) {
      if (this.state === 'length' && this.carried === 0 && this.intSize === 4) {
        // The common case, rows one after another whole in this chunk: no state kept per row.
        const keep = this.keep;
        while (at + 5 <= chunk.length) {
          if (chunk[at] !== 0) throw new Error(`a negative chunk length in the data of entry ${this.id}`);
          const length = chunk.readUInt32LE(at + 1);
          if (length === 0) {
            this.state = 'type';
            return { at: at + 5, event: { kind: 'end', id: this.id } };
          }
          const end = at + 5 + length;
          if (end > chunk.length) break;
          if (keep) this.keepBytes(chunk, at + 5, length);
          at = end;
        }
        if (at >= chunk.length) break;
      }
      switch (this.state) {
        case 'head': {
          const step = Math.min(this.headLeft, chunk.length - at);
          at += step;
          this.headLeft -= step;
          if (this.headLeft === 0) this.state = 'type';
          break;
        }
        case 'type': {
          const type = chunk[at++]!;
          if (type !== BLOCK_DATA) throw new Error(`a data block of unexpected type ${type}`);
          this.state = 'id';
          break;
        }
        case 'id':
        case 'length': {
          let value: number;
          if (this.carried === 0 && at + size <= chunk.length) {
            value = this.int(chunk, at);
            at += size;
          } else {
            const step = Math.min(size - this.carried, chunk.length - at);
            chunk.copy(this.carry, this.carried, at, at + step);
            this.carried += step;
            at += step;
            if (this.carried < size) return { at, event: MORE };
            value = this.int(this.carry, 0);
            this.carried = 0;
          }
          if (this.state === 'id') {
            this.id = value;
            this.state = 'length';
            return { at, event: { kind: 'start', id: value } };
          }
          if (value < 0) throw new Error(`a negative chunk length in the data of entry ${this.id}`);
          if (value === 0) {
            this.state = 'type';
            return { at, event: { kind: 'end', id: this.id } };
          }
          this.rowLeft = value;
          this.state = 'row';
          break;
        }
        case 'row': {
          const step = Math.min(this.rowLeft, chunk.length - at);
          if (this.keep) this.keepBytes(chunk, at, step);
          at += step;
          this.rowLeft -= step;
          if (this.rowLeft === 0) this.state = 'length';
          break;
        }
      }
    }
    return { at, event: MORE };
  }

  private int(from: Buffer, at: number): number {
    let value: number;
    if (this.intSize === 4) value = from.readUInt32LE(at + 1);
    else {
      value = 0;
      for (let b = 0; b < this.intSize; b++) value += from[at + 1 + b]! * 2 ** (8 * b);
    }
    return from[at] !== 0 ? -value : value;
  }

  /**
   * Rows are moved down over the chunk lengths between them, inside the chunk itself (the
   * scanner owns what it is given): one write for thousands of rows, and nothing allocated.
   */
  private keepBytes(chunk: Buffer, at: number, n: number): void {
    if (this.out !== chunk) {
      this.out = chunk;
      this.outStart = this.outEnd = at;
    }
    if (this.outEnd !== at) chunk.copyWithin(this.outEnd, at, at + n);
    this.outEnd += n;
  }
}
