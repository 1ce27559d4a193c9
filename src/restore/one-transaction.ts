import { Transform, type TransformCallback } from 'node:stream';
import { NEWLINE, scanLines, type LineFilter } from './line-scan.js';

/**
 * Hands the transaction of `pg_restore --single-transaction --file=-` to whoever runs the
 * script. Without --single-transaction, pg_restore wraps large objects in a BEGIN/COMMIT
 * of their own, which would commit a restore halfway; with it, the script is one BEGIN at
 * the top and one COMMIT at the end. This drops that BEGIN (the runner opened the
 * transaction, with statements of its own in it) and holds back that COMMIT, so the runner
 * commits only once pg_restore has exited cleanly.
 *
 * The COMMIT is recognised by position: a `COMMIT;` line followed by nothing but comments
 * and `\unrestrict` to the end. One followed by anything else (a line of a procedure's
 * body, a row of data) is passed on as it came. Nothing else is changed: the script's own
 * text is never rewritten.
 *
 * On the way it notes where each entry starts (`-- TOC entry N`, printed with --verbose),
 * so an error psql reports at a line can name the object the archive was creating.
 */
export class OneTransactionScript extends Transform {
  /** True once the script ended with pg_restore's COMMIT: every entry was printed. */
  complete = false;
  /** True when the script began with `\restrict`, so psql runs none of its meta-commands. */
  restricted = false;
  /** Lines passed on so far. */
  lines = 0;
  /** The line (1-based, in what was passed on) where each entry's header starts, in order. */
  readonly entries: { line: number; id: number }[] = [];
  private started = false;
  private held: string[] = [];
  /** The current line so far, while it is short enough to be looked at (see LOOKED_AT). */
  private current: Buffer[] = [];
  private currentBytes = 0;
  /** The current line is a long comment, gathered whole (comments are never rows). */
  private longComment = false;
  /** The current line is a long statement or row, streaming out as it comes. */
  private streaming = false;
  /**
   * Inside the script with no COMMIT held, whole lines that are neither a COMMIT nor an
   * entry's header go out as they came, counted, without being copied one by one.
   */
  private readonly scan: LineFilter = {
    atRest: () => this.started && !this.held.length && !this.streaming && !this.currentBytes,
    ordinary: (bytes, at, end) => !lookedAt(bytes, at, end),
    append: (piece, out) => this.append(piece, out),
    endLine: (out) => this.endLine(out),
    passed: (lines) => (this.lines += lines),
  };

