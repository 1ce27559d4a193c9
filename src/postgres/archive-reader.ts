import { readSync } from 'node:fs';

/**
 * A sequential reader over a large buffer. Synchronous on purpose: a data section holds
 * one chunk per row, millions of them, and a promise per chunk would cost more than the
 * reading; nothing else runs while the drill indexes its archive.
 */
export class ArchiveReader {
  intSize = 4;
  private readonly buf = Buffer.allocUnsafe(4 * 1024 * 1024);
  private start = 0; // file position of buf[0]
  private len = 0;
  private at = 0;

  /** A file descriptor, or the head of an archive already in memory (read from a stream). */
  constructor(private readonly source: number | Buffer) {}

  private read(into: Buffer, offset: number, length: number, position: number): number {
    if (typeof this.source === 'number') return readSync(this.source, into, offset, length, position);
    if (position >= this.source.length) return 0;
    return this.source.copy(into, offset, position, Math.min(this.source.length, position + length));
  }

  position(): number {
    return this.start + this.at;
  }

  byte(): number {
    const b = this.byteOrEnd();
    if (b === undefined) throw new Error('the archive ends early');
    return b;
  }

  byteOrEnd(): number | undefined {
    if (this.at >= this.len && !this.fill(1)) return undefined;
    return this.buf[this.at++];
  }

  bytes(n: number): Buffer {
    if (this.at + n > this.len && !this.fill(n)) throw new Error('the archive ends early');
    const out = Buffer.from(this.buf.subarray(this.at, this.at + n));
    this.at += n;
    return out;
  }

  int(): number {
    if (this.at + 1 + this.intSize > this.len && !this.fill(1 + this.intSize)) {
      throw new Error('the archive ends early');
    }
    const negative = this.buf[this.at++] !== 0;
    let value: number;
    if (this.intSize === 4) {
      // Every archive pg_dump writes today: one call instead of a loop, for millions of chunk lengths.
      value = this.buf.readUInt32LE(this.at);
      this.at += 4;
    } else {
      value = 0;
      for (let b = 0; b < this.intSize; b++) value += this.buf[this.at++]! * 2 ** (8 * b);
    }
    return negative ? -value : value;
  }

  /** Skips a string and says whether it was null (the end of a dependency list). */
  str(): string | null {
    const length = this.int();
    if (length < 0) return null;
    this.skip(length);
    return '';
  }

  /** Reads a string (UTF-8, as pg_dump writes its archive's text); null for a null string. */
  text(): string | null {
    const length = this.int();
    return length < 0 ? null : this.block(length).toString('utf8');
  }

  /** `n` bytes, however many: longer than the buffer (a very large value) they are read on their own. */
  block(n: number): Buffer {
    if (n <= this.buf.length / 2) return this.bytes(n);
    const out = Buffer.allocUnsafe(n);
    const at = this.position();
    for (let got = 0; got < n;) {
      const read = this.read(out, got, n - got, at + got);
      if (read === 0) throw new Error('the archive ends early');
      got += read;
    }
    this.skip(n);
    return out;
  }

  skip(n: number): void {
    if (this.at + n <= this.len) {
      this.at += n;
      return;
    }
    // Past the buffer: start reading again at the new position.
    this.start = this.position() + n;
    this.len = 0;
    this.at = 0;
  }

  skipChunks(): void {
    for (let length = this.int(); length !== 0; length = this.int()) this.skip(length);
  }

  /** Moves the unread rest to the front and reads more; false at the end of the file. */
  private fill(need: number): boolean {
    const rest = this.len - this.at;
    this.buf.copy(this.buf, 0, this.at, this.len);
    this.start += this.at;
    this.at = 0;
    this.len = rest;
    while (this.len < need) {
      const n = this.read(this.buf, this.len, this.buf.length - this.len, this.start + this.len);
      if (n === 0) return false;
      this.len += n;
    }
    return true;
  }
}
