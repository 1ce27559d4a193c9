/**
 * The SQL a restore generates and the scripts it rewrites: copying rows back from the side
 * schema, the side-schema script, the one-transaction wrapper, and picking archive entries.
 */
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { parseToc } from '../../src/drill/toc.js';
import {
  copyBackSql,
  orderByReferences,
  reviewQueries,
  type SideTable,
} from '../../src/restore/copy-back.js';
import { OneTransactionScript } from '../../src/restore/one-transaction.js';
import { SideScriptRewriter } from '../../src/restore/side-script.js';
import { keepExisting, selectTableEntries } from '../../src/restore/toc-select.js';

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
      'WHERE NOT EXISTS (SELECT 1 FROM "public"."jobs" AS l WHERE ROW(l."id"::text, l."kind"::text)::text',
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

async function rewrite(script: string, chunk = script.length): Promise<string> {
  const targets = new Map([
    ['Mixed Case\u0000weird "quoted" name', 'weird "quoted" name'],
    ['public\u0000job_events', 'job_events'],
  ]);
  const chunks: string[] = [];
  for (let i = 0; i < script.length; i += chunk) chunks.push(script.slice(i, i + chunk));
  let out = '';
  await pipeline(
    Readable.from(chunks),
    new SideScriptRewriter(SIDE, targets),
    new Writable({ write: (c: Buffer, _e, done) => ((out += c.toString()), done()) }),
  );
  return out;
}

const SCRIPT = `--
\\restrict abc123
SET statement_timeout = 0;
SELECT pg_catalog.set_config('search_path', '', false);

CREATE TABLE "Mixed Case"."weird ""quoted"" name" (
    id integer NOT NULL,
    "line
break" text
);

ALTER TABLE ONLY public.job_events ALTER COLUMN stage SET STATISTICS 100;

COPY "Mixed Case"."weird ""quoted"" name" (id, "line
break") FROM stdin;
1\tCREATE TABLE public.users (id int);
\\.

\\unrestrict abc123
`;

describe('side schema script', () => {
  it('moves every table it creates, alters or fills into the side schema, and passes rows untouched', async () => {
    for (const chunk of [SCRIPT.length, 7, 1]) {
      const out = await rewrite(SCRIPT, chunk);
      expect(out).toContain(`CREATE TABLE "${SIDE}"."weird ""quoted"" name" (\n    id integer NOT NULL,`);
      expect(out).toContain(`ALTER TABLE ONLY "${SIDE}"."job_events" ALTER COLUMN stage`);
      expect(out).toContain(`COPY "${SIDE}"."weird ""quoted"" name" (id, "line\nbreak") FROM stdin;`);
      expect(out).toContain('1\tCREATE TABLE public.users (id int);\n\\.\n');
      expect(out.replace(/"weird ""quoted"" name"|"job_events"/g, '')).not.toMatch(
        /"Mixed Case"\.|public\.job_events/,
      );
    }
  });

  it('stops at anything that could reach a live object', async () => {
    const refused = [
      'DROP TABLE public.job_events;\n',
      'CREATE TABLE public.users (id int);\n',
      'CREATE TABLE public.job_events PARTITION OF public.events FOR VALUES IN (1);\n',
      'CREATE TABLE public.job_events (\n    id int\n)\nINHERITS (public.events);\n',
      'CREATE TABLE public.job_events (\n    id int\n',
    ];
    for (const script of refused) {
      await expect(rewrite(script)).rejects.toThrow(
        /Stopped the selective restore before it could touch anything/,
      );
    }
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

  it("tells tables apart by owner when the listing's unquoted names could be read two ways", () => {
    const [entries] = selectTableEntries(LISTING, [
      { schema: 'Mixed Case', name: 'Lignes', owner: 'app_owner' },
    ]);
    expect(entries!.lines).toEqual([
      '236; 1259 16758 TABLE Mixed Case Lignes app_owner',
      '3684; 0 16758 TABLE DATA Mixed Case Lignes app_owner',
    ]);
    expect(() =>
      selectTableEntries(LISTING, [{ schema: 'public', name: 'nope', owner: 'postgres' }]),
    ).toThrow(/holds no definition of table public\.nope/);
  });

  it('keeps schemas and extensions the target already has', () => {
    const kept = keepExisting(parseToc(LISTING), {
      schemas: new Set(['Mixed Case']),
      extensions: new Set(['citext']),
    });
    expect([...kept.ids]).toEqual([11, 3]);
    expect(kept.kept).toEqual(['schema Mixed Case', 'extension citext']);
  });
});
