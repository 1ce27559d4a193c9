import { existsSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { describePostgres, postgresPlan } from '../helpers/find-postgres.js';
import { loadFixture, rowCounts } from '../helpers/fixtures.js';

const SUPABASE_COUNTS = {
  'auth.users': 200,
  'public.workspaces': 100,
  'public.workspace_members': 300,
  'public.projects': 400,
  'public.clips': 1600,
  'public.jobs': 800,
  'public.job_events': 2400,
  'public.subscriptions': 60,
  'supabase_migrations.schema_migrations': 3,
};

const AWKWARD_COUNTS = {
  'Mixed Case.weird "quoted" name': 6,
  'Mixed Case.Lignes': 12,
  'données.résumé': 4,
  'données.vide': 0,
  'données.mesures': 500,
  'public.drop table x; --': 3,
};

// Every server major this machine offers: its own and, where one exists, a newer (often embedded) one.
const plan = await postgresPlan();
const majors = [...plan.servers, ...(plan.newer ? [plan.newer] : [])].map((s) => s.major);
console.log(`PostgreSQL for the test clusters: ${await describePostgres()}`);

describe.each(majors)('a PostgreSQL %i test cluster', (major) => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster({ major });
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('runs the requested major version on 127.0.0.1', async () => {
    const [row] = await cluster.query<{ version: string }>(
      "SELECT current_setting('server_version_num') AS version",
    );
    expect(Math.floor(Number(row?.version) / 10_000)).toBe(major);
    expect(cluster.host).toBe('127.0.0.1');
    expect(cluster.major).toBe(major);
  });

  it('has a password that only works percent-encoded in its URL', async () => {
    expect(cluster.password).toMatch(/[@:/%?# ]/);
    expect(cluster.url()).not.toContain(cluster.password);
    const client = new pg.Client({ connectionString: cluster.url() });
    await client.connect();
    const { rows } = await client.query<{ user: string }>('SELECT current_user AS user');
    await client.end();
    expect(rows[0]?.user).toBe('postgres');
  });

  it('refuses a wrong password over TCP', async () => {
    const client = new pg.Client({ connectionString: cluster.url({ password: 'not-the-password' }) });
    await expect(client.connect()).rejects.toThrow(/password authentication failed/);
  });

  it('loads the Supabase fixture into two databases on one cluster', async () => {
    for (const database of ['supabase_a', 'supabase_b']) {
      await cluster.createDatabase(database);
      await loadFixture(cluster, database, 'supabase');
      expect(await rowCounts(cluster, database)).toEqual(SUPABASE_COUNTS);
    }
    const [setting] = await cluster.query<{ setconfig: string[] }>(
      `SELECT setconfig FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
        WHERE d.datname = 'supabase_a' AND s.setrole = 0`,
    );
    expect(setting?.setconfig).toEqual(['search_path=public, extensions']);
  });

  it('loads the awkward fixture with its unusual names intact', async () => {
    await cluster.createDatabase('awkward');
    await loadFixture(cluster, 'awkward', 'awkward');
    expect(await rowCounts(cluster, 'awkward')).toEqual(AWKWARD_COUNTS);
    const columns = await cluster.query<{ name: string }>(
      `SELECT attname AS name FROM pg_attribute
        WHERE attrelid = '"Mixed Case"."weird ""quoted"" name"'::regclass AND attname LIKE 'line%'`,
      [],
      'awkward',
    );
    expect(columns).toEqual([{ name: 'line\nbreak' }]);
  });

  it('creates login roles whose passwords need escaping', async () => {
    await cluster.createRole('reader "one"', { password: "it's p@ss", attributes: 'NOSUPERUSER' });
    const client = new pg.Client({
      connectionString: cluster.url({ user: 'reader "one"', password: "it's p@ss" }),
    });
    await client.connect();
    await client.end();
  });

  it('shows psql errors from exec', async () => {
    await expect(cluster.exec('SELECT 1;\nSELECT * FROM no_such_table;')).rejects.toThrow(/no_such_table/);
  });

  it('stops, removes its directory and tolerates a second stop', async () => {
    // A cluster of its own: the shared one serves the other tests, in whatever order they run.
    const own = await startCluster({ major });
    const dataDir = own.dataDir;
    expect(existsSync(dataDir)).toBe(true);
    await own.stop();
    await own.stop();
    expect(existsSync(dataDir)).toBe(false);
    expect(existsSync(path.dirname(dataDir))).toBe(false);
    await expect(own.query('SELECT 1')).rejects.toThrow();
  });
});
