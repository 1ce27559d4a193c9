import { closeSync, openSync } from 'node:fs';
import { LifeboatError } from '../errors.js';
import { ArchiveReader } from './archive-reader.js';

/**
 * The table of contents of a custom-format archive, read from the file itself rather than
 * from `pg_restore --list`: with each entry's dependencies, which the listing does not
 * print, and the COPY statement of its rows. A selective restore needs both to restore a
 * table with exactly what its definition depends on (schema, types, collations, parent
 * tables), and nothing else.
 *
 * The layout is pg_backup_archiver.c's ReadHead and ReadToc; versions 1.12 (PostgreSQL
 * 9.6) to 1.16 (17). An archive of another version is refused by name.
 */
export interface ArchiveEntry {
  id: number;
  /** The object's oid in the source; a TABLE DATA entry carries its table's. */
  oid: string;
  desc: string;
  namespace: string | null;
  tag: string;
  owner: string;
  /** 1 none, 2 pre-data, 3 data, 4 post-data. */
  section: number;
  /** Dump ids of the entries this one depends on. */
  deps: number[];
  /** `COPY public.t (a, b) FROM stdin;` for a TABLE DATA entry. */
  copyStmt: string | null;
}

export const SECTION = { none: 1, preData: 2, data: 3, postData: 4 } as const;
const SUPPORTED = { min: 12, max: 16 };

export function readArchiveToc(file: string): ArchiveEntry[] {
  return readArchive(file).entries;
}

/** The table of contents, and what reading the data blocks after it needs. */
export interface ArchiveContents {
  entries: ArchiveEntry[];
  /** Where the data blocks start. */
  dataStart: number;
  intSize: number;
  /** pg_dump compressed the data itself (Lifeboat's backups never ask it to). */
  compressed: boolean;
}

export function readArchive(file: string): ArchiveContents {
  const fd = openSync(file, 'r');
  try {
    const r = new ArchiveReader(fd);
    const fail = (why: string) =>
      new LifeboatError('integrity', `Cannot read the archive's table of contents: ${why}.`, {
        hint: 'The archive decrypted but is not one Lifeboat can read; restore it in full instead.',
      });
    if (r.bytes(5).toString('latin1') !== 'PGDMP') throw fail('not a custom-format archive');
    const major = r.byte();
    const minor = r.byte();
    r.byte(); // revision
    if (major !== 1 || minor < SUPPORTED.min || minor > SUPPORTED.max)
      throw fail(`archive version ${major}.${minor} is not one this step knows`);
    r.intSize = r.byte();
    const offSize = r.byte();
    if (r.byte() !== 1) throw fail('not a custom-format archive');
    const compressed = minor >= 15 ? r.byte() !== 0 : r.int() !== 0;
    for (let i = 0; i < 7; i++) r.int(); // creation time
    r.str(); // database name
    r.str(); // server version
    r.str(); // pg_dump version
    const entries: ArchiveEntry[] = [];
    const count = r.int();
    for (let i = 0; i < count; i++) {
      const id = r.int();
      r.int(); // had a data dumper
      r.str(); // catalog table oid
      const oid = r.text() ?? '';
      const tag = r.text() ?? '';
      const desc = r.text() ?? '';
      const section = r.int();
      r.str(); // definition
      r.str(); // drop statement
      const copyStmt = r.text();
      const namespace = r.text();
      r.str(); // tablespace
      if (minor >= 14) r.str(); // table access method
      if (minor >= 16) r.int(); // relkind
      const owner = r.text() ?? '';
      r.str(); // "false": WITH OIDS
      const deps: number[] = [];
      for (let dep = r.text(); dep !== null; dep = r.text()) deps.push(Number(dep));
      r.byte(); // data offset flag
      r.skip(offSize);
      entries.push({ id, oid, desc, namespace: namespace || null, tag, owner, section, deps, copyStmt });
    }
    return { entries, dataStart: r.position(), intSize: r.intSize, compressed };
  } finally {
    closeSync(fd);
  }
}

/**
 * The pre-data entries the given ones need, the given ones included, in archive order:
 * everything reachable through their dependencies.
 */
export function preDataClosure(entries: ArchiveEntry[], roots: number[]): ArchiveEntry[] {
  const byId = new Map(entries.map((e) => [e.id, e]));
  const wanted = new Set<number>();
  const visit = (id: number) => {
    const entry = byId.get(id);
    if (!entry || wanted.has(id) || entry.section !== SECTION.preData) return;
    wanted.add(id);
    entry.deps.forEach(visit);
  };
  roots.forEach(visit);
  return entries.filter((e) => wanted.has(e.id));
}

const BLOCK_DATA = 1;
const BLOCK_BLOBS = 3;

/**
 * The rows of one TABLE DATA entry as pg_dump stored them: COPY's text format, read from
 * the archive file without pg_restore and without any SQL around them. Synchronous reads,
 * one chunk at a time, so memory stays flat whatever the table's size.
 */
export function* tableRows(file: string, archive: ArchiveContents, dumpId: number): Generator<Buffer> {
  if (archive.compressed) {
    throw new LifeboatError(
      'restore',
      'The archive compresses its own data, so its rows cannot be read directly.',
      {
        hint: 'Restore with a target-url user that may create databases (CREATEDB).',
      },
    );
  }
  const fd = openSync(file, 'r');
  try {
    const r = new ArchiveReader(fd);
    r.intSize = archive.intSize;
    r.skip(archive.dataStart);
    for (;;) {
      const type = r.byteOrEnd();
      if (type === undefined) throw new Error(`the archive holds no data block for entry ${dumpId}`);
      const id = r.int();
      if (type === BLOCK_BLOBS) {
        while (r.int() !== 0) r.skipChunks();
        continue;
      }
      if (type !== BLOCK_DATA) throw new Error(`unknown block type ${type}`);
      if (id !== dumpId) {
        r.skipChunks();
        continue;
      }
      for (let length = r.int(); length !== 0; length = r.int()) yield r.block(length);
      return;
    }
  } finally {
    closeSync(fd);
  }
}
