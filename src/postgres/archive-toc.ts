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
  /** Each entry's place in the head, in archive order (see directory-toc.ts). */
  spans: EntrySpan[];
  /** The bytes before the data blocks (header and table of contents), when read from a stream. */
  head?: Buffer;
}

/** Where an entry's fields lie in the archive's head, and whether a data block holds its rows. */
export interface EntrySpan {
  id: number;
  start: number;
  /** The dependency list: the strings, then a null string. */
  depsAt: number;
  /** The custom format's own field, the entry's last: the data block's offset flag and offset. */
  extraAt: number;
  /** A data block follows the table of contents for this entry (TABLE DATA, large objects). */
  hasData: boolean;
}

export function readArchive(file: string): ArchiveContents {
  const fd = openSync(file, 'r');
  try {
    return parseArchive(new ArchiveReader(fd));
  } finally {
    closeSync(fd);
  }
}

/** The most a table of contents may take in memory when read from the head of a stream. */
export const HEAD_LIMIT = 64 * 1024 * 1024;

/**
 * The table of contents read from the head of a plaintext stream, without the rest: bytes
 * are gathered until the whole table parses (the data blocks that follow are not read).
 */
export async function readArchiveHead(stream: AsyncIterable<Buffer>): Promise<ArchiveContents> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tryAt = 64 * 1024;
  const attempt = (ended: boolean): ArchiveContents | undefined => {
    try {
      return parseArchive(new ArchiveReader(Buffer.concat(chunks, size)));
    } catch (error) {
      if (!ended && (error as Error).message === 'the archive ends early') return undefined;
      throw error;
    }
  };
  for await (const chunk of stream) {
    chunks.push(chunk);
    size += chunk.length;
    if (size < tryAt) continue;
    const got = attempt(false);
    if (got) return withHead(got, chunks, size);
    if (size > HEAD_LIMIT) {
      throw new LifeboatError(
        'integrity',
        `The archive's table of contents is larger than ${HEAD_LIMIT >> 20} MiB.`,
        {
          hint: 'Lifeboat reads it in memory; a schema this large is not one it restores. Restore by hand with pg_restore.',
        },
      );
    }
    tryAt = size * 2;
  }
  try {
    return withHead(attempt(true)!, chunks, size);
  } catch (error) {
    if ((error as Error).message !== 'the archive ends early') throw error;
    throw new LifeboatError(
      'integrity',
      "Cannot read the archive's table of contents: the archive ends early.",
      {
        hint: 'The archive is truncated; use another backup.',
      },
    );
  }
}

function withHead(contents: ArchiveContents, chunks: Buffer[], size: number): ArchiveContents {
  return { ...contents, head: Buffer.concat(chunks, size).subarray(0, contents.dataStart) };
}

/** Custom-format offset flag of an entry with no data block (pg_backup_archiver.h). */
const K_OFFSET_NO_DATA = 3;

function parseArchive(r: ArchiveReader): ArchiveContents {
  {
    const fail = (why: string, hint = 'The archive decrypted but is not one Lifeboat can read.') =>
      new LifeboatError('integrity', `Cannot read the archive's table of contents: ${why}.`, { hint });
    if (r.bytes(5).toString('latin1') !== 'PGDMP') throw fail('not a custom-format archive');
    const major = r.byte();
    const minor = r.byte();
    r.byte(); // revision
    if (major !== 1 || minor < SUPPORTED.min || minor > SUPPORTED.max)
      throw fail(
        `unsupported version (${major}.${minor}) in file header; Lifeboat reads versions 1.${SUPPORTED.min} to 1.${SUPPORTED.max} (pg_dump 9.6 to 17)`,
        'A newer pg_dump wrote it than this Lifeboat knows: update Lifeboat, or restore by hand with a pg_restore of that version (age -d | zstd -d | pg_restore).',
      );
    r.intSize = r.byte();
    const offSize = r.byte();
    if (r.byte() !== 1) throw fail('not a custom-format archive');
    const compressed = minor >= 15 ? r.byte() !== 0 : r.int() !== 0;
    for (let i = 0; i < 7; i++) r.int(); // creation time
    r.str(); // database name
    r.str(); // server version
    r.str(); // pg_dump version
    const entries: ArchiveEntry[] = [];
    const spans: EntrySpan[] = [];
    const count = r.int();
    for (let i = 0; i < count; i++) {
      const start = r.position();
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
      const depsAt = r.position();
      const deps: number[] = [];
      for (let dep = r.text(); dep !== null; dep = r.text()) deps.push(Number(dep));
      const extraAt = r.position();
      const hasData = r.byte() !== K_OFFSET_NO_DATA;
      r.skip(offSize);
      entries.push({ id, oid, desc, namespace: namespace || null, tag, owner, section, deps, copyStmt });
      spans.push({ id, start, depsAt, extraAt, hasData });
    }
    return { entries, dataStart: r.position(), intSize: r.intSize, compressed, spans };
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
