import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MATRIX_ROLES, OBJECT_KIND_GROUPS, type ObjectKindGroup } from '../fixtures/object-kinds.js';
import { backupFixture, type BackupFixture } from '../helpers/world.js';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { databaseState, loadFixture, tableContents } from '../helpers/fixtures.js';
import { inventory } from '../helpers/inventory.js';
import { backupAs, drillKept } from '../helpers/drills.js';
import { readArchiveHead } from '../../src/postgres/archive-toc.js';
import { parseConnectionUrl, withDatabase } from '../../src/postgres/connection.js';
import { headFeed, runPgRestore, type DumpSection } from '../../src/postgres/pg-restore.js';
import { useListOf } from '../../src/postgres/restore-shares.js';
import { createToolFinder } from '../../src/postgres/tools.js';
import { startChild } from '../../src/process.js';
import type { BackupStore } from '../../src/stores/store.js';

/**
 * The drill of a one-archive backup loads its rows in several pg_restore processes, each
 * creating its largest tables in the transaction that loads them (share-tables.ts): on a
 * server with `wal_level = minimal` (as every test cluster runs) those rows then skip the
 * write-ahead log, as they do under `pg_restore --jobs` from a file. What depends on such a
 * table (a view, a materialized view and its index, a column default and the sequence it
 * owns, a comment) is created after the rows; what a table needs before them (a partition's
 * parent, an identity sequence) keeps it in the schema step. Everything comes back: run on
 * the object kinds of pg_dump's own tests, the database restored into PostgreSQL 15 is the
 * source's, comments, grants and defaults included, and into 17 every row is back.
 */
let pg: Cluster;
let v17: Cluster;
let fx: BackupFixture;
let source: Record<string, string>;
let bigBytes: number;
let archiveKey: string;
let appUrl: string;

beforeAll(async () => {
  [pg, v17] = await Promise.all([startCluster(), startCluster({ major: 17 })]);
  await pg.exec(MATRIX_ROLES);
  await v17.exec(MATRIX_ROLES);
  const url = await pg.createDatabase('app');
  await pg.exec(
    `CREATE TABLE public.big (id serial PRIMARY KEY, body text NOT NULL);
     DO $$ BEGIN CREATE ROLE lifeboat_reader NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
     GRANT SELECT ON public.big TO lifeboat_reader;
     COMMENT ON COLUMN public.big.body IS 'rows; with a '';'' and COPY public.big FROM stdin;';
     INSERT INTO public.big (body) SELECT md5(n::text) || repeat(' words', 20) FROM generate_series(1, 250000) AS n;
     CREATE TABLE public.notes (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, big_id int REFERENCES public.big, note text);
     INSERT INTO public.notes (big_id, note) SELECT n, 'note ' || n FROM generate_series(1, 20000) AS n;
     CREATE TABLE public.other (id int PRIMARY KEY, label text);
     INSERT INTO public.other SELECT n, 'label ' || n FROM generate_series(1, 30000) AS n;
     CREATE VIEW public.joined AS SELECT b.id, o.label FROM public.big b JOIN public.other o USING (id);
     CREATE MATERIALIZED VIEW public.counts AS SELECT count(*) AS n, max(id) AS top FROM public.big;
     CREATE UNIQUE INDEX counts_top ON public.counts (top);
     CREATE TABLE public.readings (at date NOT NULL, value int) PARTITION BY RANGE (at);
     CREATE TABLE public.readings_2026 PARTITION OF public.readings FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
     INSERT INTO public.readings SELECT date '2026-01-01' + (n % 300), n FROM generate_series(1, 20000) AS n;`,
    'app',
  );
  const [size] = await pg.query<{ bytes: number }>(
    `SELECT pg_relation_size('public.big')::int AS bytes`,
    [],
    'app',
  );
  bigBytes = size!.bytes;
  source = await tableContents(pg, 'app');
  fx = await backupFixture();
  archiveKey = (await backupAs(fx, url, 'app')).archive.key;
  appUrl = url;
}, 120_000);

afterAll(async () => {
  await Promise.all([pg?.stop(), v17?.stop()]);
  await fx?.cleanup();
});

