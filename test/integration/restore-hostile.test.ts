import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableFingerprint } from '../../src/postgres/inspect.js';
import { backupFixture, type BackupFixture } from '../helpers/world.js';
import { startCluster, type Cluster, confirmFor } from '../helpers/cluster.js';
import { inventory } from '../helpers/inventory.js';
import { databaseState } from '../helpers/fixtures.js';
import { runLifeboat } from '../helpers/lifeboat.js';

/**
 * Text that looks like SQL, COPY framing and psql meta-commands, in defaults, comments,
 * function bodies, object names and rows (fixtures/hostile.sql), through both restores:
 * nothing of it runs, no live table changes behind a selective restore, and a full
 * restore brings every byte back.
 */
let cluster: Cluster;
let fx: BackupFixture;
let dir: string;
let marker: string;
let url: string;
const SEMI = 'rows;\nCOPY public.t (id) FROM stdin;';
const TABLES = `public.t, "semi;colon"."${SEMI.replace(/"/g, '""')}"`;
const fingerprints = new Map<string, string>();
let backupId: string;
/** The database as the backup recorded it. */
let original: unknown;
const sideSchema = () => `"lifeboat_restore_${backupId}"`;

async function withClient<T>(fn: (c: pg.Client) => Promise<T>, on = url): Promise<T> {
  const client = new pg.Client({ connectionString: on });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** The database as a whole, side schemas left out. */
async function liveState(on = url): Promise<unknown> {
  const catalog = (await databaseState(on)) as Record<string, unknown>;
  const live = (o: unknown) => !JSON.stringify(o).includes('lifeboat_restore_');
  const filtered = Object.fromEntries(
    Object.entries(catalog).map(([k, v]) => [k, Array.isArray(v) ? v.filter(live) : v]),
  );
  return { catalog: filtered, inventory: (await inventory(on)).filter(live) };
}

beforeAll(async () => {
  cluster = await startCluster();
  dir = await mkdtemp(path.join(os.tmpdir(), 'lifeboat-hostile-'));
  marker = path.join(dir, 'pwned');
  url = await cluster.createDatabase('app');
  const sql = await readFile(new URL('../fixtures/hostile.sql', import.meta.url), 'utf8');
  await cluster.exec(sql.replaceAll('MARKER', marker), 'app');
  fx = await backupFixture();
  const backup = await runLifeboat(
    {
      mode: 'backup',
      'database-url': url,
      store: fx.dir,
      'encryption-identity': fx.identity,
      name: 'hostile',
    },
    { store: fx.store },
  );
  expect(backup.error).toBeUndefined();
  backupId = backup.manifest!.backupId;
  original = await liveState();
  for (const [schema, name] of [
    ['public', 't'],
    ['semi;colon', SEMI],
  ] as const) {
    fingerprints.set(name, await withClient((c) => tableFingerprint(c, schema, name)));
  }
});

afterAll(async () => {
  await cluster?.stop();
  await fx?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const restore = (inputs: Record<string, string>) =>
  runLifeboat(
    {
      mode: 'restore',
      store: fx.dir,
      name: 'hostile',
      'target-url': url,
      'encryption-identity': fx.identity,
      confirm: confirmFor(cluster, 'app'),
      ...inputs,
    },
    { store: fx.store, unmasked: true },
  );

describe('restore of a backup full of hostile text', () => {
  it('restores chosen tables into the side schema only, with exactly the backup’s rows, running none of the text', async () => {
    await cluster.exec(`DROP SCHEMA IF EXISTS ${sideSchema()} CASCADE`, 'app');
    await cluster.exec(
      `DELETE FROM public.t WHERE id = 2; UPDATE public.t SET body = 'changed' WHERE id = 1;
       DELETE FROM "semi;colon"."${SEMI.replace(/"/g, '""')}";`,
      'app',
    );
    const before = await liveState();
    const run = await restore({ tables: TABLES });
    expect(run.error, String((run.error as Error | undefined)?.message)).toBeUndefined();
    expect(await liveState()).toEqual(before);
    const side = `lifeboat_restore_${run.outputs['backup-id']}`;
    expect(await withClient((c) => tableFingerprint(c, side, 't'))).toBe(fingerprints.get('t'));
    expect(await withClient((c) => tableFingerprint(c, side, SEMI))).toBe(fingerprints.get(SEMI));
    expect(existsSync(marker)).toBe(false);
    // The scratch database the tables were loaded into is gone.
    expect(
      await cluster.query(`SELECT datname FROM pg_database WHERE datname LIKE 'lifeboat_scratch_%'`),
    ).toEqual([]);
  });

  it('reads the rows straight from the archive when the user may not create a database, and says so', async () => {
    await cluster.exec(`DROP SCHEMA IF EXISTS ${sideSchema()} CASCADE`, 'app');
    await cluster.createRole('restorer', { password: 'restorer-pw', attributes: 'LOGIN NOCREATEDB' });
    await cluster.exec(
      `GRANT CREATE ON DATABASE app TO restorer;
       GRANT USAGE ON SCHEMA "semi;colon" TO restorer;
       GRANT SELECT ON ALL TABLES IN SCHEMA public, "semi;colon" TO restorer;`,
      'app',
    );
    const before = await liveState();
    const run = await restore({
      tables: TABLES,
      'target-url': cluster.url({ database: 'app', user: 'restorer', password: 'restorer-pw' }),
      confirm: confirmFor(cluster, 'app'),
    });
    expect(run.error, String((run.error as Error | undefined)?.message)).toBeUndefined();
    expect(run.log.text()).toMatch(
      /may not create a scratch database .* reads the chosen tables' rows straight from the archive/,
    );
    expect(run.summary).toContain('Rows read straight from the archive');
    expect(await liveState()).toEqual(before);
    const side = `lifeboat_restore_${run.outputs['backup-id']}`;
    expect(await withClient((c) => tableFingerprint(c, side, 't'))).toBe(fingerprints.get('t'));
    expect(await withClient((c) => tableFingerprint(c, side, SEMI))).toBe(fingerprints.get(SEMI));
    expect(existsSync(marker)).toBe(false);
  });

  it('brings every object and row back in a full restore, running none of the text', async () => {
    // The side schema of a selective restore, reviewed and dropped, as its note asks.
    await cluster.exec(
      `DROP SCHEMA IF EXISTS ${sideSchema()} CASCADE;
       UPDATE public.t SET note = 'damaged'; COMMENT ON TABLE public.t IS 'damaged'; DROP FUNCTION public.tricky();`,
      'app',
    );
    const run = await restore({});
    expect(run.error, String((run.error as Error | undefined)?.message)).toBeUndefined();
    expect(await liveState()).toEqual(original);
    expect(await withClient((c) => tableFingerprint(c, 'public', 't'))).toBe(fingerprints.get('t'));
    expect(await withClient((c) => tableFingerprint(c, 'semi;colon', SEMI))).toBe(fingerprints.get(SEMI));
    expect(await cluster.query(`SELECT public.tricky() AS v`, [], 'app')).toEqual([
      { v: `a;\nCOPY public.t (id, note) FROM stdin;\n\\.\n\\! touch ${marker}\n\\o ${marker}\n` },
    ]);
    expect(existsSync(marker)).toBe(false);
  });
});

describe('the same hostile backup restored into PostgreSQL 17', () => {
  let v17: Cluster;
  let sql: string;

  beforeAll(async () => {
    v17 = await startCluster({ major: 17 });
    sql = (await readFile(new URL('../fixtures/hostile.sql', import.meta.url), 'utf8')).replaceAll(
      'MARKER',
      marker,
    );
  });

  afterAll(async () => {
    await v17?.stop();
  });

  it('restores chosen tables into the side schema only, with exactly the backup’s rows, running none of the text', async () => {
    const target = await v17.createDatabase('live');
    await v17.exec(sql, 'live');
    await v17.exec(
      `DELETE FROM public.t WHERE id = 2; UPDATE public.t SET body = 'changed' WHERE id = 1;`,
      'live',
    );
    const before = await liveState(target);
    const run = await restore({ 'target-url': target, confirm: confirmFor(v17, 'live'), tables: TABLES });
    expect(run.error, String((run.error as Error | undefined)?.message)).toBeUndefined();
    expect(await liveState(target)).toEqual(before);
    const side = `lifeboat_restore_${backupId}`;
    expect(await withClient((c) => tableFingerprint(c, side, 't'), target)).toBe(fingerprints.get('t'));
    expect(await withClient((c) => tableFingerprint(c, side, SEMI), target)).toBe(fingerprints.get(SEMI));
    expect(existsSync(marker)).toBe(false);
    expect(
      await v17.query(`SELECT datname FROM pg_database WHERE datname LIKE 'lifeboat_scratch_%'`),
    ).toEqual([]);
  });

  it('brings every object and row back in a full restore into an empty database, running none of the text', async () => {
    const target = await v17.createDatabase('empty');
    const run = await restore({ 'target-url': target, confirm: confirmFor(v17, 'empty') });
    expect(run.error, String((run.error as Error | undefined)?.message)).toBeUndefined();
    expect(await withClient((c) => tableFingerprint(c, 'public', 't'), target)).toBe(fingerprints.get('t'));
    expect(await withClient((c) => tableFingerprint(c, 'semi;colon', SEMI), target)).toBe(
      fingerprints.get(SEMI),
    );
    expect(await v17.query(`SELECT public.tricky() AS v`, [], 'empty')).toEqual([
      { v: `a;\nCOPY public.t (id, note) FROM stdin;\n\\.\n\\! touch ${marker}\n\\o ${marker}\n` },
    ]);
    expect(existsSync(marker)).toBe(false);
  });
});
