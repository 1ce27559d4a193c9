/**
 * The SQL a restore generates and the scripts it rewrites: copying rows back from the side
 * schema, the side-schema script, the one-transaction wrapper, and picking archive entries.
 */
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { parseToc } from '../../src/postgres/toc.js';
import {
  copyBackSql,
  orderByReferences,
  reviewQueries,
  type SideTable,
} from '../../src/restore/copy-back.js';
import { OneTransactionScript } from '../../src/restore/one-transaction.js';
import { keepExisting } from '../../src/restore/toc-select.js';
import {
  CopyRows,
  scratchSelect,
  sideFrame,
  sideLoadHint,
  sidePrelude,
} from '../../src/restore/side-copy.js';
import { preDataClosure, type ArchiveEntry } from '../../src/postgres/archive-toc.js';

const ID = '20260301_120000_000_0a1b2c3d';
const SIDE = `lifeboat_restore_${ID}`;

const shape = (columns: string[], extra: Partial<SideTable['side']> = {}) => ({
  columns: columns.map((name) => ({ name, generated: false, identityAlways: false })),
  primaryKey: [],
  references: [],
  triggers: [],
  ...extra,
});

describe('copy-back SQL', () => {
  const events: SideTable = {
    schema: 'public',
    name: 'job_events',
    sideSchema: SIDE,
    sideName: 'job_events',
    side: shape(['id', 'job_id', 'stage', 'gone']),
    live: {
      ...shape(['id', 'job_id', 'stage', 'added']),
      columns: [
        { name: 'id', generated: false, identityAlways: true },
        { name: 'job_id', generated: false, identityAlways: false },
        { name: 'stage', generated: false, identityAlways: false },
        { name: 'added', generated: false, identityAlways: false },
      ],
      primaryKey: ['id'],
      references: ['public.jobs'],
      triggers: ['job_events_audit'],
    },
  };
  const jobs: SideTable = {
    ...events,
    name: 'jobs',
    sideName: 'jobs',
    side: shape(['id', 'kind']),
    live: shape(['id', 'kind'], { primaryKey: ['id'] }),
  };

  it('upserts on the live primary key, the columns both have, parents first, triggers named', () => {
    const sql = copyBackSql([events, jobs], new Map(), ID);
    expect(sql.indexOf('INSERT INTO "public"."jobs"')).toBeLessThan(
      sql.indexOf('INSERT INTO "public"."job_events"'),
    );
    expect(sql).toContain(
      'INSERT INTO "public"."job_events" AS l ("id", "job_id", "stage")\nOVERRIDING SYSTEM VALUE',
    );
    expect(sql).toContain(
      'ON CONFLICT ("id") DO UPDATE SET\n  "job_id" = EXCLUDED."job_id",\n  "stage" = EXCLUDED."stage"',
    );
    expect(sql).toContain('-- Columns only in the backup, not copied: gone.');
    expect(sql).toContain('-- Columns only in the target, left as they are: added.');
    expect(sql).toContain('(job_events_audit)');
    expect(sql).toContain('-- ALTER TABLE "public"."job_events" DISABLE TRIGGER USER;');
    expect(sql).toMatch(/^BEGIN;$/m);
    expect(sql).toMatch(/^COMMIT;$/m);
    expect(orderByReferences([events, jobs]).map((t) => t.name)).toEqual(['jobs', 'job_events']);
  });

  it('without a key inserts only rows with no identical live row; without a live table writes nothing to run', () => {
    const keyless: SideTable = { ...jobs, live: shape(['id', 'kind']) };
    const sql = copyBackSql([keyless], new Map(), ID);
    expect(sql).toContain('has no primary key');
    expect(sql).toContain(
      'WHERE NOT EXISTS (SELECT 1 FROM ONLY "public"."jobs" AS l WHERE ROW(l."id"::text, l."kind"::text)::text',
    );
    expect(reviewQueries(keyless).map((q) => q.label)).toEqual([
      'rows only in the backup',
      'rows only in the target',
    ]);
    const gone = copyBackSql([{ ...jobs, live: null }], new Map(), ID);
    expect(gone.split('\n').filter((l) => /^(INSERT|ALTER)/.test(l))).toEqual([]);
    expect(gone).toContain('-- public.jobs does not exist in the target.');
  });

  it('never copies generated columns', () => {
    const generated: SideTable = {
      ...jobs,
      side: {
        ...shape(['id', 'kind', 'total']),
        columns: [
          ...shape(['id', 'kind']).columns,
          { name: 'total', generated: true, identityAlways: false },
        ],
      },
    };
    expect(copyBackSql([generated], new Map(), ID)).not.toContain('"total"');
  });
});