const walPosition = async () =>
  (await pg.query<{ at: string }>(`SELECT pg_current_wal_lsn()::text AS at`))[0]!.at;

describe('a drill whose loads create their tables', () => {
  it('loads the rows without writing them to the log, and restores every object and value', async () => {
    const before = await walPosition();
    const reads: string[] = [];
    const { run, report, db } = await drillKept(fx, pg, 'app', counting(fx.store, reads));
    const [written] = await pg.query<{ bytes: string }>(
      `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::bigint AS bytes`,
      [before],
    );
    expect(report.status).toBe('passed');
    expect(report.checks.filter((c) => c.severity === 'error')).toEqual([]);
    try {
      expect(await tableContents(pg, db)).toEqual(source);
      const [late] = await pg.query<Record<string, unknown>>(
        `SELECT (SELECT n FROM public.counts) AS counted,
                (SELECT count(*) FROM public.joined) AS joined,
                col_description('public.big'::regclass, 2) AS comment,
                pg_get_expr(d.adbin, d.adrelid) AS fallback,
                pg_get_serial_sequence('public.big', 'id') AS owned,
                has_table_privilege('lifeboat_reader', 'public.big', 'SELECT') AS granted
           FROM pg_attrdef d WHERE d.adrelid = 'public.big'::regclass`,
        [],
        db,
      );
      expect(late).toEqual({
        counted: '250000',
        joined: '30000',
        comment: `rows; with a ';' and COPY public.big FROM stdin;`,
        fallback: "nextval('big_id_seq'::regclass)",
        owned: 'public.big_id_seq',
        granted: true,
      });
    } finally {
      await pg.query(`DROP DATABASE "${db}" WITH (FORCE)`);
    }
    // The rows of big alone are bigBytes; logged, the drill would write at least that much.
    expect(Number(written!.bytes)).toBeLessThan(bigBytes / 2);
    // The archive is read once for its table of contents and once per load: the steps that
    // build schema (pre-data, the late schema, foreign keys, post-data) read that from memory.
    const streams = Number(/in (\d+) streams at once/.exec(run.log.text())?.[1]);
    expect(streams).toBeGreaterThan(1);
    expect(reads.filter((key) => key === archiveKey)).toHaveLength(1 + streams);
  }, 120_000);
});

