import type { ArchiveContents, EntrySpan } from './archive-toc.js';

/** The header's format byte, after the int and offset sizes: 1 custom, 3 directory (as pg_dump -Fd writes it). */
const FORMAT_AT = 10;
const ARCH_DIRECTORY = 3;

/** A head and its entries' spans, as readArchiveHead gives them from a stream. */
export type ArchiveHead = Pick<ArchiveContents, 'spans' | 'dataStart' | 'intSize'> & { head: Buffer };

/** An entry of another archive (a data part of a parallel backup) added under a new dump id. */
export interface AddedEntry {
  from: ArchiveHead;
  span: EntrySpan;
  id: number;
  /** Its dependencies, in the merged archive's dump ids (its table's entry). */
  deps: number[];
}

/**
 * The `toc.dat` of a directory-format archive with the same entries as a custom-format
 * archive's head, each entry's rows named `<dump id>.dat` in the directory. pg_restore reads
 * a directory archive's rows from one file per entry, opened as it starts the entry, so the
 * files can be pipes fed from streams (see piped-restore.ts); a custom-format archive read
 * from a pipe allows one reader only.
 *
 * The two formats share the header and the entries; they differ in the format byte and in
 * each entry's last field (pg_backup_custom.c writes the data block's offset,
 * pg_backup_directory.c the file name, empty when the entry has no rows). `extraDeps` adds
 * dependencies (dump ids) to entries: pg_restore then starts an entry only once those are
 * done, which orders its reads of the pipes. `added` entries (the rows of a parallel
 * backup's parts) follow the main archive's. Pure.
 */
export function directoryToc(
  main: ArchiveHead,
  extraDeps: ReadonlyMap<number, readonly number[]> = new Map(),
  added: AddedEntry[] = [],
): Buffer {
  const { head, spans, intSize } = main;
  const intBytes = 1 + intSize;
  const out: Buffer[] = [];
  const firstAt = spans[0]?.start ?? main.dataStart;
  const header = Buffer.from(head.subarray(0, firstAt - intBytes));
  header[FORMAT_AT] = ARCH_DIRECTORY;
  out.push(header, int(spans.length + added.length, intSize));
  for (const span of spans) {
    out.push(head.subarray(span.start, span.extraAt - intBytes));
    for (const dep of extraDeps.get(span.id) ?? []) out.push(str(String(dep), intSize));
    out.push(int(-1, intSize), str(span.hasData ? `${span.id}.dat` : '', intSize));
  }
  for (const entry of added) {
    const { span } = entry;
    const size = 1 + entry.from.intSize;
    out.push(int(entry.id, intSize), entry.from.head.subarray(span.start + size, span.depsAt));
    for (const dep of [...entry.deps, ...(extraDeps.get(entry.id) ?? [])])
      out.push(str(String(dep), intSize));
    out.push(int(-1, intSize), str(`${entry.id}.dat`, intSize));
  }
  return Buffer.concat(out);
}

/** WriteInt: a sign byte, then the magnitude in `intSize` little-endian bytes. */
function int(value: number, intSize: number): Buffer {
  const out = Buffer.alloc(1 + intSize);
  out[0] = value < 0 ? 1 : 0;
  let n = Math.abs(value);
  for (let b = 1; b <= intSize; b++, n = Math.floor(n / 256)) out[b] = n % 256;
  return out;
}

/** WriteStr: the length as an int, then the bytes. */
function str(text: string, intSize: number): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  return Buffer.concat([int(bytes.length, intSize), bytes]);
}
