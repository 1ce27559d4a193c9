import { closeSync, openSync, writeSync } from 'node:fs';
import { ArchiveReader as Reader } from './archive-reader.js';

/**
 * Writes the data offsets into a custom-format archive that pg_dump wrote to a pipe.
 *
 * pg_dump records where each table's data starts only when its output is seekable. Ours
 * streams through zstd and age, so every TOC entry says "position not set", and each
 * parallel pg_restore worker then reads the archive from the top to find its table: a
 * restore with --jobs runs several times slower than from a file pg_dump wrote itself.
 * One sequential pass finds every data block; the fixed-size offset fields are then
 * patched in place, which is exactly what pg_dump does when it can seek.
 *
 * The layout (pg_backup_archiver.c, pg_backup_custom.c): ints are a sign byte plus
 * `intSize` little-endian bytes; strings an int length (-1 for null) plus bytes; each TOC
 * entry ends with a flag byte (1 not set, 2 set, 3 no data) and `offSize` offset bytes;
 * data blocks are a type byte (1 data, 3 large objects), the dump id, then length-prefixed
 * chunks ending in a zero length. Unknown versions are left alone: the restore still works.
 */
const OFFSET_NOT_SET = 1;
const OFFSET_SET = 2;
const BLOCK_DATA = 1;
const BLOCK_BLOBS = 3;
const SUPPORTED = { min: 12, max: 16 }; // archive versions 1.12 (PostgreSQL 9.6) to 1.16 (17)

export interface OffsetResult {
  /** Entries whose data position was written; 0 when the archive had them or was left alone. */
  patched: number;
  /** Why nothing was patched, when nothing was. */
  reason?: string;
}

export function addDataOffsets(file: string): OffsetResult {
  const fd = openSync(file, 'r+');
  try {
    const r = new Reader(fd);
    if (r.bytes(5).toString('latin1') !== 'PGDMP')
      return { patched: 0, reason: 'not a custom-format archive' };
    const major = r.byte();
    const minor = r.byte();
    r.byte(); // revision
    if (major !== 1 || minor < SUPPORTED.min || minor > SUPPORTED.max) {
      return { patched: 0, reason: `archive version 1.${minor} is not one this step knows` };
    }
    r.intSize = r.byte();
    const offSize = r.byte();
    if (r.byte() !== 1) return { patched: 0, reason: 'not a custom-format archive' };
    if (minor >= 15) r.byte();
    else r.int();
    for (let i = 0; i < 7; i++) r.int(); // creation time
    r.str(); // database name
    r.str(); // server version
    r.str(); // pg_dump version
    const unset = new Map<number, number>(); // dump id → position of its offset flag
    const count = r.int();
    for (let i = 0; i < count; i++) {
      const id = r.int();
      r.int(); // had a data dumper
      for (let s = 0; s < 4; s++) r.str(); // table oid, oid, tag, desc
      r.int(); // section
      for (let s = 0; s < 5; s++) r.str(); // definition, drop, copy, namespace, tablespace
      if (minor >= 14) r.str(); // table access method
      if (minor >= 16) r.int(); // relkind
      r.str(); // owner
      r.str(); // "false": WITH OIDS
      while (r.str() !== null); // dependencies
      const flagAt = r.position();
      if (r.byte() === OFFSET_NOT_SET) unset.set(id, flagAt);
      r.skip(offSize);
    }
    if (unset.size === 0) return { patched: 0, reason: 'the archive already records its data offsets' };
    const found = new Map<number, number>();
    for (;;) {
      const at = r.position();
      const type = r.byteOrEnd();
      if (type === undefined) break;
      const id = r.int();
      if (type !== BLOCK_DATA && type !== BLOCK_BLOBS)
        return { patched: 0, reason: `unknown block type ${type}` };
      found.set(id, at);
      if (type === BLOCK_DATA) r.skipChunks();
      else while (r.int() !== 0) r.skipChunks(); // each large object: its oid, then chunks
    }
    let patched = 0;
    for (const [id, flagAt] of unset) {
      const at = found.get(id);
      if (at === undefined) continue;
      const field = Buffer.alloc(1 + offSize);
      field[0] = OFFSET_SET;
      let value = BigInt(at);
      for (let b = 0; b < offSize; b++, value >>= 8n) field[1 + b] = Number(value & 0xffn);
      writeSync(fd, field, 0, field.length, flagAt);
      patched++;
    }
    return { patched };
  } finally {
    closeSync(fd);
  }
}