/** `store`, telling `reads` every key it is asked for. */
function counting(store: BackupStore, reads: string[]): BackupStore {
  return new Proxy(store, {
    get(target, property) {
      if (property === 'get')
        return (key: string) => {
          reads.push(key);
          return target.get(key);
        };
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe('a pg_restore fed only the head of an archive', () => {
  it('builds what holds no rows, and fails rather than restore less when asked for rows', async () => {
    const tool = await createToolFinder().forServer('pg_restore', pg.major, String(pg.major));
    const dump = startChild(`${pg.clientBinDir}/pg_dump`, ['-Fc', '-Z0', `--dbname=${appUrl}`], {
      label: 'pg_dump',
      code: 'dump',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const contents = await readArchiveHead(dump.process.stdout!);
    dump.kill();
    const entry = (desc: string, tag: string) =>
      contents.entries.find((e) => e.desc === desc && e.tag === tag)!;
    const name = 'head_only';
    await pg.createDatabase(name);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lifeboat-head-'));
    const restore = async (ids: number[], sections: DumpSection[]) => {
      const listFile = path.join(dir, 'use.list');
      await writeFile(listFile, useListOf(contents.entries, ids));
      await runPgRestore({
        tool,
        target: withDatabase(parseConnectionUrl(pg.url(), 'target-url'), name),
        file: headFeed(contents.head!),
        jobs: 1,
        listFile,
        sections,
        profile: 'postgres',
        mask: (t) => t,
      });
    };
    try {
      await restore(
        [entry('TABLE', 'other').id, entry('CONSTRAINT', 'other other_pkey').id],
        ['pre-data', 'post-data'],
      );
      const [built] = await pg.query(
        `SELECT to_regclass('public.other_pkey') IS NOT NULL AS built`,
        [],
        name,
      );
      expect(built).toEqual({ built: true });
      await expect(restore([entry('TABLE DATA', 'other').id], ['data'])).rejects.toThrow(/pg_restore/);
    } finally {
      await rm(dir, { recursive: true, force: true });
      await pg.query(`DROP DATABASE ${name} WITH (FORCE)`);
    }
  });
});

/** The database as restore-matrix compares it, but its name. */
const state = async (url: string) => {
  const { database: _name, ...catalog } = (await databaseState(url)) as Record<string, unknown>;
  return { catalog, inventory: await inventory(url) };
};

describe('the object kinds of pg_dump’s own tests, drilled from one archive by several processes', () => {
  const groups = OBJECT_KIND_GROUPS.map((group, i) => [group.name, group, i] as const);
  it.each(groups)('%s', async (_name, group: ObjectKindGroup, i: number) => {
    const name = `kinds_${i}`;
    const url = await pg.createDatabase(name);
    await pg.exec(group.setup, name);
    // Two tables large enough to be shared out, one with a view, a comment and a grant on it.
    await pg.exec(
      `CREATE TABLE public.lifeboat_bulk_a (id serial PRIMARY KEY, body text);
       CREATE TABLE public.lifeboat_bulk_b (id int PRIMARY KEY, body text);
       INSERT INTO public.lifeboat_bulk_a (body) SELECT repeat('a', 120) FROM generate_series(1, 20000);
       INSERT INTO public.lifeboat_bulk_b SELECT n, repeat('b', 120) FROM generate_series(1, 20000) AS n;
       CREATE VIEW public.lifeboat_bulk_ab AS SELECT a.id FROM public.lifeboat_bulk_a a JOIN public.lifeboat_bulk_b b USING (id);
       COMMENT ON TABLE public.lifeboat_bulk_a IS 'shared out; then commented';
       GRANT SELECT ON public.lifeboat_bulk_a TO PUBLIC;`,
      name,
    );
    const original = await state(url);
    const rows = await tableContents(pg, name);
    await backupAs(fx, url, name);
    for (const target of [pg, v17]) {
      const { run, report, db } = await drillKept(fx, target, name);
      try {
        expect(run.log.text()).toMatch(/Loading the rows .* in \d+ streams at once/);
        expect(report.status).toBe('passed');
        expect(report.checks.filter((c) => c.severity === 'error')).toEqual([]);
        // On 17 privileges and versions read differently (MAINTAIN): the rows must match there.
        if (target === pg) expect(await state(target.url({ database: db }))).toEqual(original);
        else expect(await tableContents(target, db)).toEqual(rows);
      } finally {
        await target.query(`DROP DATABASE "${db}" WITH (FORCE)`);
      }
    }
  });
});

describe('a drill of Supabase’s schema, awkward names and hostile text, from one archive', () => {
  it('restores the database the backup holds into 15 (every row into 17) and runs none of its text', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lifeboat-shares-'));
    const marker = path.join(dir, 'pwned');
    try {
      const url = await pg.createDatabase('mixed');
      await loadFixture(pg, 'mixed', 'supabase');
      await loadFixture(pg, 'mixed', 'awkward');
      const hostile = await readFile(new URL('../fixtures/hostile.sql', import.meta.url), 'utf8');
      await pg.exec(hostile.replaceAll('MARKER', marker), 'mixed');
      await pg.exec(
        `CREATE TABLE public.bulk (id serial PRIMARY KEY, body text NOT NULL);
         INSERT INTO public.bulk (body) SELECT md5(n::text) || E'\\t\\\\.\\n' FROM generate_series(1, 40000) AS n;
         COMMENT ON TABLE public.bulk IS E'COPY public.bulk (id) FROM stdin;\\n\\\\! touch ${marker}';`,
        'mixed',
      );
      const original = await state(url);
      await backupAs(fx, url, 'mixed');
      const rows = await tableContents(pg, 'mixed');
      for (const target of [pg, v17]) {
        const { report, db } = await drillKept(fx, target, 'mixed');
        try {
          expect(report.status).toBe('passed');
          if (target === pg) expect(await state(pg.url({ database: db }))).toEqual(original);
          else expect(await tableContents(target, db)).toEqual(rows);
          expect(existsSync(marker)).toBe(false);
        } finally {
          await target.query(`DROP DATABASE "${db}" WITH (FORCE)`);
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