  // Bytes are passed on as they came and lines looked at as latin1, one character per byte:
  // a multi-byte character split between two chunks (or a dump in another encoding) passes
  // through exactly, where decoding each chunk as UTF-8 would corrupt it. Each chunk is
  // scanned once for line ends (line-scan.ts); a row is never gathered.
  override _transform(chunk: Buffer | string, _encoding: BufferEncoding, done: TransformCallback): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const out: Buffer[] = [];
    scanLines(bytes, this.scan, out);
    done(null, out.length === 1 ? out[0] : out.length ? Buffer.concat(out) : undefined);
  }

  override _flush(done: TransformCallback): void {
    const out: Buffer[] = [];
    if (this.streaming) {
      out.push(NEWLINE);
      this.streaming = false;
    }
    const last = this.currentBytes ? this.line(this.takeLine()) : [];
    if (this.held.length) {
      this.complete = true;
      last.push(...this.held.slice(1)); // everything after the COMMIT, without it
    }
    this.pass(last, out);
    done(null, out.length ? Buffer.concat(out) : undefined);
  }

  /** More of the current line. */
  private append(piece: Buffer, out: Buffer[]): void {
    if (this.streaming) {
      out.push(piece);
      return;
    }
    if (!piece.length) return;
    this.current.push(piece);
    this.currentBytes += piece.length;
    if (this.currentBytes <= LOOKED_AT || this.longComment) return;
    const start = Buffer.concat(this.current);
    if (start[0] === 0x2d && start[1] === 0x2d) {
      this.current = [start];
      this.longComment = true;
      return;
    }
    // Neither BEGIN, COMMIT, a comment nor a guard: a statement or a row, passed on as it comes.
    this.pass(this.beforeStatement(), out);
    this.lines++;
    out.push(start);
    this.current = [];
    this.currentBytes = 0;
    this.streaming = true;
  }

  private endLine(out: Buffer[]): void {
    if (this.streaming) {
      out.push(NEWLINE);
      this.streaming = false;
      return;
    }
    this.pass(this.line(this.takeLine()), out);
  }

  /**
   * What a line that is a statement or a row (not BEGIN, COMMIT, a comment or a guard) does
   * before it goes out, as line() does it: the script has started, and a COMMIT held back
   * was not the last one.
   */
  private beforeStatement(): string[] {
    this.started = true;
    const released = this.held;
    this.held = [];
    return released;
  }

  private takeLine(): string {
    const line = Buffer.concat(this.current).toString('latin1');
    this.current = [];
    this.currentBytes = 0;
    this.longComment = false;
    return line;
  }

  private pass(lines: string[], out: Buffer[]): void {
    this.count(lines);
    if (lines.length) out.push(Buffer.from(`${lines.join('\n')}\n`, 'latin1'));
  }

  private count(out: string[]): string[] {
    for (const line of out) {
      this.lines++;
      if (line.startsWith('-- TOC entry ')) {
        const id = /^-- TOC entry (\d+) \(/.exec(line)?.[1];
        if (id) this.entries.push({ line: this.lines, id: Number(id) });
      }
    }
    return out;
  }

  private line(line: string): string[] {
    if (!this.started) {
      if (RESTRICT.test(line)) this.restricted = true;
      if (line === 'BEGIN;') {
        this.started = true;
        return [];
      }
      if (!quiet(line)) this.started = true;
      return [line];
    }
    if (this.held.length) {
      if (quiet(line)) {
        this.held.push(line);
        return [];
      }
      const released = this.held;
      this.held = [];
      return [...released, ...this.line(line)];
    }
    if (line === 'COMMIT;') {
      this.held = [line];
      return [];
    }
    return [line];
  }
}

/**
 * The longest line looked at whole: `BEGIN;`, `COMMIT;`, comments and `\restrict` guards are
 * far shorter. A longer line that is not a comment is passed on as it streams.
 */
const LOOKED_AT = 1024;
const COMMIT = Buffer.from('COMMIT;');
const ENTRY = Buffer.from('-- TOC entry ');

/** Whether the line bytes[at, end) is one the script's handling looks at: a COMMIT or an entry's header. */
function lookedAt(bytes: Buffer, at: number, end: number): boolean {
  const length = end - at;
  if (length === COMMIT.length) return bytes.compare(COMMIT, 0, COMMIT.length, at, end) === 0;
  return length > ENTRY.length && bytes.compare(ENTRY, 0, ENTRY.length, at, at + ENTRY.length) === 0;
}

/** Lines that carry no statement: blank, comments, and psql's restrict guards. */
function quiet(line: string): boolean {
  return line === '' || line.startsWith('--') || /^\\(un)?restrict [A-Za-z0-9]+$/.test(line);
}

const RESTRICT = /^\\restrict [A-Za-z0-9]+$/;

/** Counts the lines of a piece of script that is Lifeboat's own (a refresh's masking), passing it on unchanged. */
export class CountedLines extends Transform {
  lines = 0;
  readonly entries: { line: number; id: number }[] = [];

  override _transform(chunk: Buffer | string, _encoding: BufferEncoding, done: TransformCallback): void {
    const text = typeof chunk === 'string' ? chunk : chunk.toString('latin1');
    for (const c of text) if (c === '\n') this.lines++;
    done(null, chunk);
  }
}
