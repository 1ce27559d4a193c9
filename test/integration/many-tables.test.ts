import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readExpectedCatalog } from '../../src/archive/fetch.js';
import type { Manifest } from '../../src/archive/manifest.js';
import { isLifeboatError, type LifeboatError } from '../../src/errors.js';
import { confirmFor, startCluster, type Cluster } from '../helpers/cluster.js';
import { runLifeboat } from '../helpers/lifeboat.js';
import { backupFixture, type BackupFixture } from '../helpers/world.js';

/**
 * A database with more tables than the server's lock table holds locks for twice: pg_dump
 * locks every table until it finishes, and the backup's catalog snapshot reads every table
 * (locking it and its indexes) and every sequence in the transaction pg_dump's snapshot comes
 * from. The lock table holds max_locks_per_transaction locks per server process for all
 * sessions together, about 1000 here (16 x 62); 500 tables with a key, an index and a
 * sequence each are 500 locks for pg_dump, and 2000 for a catalog snapshot that kept the locks
 * of its reads (it failed with `out of shared memory` until it let go of them).
 */
const TABLES = 500;
let cluster: Cluster;
let fx: BackupFixture;
let url: string;
/** The backup every test starts from, taken before any of them changes the database. */
let manifest: Manifest;

beforeAll(async () => {
  cluster = await startCluster({ settings: { max_locks_per_transaction: '16' } });
  url = await cluster.createDatabase('app');
  // One statement per table, each its own transaction: creating them all in one would itself fill the lock table.
  const ddl = Array.from({ length: TABLES }, (_, k) => {
    const i = k + 1;
    return `CREATE TABLE public.t${i} (id serial PRIMARY KEY, tag int NOT NULL, body text);
      CREATE INDEX ON public.t${i} (tag);
      INSERT INTO public.t${i} (tag, body) SELECT g % 7, md5(g::text) FROM generate_series(1, ${i % 13}) g;`;
  });
  await cluster.exec(ddl.join('\n'), 'app');
  fx = await backupFixture();
  const backup = await runLifeboat(
    { mode: 'backup', 'database-url': url, store: fx.dir, 'encryption-identity': fx.identity },
    { store: fx.store },
  );
  if (backup.error) throw backup.error;
  manifest = backup.manifest!;
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
  await fx?.cleanup();
});

describe('a database with more tables than the lock table fits twice', () => {
  it('backs up with exact row counts of every table, and the drill restores and verifies it', async () => {
    const catalog = await readExpectedCatalog(manifest, { identities: [fx.identity] });
    const counts = Object.fromEntries(catalog.tables.map((t) => [`${t.schema}.${t.name}`, t.rows]));
    expect(Object.keys(counts)).toHaveLength(TABLES);
    // Table t<i> holds i % 13 rows (counted by hand: a UNION of every count would itself overflow the lock table).
    const expected = Object.fromEntries(
      Array.from({ length: TABLES }, (_, i) => [`public.t${i + 1}`, (i + 1) % 13]),
    );
    expect(counts).toEqual(expected);

    const drill = await runLifeboat(
      { mode: 'drill', store: fx.dir, 'target-url': cluster.url(), 'encryption-identity': fx.identity },
      { store: fx.store, runnerTemp: true },
    );
    expect(drill.error).toBeUndefined();
    expect(drill.summary).toMatch(/restore drill passed/);
  }, 180_000);

  it('fails a full restore over the live database clearly when its one transaction outgrows the lock table, and changes nothing', async () => {
    // A full restore replaces everything in one transaction, which locks every table, index
    // and sequence it creates (2000 here) until it commits: more than this lock table holds.
    await cluster.exec(`INSERT INTO public.t1 (tag, body) VALUES (99, 'after the backup')`, 'app');
    const restore = await runLifeboat(
      {
        mode: 'restore',
        store: fx.dir,
        'target-url': url,
        'encryption-identity': fx.identity,
        confirm: confirmFor(cluster, 'app'),
      },
      { store: fx.store, unmasked: true },
    );

    expect(isLifeboatError(restore.error, 'restore')).toBe(true);
    expect((restore.error as LifeboatError).message).toMatch(/out of shared memory/);
    expect((restore.error as LifeboatError).message).toMatch(/rolled back: the target is as it was before/);
    expect((restore.error as LifeboatError).hint).toMatch(/lock per object. Raise max_locks_per_transaction/);
    const [row] = await cluster.query<{ n: string }>(
      `SELECT count(*) AS n FROM public.t1 WHERE body = 'after the backup'`,
      [],
      'app',
    );
    expect(Number(row!.n)).toBe(1);
  }, 180_000);

  it('also with content fingerprints, which read every row of every table', async () => {
    const backup = await runLifeboat(
      {
        mode: 'backup',
        'database-url': url,
        store: fx.dir,
        'encryption-identity': fx.identity,
        'verify-content': 'true',
      },
      { store: fx.store },
    );
    expect(backup.error).toBeUndefined();
    const catalog = await readExpectedCatalog(backup.manifest!, { identities: [fx.identity] });
    expect(catalog.tables.filter((t) => t.fingerprint?.startsWith(`${t.rows}:`))).toHaveLength(TABLES);
  }, 180_000);
});