describe('one transaction', () => {
  async function through(script: string, chunk: number): Promise<{ out: string; complete: boolean }> {
    const guard = new OneTransactionScript();
    const pieces: string[] = [];
    for (let i = 0; i < script.length; i += chunk) pieces.push(script.slice(i, i + chunk));
    let out = '';
    await pipeline(
      Readable.from(pieces),
      guard,
      new Writable({ write: (c: Buffer, _e, done) => ((out += c.toString()), done()) }),
    );
    return { out, complete: guard.complete };
  }

  it("drops pg_restore's opening BEGIN and holds back its closing COMMIT, but no COMMIT inside the script", async () => {
    const script = [
      '\\restrict abc',
      'BEGIN;',
      'SET lock_timeout = 0;',
      'CREATE PROCEDURE public.p() LANGUAGE plpgsql AS $$',
      'BEGIN;',
      'COMMIT;',
      'END $$;',
      'COPY public.t (note) FROM stdin;',
      'COMMIT;',
      '\\.',
      '',
      'COMMIT;',
      '',
      '--',
      '-- PostgreSQL database dump complete',
      '\\unrestrict abc',
      '',
    ].join('\n');
    for (const chunk of [script.length, 5, 1]) {
      const { out, complete } = await through(script, chunk);
      expect(complete).toBe(true);
      expect(out.split('\n').filter((l) => l === 'BEGIN;')).toHaveLength(1);
      expect(out.split('\n').filter((l) => l === 'COMMIT;')).toHaveLength(2);
      expect(out).toContain('BEGIN;\nCOMMIT;\nEND $$;');
      expect(out).toContain('COMMIT;\n\\.\n\n\n--\n');
    }
    expect((await through('BEGIN;\nSELECT 1;\n', 4)).complete).toBe(false);
  });

  it('passes long rows, statements and comments through exactly, in chunks of any size, and still finds the last COMMIT', async () => {
    const row = `1\t${'é'.repeat(70_000)}`;
    const script = [
      'BEGIN;',
      `-- ${'a long comment '.repeat(100)}`,
      `CREATE FUNCTION public.f() RETURNS text LANGUAGE sql AS $$ SELECT '${'x'.repeat(5000)}' $$;`,
      '-- TOC entry 3200 (class 0 OID 0)',
      'COPY public.t (id, note) FROM stdin;',
      row,
      'COMMIT;',
      row,
      '\\.',
      '',
      'COMMIT;',
      `-- ${'trailing '.repeat(200)}`,
      '',
    ].join('\n');
    const want = script.replace('BEGIN;\n', '').replace(/\nCOMMIT;\n(--[^\n]*\n)$/, '\n$1');
    for (const chunk of [script.length, 4096, 7, 3]) {
      const guard = new OneTransactionScript();
      const pieces: Buffer[] = [];
      const bytes = Buffer.from(script);
      for (let i = 0; i < bytes.length; i += chunk) pieces.push(bytes.subarray(i, i + chunk));
      const out: Buffer[] = [];
      await pipeline(
        Readable.from(pieces),
        guard,
        new Writable({ write: (c: Buffer, _e, done) => (out.push(c), done()) }),
      );
      expect(Buffer.concat(out).toString()).toBe(want);
      expect(guard.complete).toBe(true);
      expect(guard.entries).toEqual([{ line: 3, id: 3200 }]);
      expect(guard.lines).toBe(want.split('\n').length - 1);
    }
    // Half a long row in, half a row out: a row is never gathered before it is passed on.
    const guard = new OneTransactionScript();
    let passed = 0;
    guard.on('data', (c: Buffer) => (passed += c.length));
    guard.write(Buffer.from('BEGIN;\nCOPY public.t (note) FROM stdin;\n'));
    guard.write(Buffer.from('y'.repeat(100_000)));
    await new Promise((resolve) => setImmediate(resolve));
    expect(passed).toBe('COPY public.t (note) FROM stdin;\n'.length + 100_000);
    guard.destroy();
  });

  it('knows whether the script began with \\restrict, and where each archive entry starts', async () => {
    const script = [
      '--',
      '\\restrict key1',
      'BEGIN;',
      '',
      '--',
      '-- TOC entry 214 (class 1259 OID 16384)',
      '-- Name: t; Type: TABLE; Schema: public; Owner: postgres',
      '--',
      'CREATE TABLE public.t (id int);',
      '-- TOC entry 3200 (class 0 OID 0)',
      'COPY public.t (id) FROM stdin;',
      '1',
      '\\.',
      'COMMIT;',
      '\\unrestrict key1',
      '',
    ].join('\n');
    const guard = new OneTransactionScript();
    await pipeline(Readable.from([script]), guard, new Writable({ write: (_c, _e, done) => done() }));
    expect(guard.restricted).toBe(true);
    // BEGIN is dropped: the header of entry 214 is the fifth line passed on.
    expect(guard.entries).toEqual([
      { line: 5, id: 214 },
      { line: 9, id: 3200 },
    ]);
    const plain = new OneTransactionScript();
    await pipeline(
      Readable.from(['BEGIN;\nSELECT 1;\nCOMMIT;\n']),
      plain,
      new Writable({ write: (_c, _e, done) => done() }),
    );
    expect(plain.restricted).toBe(false);
  });
});

