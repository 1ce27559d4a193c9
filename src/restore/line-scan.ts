/**
 * The loop both script filters of a restore run over each chunk (OneTransactionScript for a
 * full restore, CopyRows for a selective one): they look at few lines, and a row may be
 * hundreds of megabytes, so each chunk is scanned once for line ends and no line is gathered
 * unless the filter asks for it.
 */
export interface LineFilter {
  /** At a line start with nothing held: whole ordinary lines may go out untouched. */
  atRest(): boolean;
  /** Whether the whole line bytes[at, end) (without its line end) may go out untouched. */
  ordinary(bytes: Buffer, at: number, end: number): boolean;
  /** More of the current line (up to a line end, or the chunk's end). */
  append(piece: Buffer, out: Buffer[]): void;
  /** The current line ended. */
  endLine(out: Buffer[]): void;
  /** This many ordinary lines just went out, before whatever comes next. */
  passed?(lines: number): void;
}

export const NEWLINE = Buffer.from('\n');

/**
 * Runs `bytes` through `filter`, adding what goes out to `out`; runs of ordinary whole lines
 * go out as ranges of the chunk, uncopied.
 */
export function scanLines(bytes: Buffer, filter: LineFilter, out: Buffer[]): void {
  for (let at = 0; at < bytes.length;) {
    if (filter.atRest()) {
      const from = at;
      let lines = 0;
      for (let end = bytes.indexOf(0x0a, at); end >= 0 && filter.ordinary(bytes, at, end);) {
        lines++;
        at = end + 1;
        end = bytes.indexOf(0x0a, at);
      }
      if (lines) {
        out.push(bytes.subarray(from, at));
        filter.passed?.(lines);
      }
      if (at >= bytes.length) break;
    }
    const end = bytes.indexOf(0x0a, at);
    filter.append(bytes.subarray(at, end < 0 ? bytes.length : end), out);
    if (end < 0) break;
    filter.endLine(out);
    at = end + 1;
  }
}
