/**
 * The refresh's masking speed: a table of people (one unique email, a name, a phone per
 * row) dumped on its own and restored with pg_restore into a fresh database as a refresh
 * restores it: the rows, then the masking SQL a refresh runs (email, name and phone, each
 * checked against its original, then the row count) through psql in one transaction, then
 * the indexes and constraints. The target: masking takes at most 3× what pg_restore took
 * for the table (its rows and its post-data together).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Cluster } from '../scripts/postgres/cluster.js';
import type { CatalogSnapshot, ColumnInfo } from '../src/postgres/catalog.js';
import { keyPads } from '../src/refresh/mask-key.js';
import type { MaskedColumn } from '../src/refresh/mask-plan.js';
import { maskingSql, rowCountSql } from '../src/refresh/mask-sql.js';
import { measureCommand } from './measure.js';
import { libpqEnvFor } from './suite.js';

export interface MaskingResult {
  rows: number;
  tableBytes: number;
  restoreSeconds: number;
  maskSeconds: number;
  /** Of maskSeconds: the masking SQL, and how much longer the post-data section took after it. */
  maskSqlSeconds: number;
  postDataExtraSeconds: number;
  /** maskSeconds / restoreSeconds; the target is ≤ 3. */
  ratio: number;
}

const SOURCE = 'mask_source';
const TARGET = 'mask_target';
const PLAIN = 'mask_plain';

export async function measureMasking(
  cluster: Cluster,
  workDir: string,
  rows: number,
  log: (line: string) => void,
): Promise<MaskingResult> {
  const bin = (name: string) => path.join(cluster.clientBinDir, name);
  for (const db of [SOURCE, TARGET, PLAIN]) await cluster.exec(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  await cluster.createDatabase(SOURCE);
  await cluster.createDatabase(TARGET);
  log(`Masking: generating ${rows} people.`);
  await cluster.exec(
    `CREATE TABLE public.people (
       id bigint PRIMARY KEY, email text NOT NULL UNIQUE, full_name text NOT NULL, phone text,
       created_at timestamptz NOT NULL DEFAULT now(), plan text NOT NULL);
     INSERT INTO public.people (id, email, full_name, phone, plan)
     SELECT n, 'person' || n || '@example.com', 'Person Number ' || n, '+4477' || lpad(n::text, 9, '0'),
            (ARRAY['free', 'pro', 'team'])[n % 3 + 1]
     FROM generate_series(1, ${rows}) AS n;
     VACUUM ANALYZE public.people;`,
    SOURCE,
  );
  const [size] = await cluster.query<{ bytes: string }>(
    `SELECT pg_total_relation_size('public.people')::bigint AS bytes`,
    [],
    SOURCE,
  );
  const dump = path.join(workDir, 'people.dump');
  await measureCommand(
    'pg_dump people',
    bin('pg_dump'),
    ['-Fc', '--compress=0', '-f', dump, '-t', 'public.people'],
    {
      env: libpqEnvFor(cluster, SOURCE),
    },
  );
  // As a refresh runs it: the rows restored, masked, then the indexes and constraints built.
  const pgRestore = (database: string, sections: string[]) =>
    measureCommand(
      'pg_restore people',
      bin('pg_restore'),
      ['--no-owner', ...sections.map((s) => `--section=${s}`), '-d', database, dump],
      { env: libpqEnvFor(cluster, database) },
    );
  log('Masking: pg_restore of the table, for the time it takes.');
  await cluster.createDatabase(PLAIN);
  const plain = [await pgRestore(PLAIN, ['pre-data', 'data']), await pgRestore(PLAIN, ['post-data'])];
  await cluster.exec(`DROP DATABASE ${PLAIN} WITH (FORCE)`);
  log('Masking: the rows again, for the refresh.');
  await pgRestore(TARGET, ['pre-data', 'data']);
  const sqlFile = path.join(workDir, 'mask.sql');
  const plan = { columns, truncate: [], unmasked: [] };
  await writeFile(sqlFile, maskingSql(plan, keyPads('bench')) + rowCountSql(plan, catalog(rows)));
  log('Masking: email, name and phone of every row, checked.');
  const mask = await measureCommand(
    'mask people',
    bin('psql'),
    ['--no-psqlrc', '--quiet', '--set=ON_ERROR_STOP=1', '--single-transaction', '--file', sqlFile],
    { env: libpqEnvFor(cluster, TARGET) },
  );
  log('Masking: pg_restore of the table, its indexes and constraints.');
  const postData = await pgRestore(TARGET, ['post-data']);
  for (const db of [SOURCE, TARGET]) await cluster.exec(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  const restoreSeconds = plain[0]!.seconds + plain[1]!.seconds;
  // Indexes built over the rewritten rows may take longer: that too is the masking's cost.
  const maskSeconds = mask.seconds + Math.max(0, postData.seconds - plain[1]!.seconds);
  return {
    rows,
    tableBytes: Number(size?.bytes ?? 0),
    restoreSeconds,
    maskSeconds,
    maskSqlSeconds: mask.seconds,
    postDataExtraSeconds: maskSeconds - mask.seconds,
    ratio: maskSeconds / restoreSeconds,
  };
}

const info = (name: string, notNull: boolean): ColumnInfo => ({
  schema: 'public',
  table: 'people',
  name,
  type: 'text',
  category: 'S',
  notNull,
  generated: false,
});

const columns: MaskedColumn[] = (
  [
    ['email', 'email', true],
    ['full_name', 'name', true],
    ['phone', 'phone', false],
  ] as const
).map(([name, kind, notNull]) => ({
  schema: 'public',
  table: 'people',
  column: name,
  path: [],
  kind,
  origin: 'config',
  info: info(name, notNull),
}));

/** What the masking SQL reads of a catalog: the table and its row count. */
function catalog(rows: number): CatalogSnapshot {
  return {
    tables: [
      {
        schema: 'public',
        name: 'people',
        kind: 'r',
        rows,
        rlsEnabled: false,
        rlsForced: false,
        owner: 'postgres',
      },
    ],
  } as CatalogSnapshot;
}