describe('selective restore into the side schema', () => {
  const table = {
    schema: 'Mixed Case',
    name: 'weird "quoted" name',
    sideName: 'weird "quoted" name',
    columns: [
      { name: 'id', type: 'integer' },
      { name: 'line\nbreak', type: 'text' },
      { name: 'mood', type: '"Mixed Case"."Mood"' },
    ],
    rows: 6,
  };
  const SIDE_SCHEMA = 'lifeboat_restore_20260301_120000_000_deadbeef';

  it('creates the side tables from their columns, quoted, and nothing else', () => {
    const sql = sidePrelude({ sideSchema: SIDE_SCHEMA, tables: [table], note: "it's a note" });
    expect(sql).toBe(
      [
        'BEGIN;',
        `CREATE SCHEMA IF NOT EXISTS "${SIDE_SCHEMA}";`,
        `COMMENT ON SCHEMA "${SIDE_SCHEMA}" IS 'it''s a note';`,
        `CREATE TABLE "${SIDE_SCHEMA}"."weird ""quoted"" name" ("id" integer, "line\nbreak" text, "mood" "Mixed Case"."Mood");`,
        '',
      ].join('\n'),
    );
  });

  it('frames the rows with the COPY into the side table and a count check, and reads only the table’s own rows', () => {
    const { header, trailer } = sideFrame(SIDE_SCHEMA, table);
    expect(header).toBe(
      `COPY "${SIDE_SCHEMA}"."weird ""quoted"" name" ("id", "line\nbreak", "mood") FROM STDIN;\n`,
    );
    expect(trailer).toMatch(
      /^\\\.\nDO \$lifeboat\$ BEGIN IF \(SELECT count\(\*\) FROM .*\) <> 6 THEN RAISE EXCEPTION/,
    );
    expect(sideFrame(SIDE_SCHEMA, { ...table, rows: null }).trailer).toBe('\\.\n');
    expect(scratchSelect(table)).toBe(
      'SELECT "id", "line\nbreak", "mood" FROM ONLY "Mixed Case"."weird ""quoted"" name"',
    );
  });

  async function frame(chunks: string[]): Promise<string> {
    let out = '';
    await pipeline(
      Readable.from(chunks.map((c) => Buffer.from(c, 'latin1'))),
      new CopyRows('HEAD\n', 'TAIL\n'),
      new Writable({ write: (c: Buffer, _e, done) => ((out += c.toString('latin1')), done()) }),
    );
    return out;
  }

  it('frames rows with the COPY and the check, dropping the end marker pg_dump stored after them', async () => {
    for (const chunks of [['1\ta\\\\.\n2\tb\n\\.\n\n\n'], ['1\ta\\', '\\.\n2\tb\n\\', '.\n\n']]) {
      expect(await frame(chunks)).toBe('HEAD\n1\ta\\\\.\n2\tb\nTAIL\n');
    }
    expect(await frame([])).toBe('HEAD\nTAIL\n');
    expect(await frame(['1\tno line end'])).toBe('HEAD\n1\tno line end\nTAIL\n');
  });

  it('streams a row as it comes, however long, in chunks of any size', async () => {
    const long = `1\t${'x'.repeat(200_000)}\n2\t\\.\r\n\\.\r\n\r\n`;
    const want = `HEAD\n1\t${'x'.repeat(200_000)}\n2\t\\.\r\nTAIL\n`;
    for (const size of [65536, 4096, 7, 3, 2]) {
      const chunks = Array.from({ length: Math.ceil(long.length / size) }, (_, i) =>
        long.slice(i * size, (i + 1) * size),
      );
      expect(await frame(chunks)).toBe(want);
    }
    // Half a row in, half a row out: a line is never gathered before it is passed on.
    const rows = new CopyRows('HEAD\n', 'TAIL\n');
    let out = 0;
    rows.on('data', (c: Buffer) => (out += c.length));
    rows.write(Buffer.from(`1\t${'y'.repeat(100_000)}`, 'latin1'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(out).toBe('HEAD\n'.length + 2 + 100_000);
    rows.destroy();
  });

  it('refuses a long line after the end marker as soon as it is longer than a blank one', async () => {
    await expect(frame(['1\n\\', '.\n', 'DR', 'OP TABLE public.t;'])).rejects.toThrow(
      /go on after their end marker/,
    );
  });

  it('refuses rows that go on after an end marker, which psql would run as SQL', async () => {
    for (const forged of ['1\n\\.\nDROP TABLE public.t;\n', '1\n\\.\r\n\\! touch x\n']) {
      await expect(frame([forged])).rejects.toThrow(/go on after their end marker/);
    }
  });

  it('takes what a table’s definition depends on from the archive, and nothing more', () => {
    const entry = (
      id: number,
      desc: string,
      tag: string,
      section: number,
      deps: number[] = [],
    ): ArchiveEntry => ({
      id,
      oid: String(16000 + id),
      desc,
      namespace: 'public',
      tag,
      owner: 'postgres',
      section,
      deps,
      copyStmt: null,
    });
    const toc = [
      entry(1, 'SCHEMA', 'app', 2),
      entry(2, 'TYPE', 'mood', 2, [1]),
      entry(3, 'TABLE', 'parent', 2, [1]),
      entry(4, 'TABLE', 'child', 2, [3, 2]),
      entry(5, 'TABLE', 'other', 2, [1]),
      entry(6, 'TABLE DATA', 'child', 3, [4]),
      entry(7, 'INDEX', 'child_idx', 4, [4]),
    ];
    expect(preDataClosure(toc, [4]).map((e) => e.id)).toEqual([1, 2, 3, 4]);
  });
});

describe('a side load that stopped', () => {
  it('is told what to do by its reason: a type the target lacks, rows that do not add up, a missing privilege', () => {
    expect(sideLoadHint('invalid input value for enum mood: "meh"')).toMatch(/column's type differs/);
    expect(sideLoadHint(`side table ${SIDE}.parent holds 100 rows; the backup recorded 300`)).toMatch(
      /do not add up .* Run a drill/,
    );
    expect(sideLoadHint('permission denied for database app')).toMatch(/may create schemas/);
    expect(sideLoadHint('canceling statement due to user request')).toMatch(/names the cause/);
  });
});

describe('archive entries', () => {
  const LISTING = [
    '235; 1259 16757 TABLE Mixed Case Lignes postgres',
    '236; 1259 16758 TABLE Mixed Case Lignes app_owner',
    '3683; 0 16757 TABLE DATA Mixed Case Lignes postgres',
    '3684; 0 16758 TABLE DATA Mixed Case Lignes app_owner',
    '11; 2615 16731 SCHEMA - Mixed Case postgres',
    '3; 3079 16428 EXTENSION - citext ',
  ].join('\n');

  it('keeps schemas and extensions the target already has', () => {
    const kept = keepExisting(parseToc(LISTING), {
      schemas: new Set(['Mixed Case']),
      extensions: new Set(['citext']),
    });
    expect([...kept.ids]).toEqual([11, 3]);
    expect(kept.kept).toEqual(['schema Mixed Case', 'extension citext']);
  });
});
