import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { wrapperBinDir } from '../faults/inject.js';
import { backupFixture, startWorld, type BackupFixture, type World } from '../helpers/world.js';
import { expectNoSecrets, runAction, runLifeboat, startCli } from '../helpers/lifeboat.js';
import { confirmFor, type Cluster } from '../helpers/cluster.js';
import { databaseState, rowCounts } from '../helpers/fixtures.js';
import { plaintextFiles } from '../helpers/plaintext.js';

/**
 * Staging refresh on real PostgreSQL: the Supabase-shaped fixture with the personal data of
 * pii.sql, backed up once, refreshed into a database that can be swapped in (`staging`) and
 * one that cannot be renamed (`postgres`, refreshed in one transaction).
 */
let world: World;
let cluster: Cluster;
let fx: BackupFixture;
const RULES = fileURLToPath(new URL('../fixtures/pii-mask.yml', import.meta.url));
const MASK_KEY = 'staging mask key 7f3a';

/** Emails, phones and names of real people in the source, as stored. */
let originals: string[];

const refresh = (database: string, inputs: Record<string, string> = {}) =>
  runLifeboat(
    {
      mode: 'refresh',
      store: fx.dir,
      'target-url': cluster.url({ database }),
      'encryption-identity': world.identity,
      'mask-config': RULES,
      'mask-key': MASK_KEY,
      confirm: confirmFor(cluster, database),
      ...inputs,
    },
    { store: fx.store },
  );

/** A staging database with contents of its own, which a refresh replaces. */
async function freshStaging(name = 'staging'): Promise<void> {
  await cluster.exec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await cluster.createDatabase(name);
  await cluster.exec(
    `CREATE TABLE public.staging_only (id int); INSERT INTO public.staging_only VALUES (1)`,
    name,
  );
}

beforeAll(async () => {
  world = await startWorld({ fixtures: ['supabase', 'pii'] });
  cluster = world.cluster;
  fx = await backupFixture();
  const backup = await runLifeboat(
    { mode: 'backup', 'database-url': world.appUrl, store: fx.dir, 'encryption-identity': world.identity },
    { store: fx.store },
  );
  expect(backup.error).toBeUndefined();
  const rows = await cluster.query<{ v: string }>(
    `SELECT email::text AS v FROM auth.users UNION SELECT phone FROM auth.users
     UNION SELECT full_name FROM public.profiles UNION SELECT raw_user_meta_data ->> 'full_name' FROM auth.users`,
    [],
    'app',
  );
  originals = rows.map((r) => r.v);
  expect(originals.length).toBe(600);
});

afterAll(async () => {
  await world?.close();
  await fx?.cleanup();
});

/** Every row of every table as text, searched for any original value (lower-cased too). */
async function originalsLeft(database: string): Promise<string[]> {
  const tables = await cluster.query<{ rel: string }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS rel FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'`,
    [],
    database,
  );
  const found: string[] = [];
  for (const { rel } of tables) {
    const rows = await cluster.query<{ t: string }>(`SELECT t::text AS t FROM ${rel} AS t`, [], database);
    const text = rows.map((r) => r.t).join('\n');
    const lower = text.toLowerCase();
    for (const o of originals)
      if (text.includes(o) || lower.includes(o.toLowerCase())) found.push(`${rel}: ${o}`);
  }
  return found;
}

/** Joins on masked keys: rows matched, counted the same way in source and copy. */
const JOINS = `SELECT
  (SELECT count(*) FROM public.invoices i JOIN public.profiles p ON p.email = i.billing_email)::int AS by_email,
  (SELECT count(*) FROM public.invoices i JOIN public.profiles p ON p.customer_ref = i.customer_ref)::int AS by_ref,
  (SELECT count(*) FROM public.profiles p JOIN auth.users u ON u.email = p.email)::int AS users_by_email,
  (SELECT count(*) FROM public.support_tickets s JOIN public.profiles p ON p.email = s.contact_email)::int AS tickets`;

