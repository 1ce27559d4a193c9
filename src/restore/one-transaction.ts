import { Transform, type TransformCallback } from 'node:stream';

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
  private pending = '';
  private started = false;
  private held: string[] = [];

  // Bytes are read as latin1, one character per byte, and written back the same way: a
  // multi-byte character split between two chunks (or a dump in another encoding) passes
  // through exactly, where decoding each chunk as UTF-8 would corrupt it.
  override _transform(chunk: Buffer | string, _encoding: BufferEncoding, done: TransformCallback): void {
    const text = typeof chunk === 'string' ? Buffer.from(chunk).toString('latin1') : chunk.toString('latin1');
    const lines = (this.pending + text).split('\n');
    this.pending = lines.pop() ?? '';
    const out = this.count(lines.flatMap((line) => this.line(line)));
    done(null, out.length ? Buffer.from(`${out.join('\n')}\n`, 'latin1') : undefined);
  }

  override _flush(done: TransformCallback): void {
    const out = this.pending ? this.line(this.pending) : [];
    if (this.held.length) {
      this.complete = true;
      out.push(...this.held.slice(1)); // everything after the COMMIT, without it
    }
    this.count(out);
    done(null, out.length ? Buffer.from(`${out.join('\n')}\n`, 'latin1') : undefined);
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