const CONSTRAINTS = `SELECT conrelid::regclass::text AS rel, conname, pg_get_constraintdef(oid) AS def, convalidated
  FROM pg_constraint WHERE connamespace IN (SELECT oid FROM pg_namespace WHERE nspname IN ('public', 'auth')) ORDER BY 1, 2`;

describe('refresh', () => {
  it.each([
    ['staging', 'swapped in'],
    ['postgres', 'in place'],
  ])(
    'refreshes %s (%s): no original email, phone or name remains anywhere, joins and constraints hold, row counts equal',
    async (database) => {
      if (database === 'staging') await freshStaging();
      const run = await refresh(database);
      expect(run.error, run.message).toBeUndefined();
      expect(run.outputs.status).toBe('passed');
      expect(await originalsLeft(database)).toEqual([]);

      const source = await rowCounts(cluster, 'app');
      const copy = await rowCounts(cluster, database);
      const emptied = ['auth.sessions', 'auth.refresh_tokens', 'auth.mfa_factors', 'auth.mfa_challenges'];
      for (const t of [...emptied, 'auth.audit_log_entries']) expect(copy[t], t).toBe(0);
      const kept = Object.fromEntries(Object.entries(source).filter(([t]) => !emptied.includes(t)));
      expect(copy).toMatchObject({ ...kept, 'auth.audit_log_entries': 0, 'public.profile_audit': 0 });
      expect(copy['public.staging_only']).toBeUndefined();

      const [joinsBefore] = await cluster.query(JOINS, [], 'app');
      const [joinsAfter] = await cluster.query(JOINS, [], database);
      expect(joinsAfter).toEqual(joinsBefore);
      expect(joinsAfter).toMatchObject({ by_email: 600, by_ref: 600, users_by_email: 200, tickets: 120 });
      // Every unique and foreign key of the source, validated, with the masked values in it.
      expect(await cluster.query(CONSTRAINTS, [], database)).toEqual(
        await cluster.query(CONSTRAINTS, [], 'app'),
      );

      const [sample] = await cluster.query<Record<string, unknown>>(
        `SELECT p.email, p.full_name, p.phone, p.address, p.country, length(p.bio) AS bio_length, p.profile,
                u.encrypted_password, i.email AS identity_email
           FROM public.profiles p JOIN auth.users u ON u.id = p.user_id JOIN auth.identities i ON i.user_id = u.id
          WHERE p.user_id = md5('user7')::uuid`,
        [],
        database,
      );
      expect(sample).toMatchObject({
        email: expect.stringMatching(/^user_[0-9a-f]{24}@example\.invalid$/),
        full_name: expect.stringMatching(/^Person [0-9A-F]{12}$/),
        phone: expect.stringMatching(/^\+999\d{11}$/),
        address: null,
        country: 'NL',
        bio_length: 'Hi, I am User 7 and I edit clips.'.length,
        encrypted_password: 'masked-by-lifeboat',
        identity_email: expect.stringMatching(/^user_[0-9a-f]{24}@example\.invalid$/),
      });
      expect(sample!.profile).toMatchObject({ theme: 'dark', contact: { email: sample!.email } });
      expect(run.summary).toMatch(/Masked \d+ columns in \d+ tables/);
      expect(run.summary).toContain('public.workspaces.name');
      expectNoSecrets(run.shown, [...world.secrets(), { label: 'the mask key', value: MASK_KEY }]);
      const scratch = await cluster.query(`SELECT datname FROM pg_database WHERE datname LIKE '%\\_lb%'`);
      expect(scratch).toEqual([]);
    },
  );

  it('runs as the action: status, backup-id and masked-rows outputs, the summary, and the mask key never shown', async () => {
    await freshStaging();
    const run = await runAction({
      mode: 'refresh',
      store: fx.dir,
      'target-url': cluster.url({ database: 'staging' }),
      'encryption-identity': world.identity,
      'mask-config': RULES,
      'mask-key': MASK_KEY,
      confirm: confirmFor(cluster, 'staging'),
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.outputs).toMatchObject({
      status: 'passed',
      'masked-rows': String(200 + 200 + 200 + 600 + 120),
    });
    expect(run.outputs['backup-id']).toMatch(/^\d{8}_\d{6}_/);
    expect(run.summary).toMatch(/### Lifeboat refresh: masked copy in place/);
    expectNoSecrets(run.shown, [...world.secrets(), { label: 'the mask key', value: MASK_KEY }]);
  });

  it('creates the target database when it does not exist yet', async () => {
    await cluster.exec(`DROP DATABASE IF EXISTS staging_new WITH (FORCE)`);
    const run = await refresh('staging_new');
    expect(run.error, run.message).toBeUndefined();
    expect(run.summary).toMatch(/does not exist yet/);
    expect(await originalsLeft('staging_new')).toEqual([]);
    expect((await rowCounts(cluster, 'staging_new'))['public.profiles']).toBe(200);
  });

  it('refreshes a backup dumped in parallel parts: masked once every part’s rows are in, before the keys are built', async () => {
    const backup = await runLifeboat(
      {
        mode: 'backup',
        'database-url': world.appUrl,
        store: fx.dir,
        name: 'parts',
        'dump-jobs': '2',
        'encryption-identity': world.identity,
      },
      { store: fx.store },
    );
    expect(backup.error, backup.message).toBeUndefined();
    expect(backup.manifest!.archive.parts?.length).toBeGreaterThan(0);
    await freshStaging();
    const run = await refresh('staging', { name: 'parts', 'backup-id': backup.manifest!.backupId });
    expect(run.error, run.message).toBeUndefined();
    expect(run.log.text()).toMatch(/archives section by section/);
    expect(await originalsLeft('staging')).toEqual([]);
    expect(await cluster.query(CONSTRAINTS, [], 'staging')).toEqual(
      await cluster.query(CONSTRAINTS, [], 'app'),
    );
    expect((await rowCounts(cluster, 'staging'))['public.invoices']).toBe(600);
  });

  it('masks the same value the same way in every refresh with the same mask-key', async () => {
    await freshStaging('staging_a');
    await freshStaging('staging_b');
    expect((await refresh('staging_a')).error).toBeUndefined();
    expect((await refresh('staging_b')).error).toBeUndefined();
    const emails = (db: string) =>
      cluster.query(`SELECT user_id, email, customer_ref FROM public.profiles ORDER BY 1`, [], db);
    expect(await emails('staging_b')).toEqual(await emails('staging_a'));
  });

  it('refuses a refresh aimed at the source database whatever confirm says, and changes nothing', async () => {
    const before = await databaseState(world.appUrl);
    const run = await refresh('app');
    expect(run.error?.code).toBe('production');
    expect(run.message).toMatch(/it is the database this backup was taken from/);
    expect(await databaseState(world.appUrl)).toEqual(before);
  });

  it('fails before any work when a rule names a column the backup does not have', async () => {
    await freshStaging();
    const before = await databaseState(cluster.url({ database: 'staging' }));
    const rules = path.join(await mkdtemp(path.join(tmpdir(), 'lifeboat-rules-')), 'mask.yml');
    await writeFile(rules, 'columns:\n  public.profiles.emial: email\n  public.nowhere.name: name\n');
    const run = await refresh('staging', { 'mask-config': rules });
    expect(run.code).toBe(2);
    expect(run.message).toMatch(/column public\.profiles\.emial does not exist/);
    expect(run.message).toMatch(/table public\.nowhere .* does not exist/);
    expect(await databaseState(cluster.url({ database: 'staging' }))).toEqual(before);
    expect(await cluster.query(`SELECT datname FROM pg_database WHERE datname LIKE '%\\_lb%'`)).toEqual([]);
  });

  it('prints the plan in a dry run, checked against the backup, and changes nothing', async () => {
    await freshStaging();
    const before = await databaseState(cluster.url({ database: 'staging' }));
    const run = await refresh('staging', { 'dry-run': 'true', confirm: '' });
    expect(run.error, run.message).toBeUndefined();
    expect(run.outputs['confirm-with']).toBe(confirmFor(cluster, 'staging'));
    expect(run.summary).toMatch(/dry run, nothing changed/);
    expect(run.summary).toMatch(/\| public\.profiles \| email \| email \| 200 \|/);
    expect(run.summary).toMatch(/a fresh database beside the target/);
    expect(await databaseState(cluster.url({ database: 'staging' }))).toEqual(before);
  });

  it('refuses to refresh without a confirm that names the target', async () => {
    await freshStaging();
    const run = await refresh('staging', { confirm: 'postgres' });
    expect(run.error?.code).toBe('confirm');
  });

  it.each(['staging', 'postgres'])(
    'leaves %s as it was when the refresh is killed (SIGKILL) with the restore done and not committed',
    async (database) => {
      if (database === 'staging') await freshStaging();
      const before = await databaseState(cluster.url({ database }));
      const dir = await mkdtemp(path.join(tmpdir(), 'lifeboat-kill-'));
      const marker = path.join(dir, 'restored');
      // The refresh's temporary directory, searched for a plaintext dump each time pg_restore
      // starts (the archive streams into it instead) and again once the kill left it as it was.
      const temp = path.join(dir, 'runner-temp');
      await mkdir(temp);
      const seen = path.join(dir, 'seen');
      // pg_restore prints the whole script, then lingers: psql holds the open transaction.
      const bin = await wrapperBinDir(dir, {
        pg_restore: `echo "pg_restore $*" >> '${seen}'; grep -rlaF PGDMP '${temp}' >> '${seen}'
if printf '%s\\n' "$@" | grep -qx -- --file=-; then "$REAL" "$@"; echo $$ > '${marker}'; sleep 60; else exec "$REAL" "$@"; fi`,
        psql: 'exec "$REAL" "$@"',
      });
      const cli = startCli(
        ['refresh', '--store', fx.dir, '--mask-config', RULES, '--confirm', confirmFor(cluster, database)],
        {
          ...process.env,
          LIFEBOAT_TARGET_URL: cluster.url({ database }),
          LIFEBOAT_IDENTITY: world.identity,
          LIFEBOAT_MASK_KEY: MASK_KEY,
          LIFEBOAT_PG_BIN_DIR: bin,
          RUNNER_TEMP: temp,
        },
      );
      await vi.waitFor(() => expect(existsSync(marker)).toBe(true), { timeout: 60_000, interval: 100 });
      cli.child.kill('SIGKILL');
      const ended = await cli.done;
      expect(ended.signal).toBe('SIGKILL');
      process.kill(Number(readFileSync(marker, 'utf8').trim()), 'SIGKILL');
      // pg_restore ran (its table of contents read, its script printed) and never found the
      // dump in a file: nothing but the lines pg_restore wrote itself, and no plaintext left.
      const runs = readFileSync(seen, 'utf8').trim().split('\n');
      expect(runs.filter((l) => l.includes('--file=-')).length).toBeGreaterThan(0);
      expect(runs.filter((l) => !l.startsWith('pg_restore '))).toEqual([]);
      expect(readdirSync(temp).filter((n) => n.startsWith('lifeboat-refresh-'))).toHaveLength(1);
      expect(await plaintextFiles(temp, originals)).toEqual([]);
      // psql reads the end of its input without COMMIT: the server rolls everything back.
      await vi.waitFor(
        async () =>
          expect(
            await cluster.query(
              `SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'lifeboat restore%'`,
            ),
          ).toEqual([]),
        { timeout: 30_000, interval: 100 },
      );
      expect(await databaseState(cluster.url({ database }))).toEqual(before);
      // The next refresh clears what the killed one left (a scratch database) and succeeds.
      const again = await refresh(database);
      expect(again.error, again.message).toBeUndefined();
      expect(await cluster.query(`SELECT datname FROM pg_database WHERE datname LIKE '%\\_lb%'`)).toEqual([]);
    },
  );
});
