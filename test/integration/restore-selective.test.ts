import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isLifeboatError } from '../../src/errors.js';
import type { CatalogSnapshot } from '../../src/postgres/catalog.js';
import { inspectDatabase, tableFingerprint } from '../../src/postgres/inspect.js';
import { backupFixture, startWorld, type BackupFixture, type World } from '../helpers/world.js';
import { confirmFor, type Cluster } from '../helpers/cluster.js';
import { copyDatabase } from '../helpers/fixtures.js';
import { expectNoSecrets, runLifeboat } from '../helpers/lifeboat.js';

let world: World;
let cluster: Cluster;
let fx: BackupFixture;
let appUrl: string;
let side: string;

const CHOSEN = [
  ['public', 'subscriptions'],
  ['public', 'job_events'],
  ['données', 'résumé'],
  ['Mixed Case', 'weird "quoted" name'],
] as const;
const TABLES =
  'public.subscriptions, public.job_events, "données"."résumé", "Mixed Case"."weird ""quoted"" name"';
/** Content hashes of the chosen tables as the backup holds them. */
const atBackup = new Map<string, string>();

async function withClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: cluster.url({ database: 'app' }) });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Every live object and a content hash of every live table; the side schemas left out. */
async function liveSnapshot(): Promise<unknown> {
  const { takenAt: _, ...s } = await withClient((c) => inspectDatabase(c, { fingerprints: true }));
  const live = (o: { schema?: string }) => !o.schema?.startsWith('lifeboat_restore_');
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s as Omit<CatalogSnapshot, 'takenAt'>)) {
    out[k] = Array.isArray(v)
      ? v.filter((o: unknown) =>
          typeof o === 'string' ? !o.startsWith('lifeboat_restore_') : live(o as object),
        )
      : v;
  }
  return out;
}

const fingerprint = (schema: string, name: string) => withClient((c) => tableFingerprint(c, schema, name));

/** A restore from the fixture store into the app database unless the inputs say otherwise. */
const restoreApp = (inputs: Record<string, string>) =>
  runLifeboat(
    { mode: 'restore', store: fx.dir, 'target-url': appUrl, 'encryption-identity': fx.identity, ...inputs },
    { store: fx.store, unmasked: true },
  );

beforeAll(async () => {
  // The shared world: the app database with the Supabase-shaped and awkward fixtures.
  world = await startWorld();
  ({ cluster, appUrl } = world);
  fx = await backupFixture();
  const backup = await runLifeboat(
    { mode: 'backup', 'database-url': appUrl, store: fx.dir, 'encryption-identity': fx.identity },
    { store: fx.store },
  );
  expect(backup.error).toBeUndefined();
  side = `lifeboat_restore_${backup.manifest!.backupId}`;
  for (const [schema, name] of CHOSEN) atBackup.set(`${schema}.${name}`, await fingerprint(schema, name));
  await cluster.exec(
    `UPDATE public.subscriptions SET amount = amount * 10 WHERE plan = 'pro';
     DELETE FROM public.job_events WHERE id % 7 = 0;
     INSERT INTO "données"."résumé" ("région", "année", montant) VALUES ('Bretagne', 2025, 10), ('Corse', 2025, 20);
     DELETE FROM "Mixed Case"."weird ""quoted"" name" WHERE id = 5;`,
    'app',
  );
  await copyDatabase(cluster, 'app', 'app_changed_since');
});

/** Every test starts from the live database as it was changed since the backup, with no side schema. */
beforeEach(() => copyDatabase(cluster, 'app_changed_since', 'app'));

afterAll(async () => {
  await world?.close();
  await fx?.cleanup();
});

describe('restore, selective', () => {
  it('prints the plan on a dry run and creates nothing', async () => {
    const before = await liveSnapshot();
    const dry = await restoreApp({ tables: TABLES, 'dry-run': 'true' });
    expect(dry.error).toBeUndefined();
    expect(dry.shown).toContain(
      `public.job_events: 2400 rows → ${side}.job_events (live table: 2058 in the target)`,
    );
    expect(dry.shown).toContain(`the real run needs \`confirm: ${confirmFor(cluster, 'app')}\``);
    expect(await cluster.query(`SELECT to_regnamespace($1) AS s`, [side], 'app')).toEqual([{ s: null }]);
    expect(await liveSnapshot()).toEqual(before);
  });

  it("restores the chosen tables into the side schema with the backup's rows, leaving every live table as it was", async () => {
    const before = await liveSnapshot();
    const run = await restoreApp({ tables: TABLES, confirm: confirmFor(cluster, 'app') });
    expect(run.error).toBeUndefined();
    expect(run.outputs).toEqual({
      'backup-id': side.slice('lifeboat_restore_'.length),
      'confirm-with': confirmFor(cluster, 'app'),
      status: 'passed',
    });
    expect(await liveSnapshot()).toEqual(before);
    for (const [schema, name] of CHOSEN) {
      expect(await fingerprint(side, name)).toBe(atBackup.get(`${schema}.${name}`));
    }

    const text = run.shown;
    expect(text).toContain(
      'public.subscriptions: 60 rows in the backup, 60 in the target; 0 only in the backup, 0 only in the target, 20 changed.',
    );
    expect(text).toContain(
      'public.job_events: 2400 rows in the backup, 2058 in the target; 342 only in the backup, 0 only in the target, 0 changed.',
    );
    expect(text).toContain(
      'données.résumé: 4 rows in the backup, 6 in the target; 0 only in the backup, 2 only in the target, 0 changed.',
    );
    expect(text).toContain(
      'Mixed Case.weird "quoted" name: 6 rows in the backup, 5 in the target; 1 only in the backup',
    );
    expectNoSecrets(run, [cluster.password]);

    // The SQL a person reviews puts the backup's rows back and keeps rows added since.
    const sql = /```sql\n([\s\S]*?)\n```/.exec(run.summary)![1]!;
    expect(sql).toContain('ON CONFLICT ("id") DO UPDATE SET');
    expect(sql).toContain('OVERRIDING SYSTEM VALUE');
    expect(sql).toContain('Its triggers fire on these writes (subscriptions_updated_at).');
    // Written exactly as the backup holds them: the updated_at trigger kept quiet.
    await cluster.exec(sql.replace(/^-- (ALTER TABLE .* TRIGGER USER;)$/gm, '$1'), 'app');
    for (const key of ['public.subscriptions', 'public.job_events', 'Mixed Case.weird "quoted" name']) {
      const [schema, name] = CHOSEN.find(([s, n]) => `${s}.${n}` === key)!;
      expect(await fingerprint(schema, name)).toBe(atBackup.get(key));
    }
    expect(await cluster.query(`SELECT count(*)::int AS n FROM "données"."résumé"`, [], 'app')).toEqual([
      { n: 6 },
    ]);
  });

  it('refuses, changing nothing, a table the backup lacks, a table already restored and a wrong confirm', async () => {
    const first = await restoreApp({ tables: 'public.subscriptions', confirm: confirmFor(cluster, 'app') });
    expect(first.error).toBeUndefined();
    const before = await liveSnapshot();
    const sideBefore = await fingerprint(side, 'subscriptions');
    const unknown = await restoreApp({ tables: 'public.subscription', confirm: confirmFor(cluster, 'app') });
    expect(isLifeboatError(unknown.error, 'input')).toBe(true);
    expect((unknown.error as { hint: string }).hint).toMatch(/The backup holds: .*public\.subscriptions/);
    const again = await restoreApp({ tables: 'public.subscriptions', confirm: confirmFor(cluster, 'app') });
    expect(isLifeboatError(again.error, 'restore')).toBe(true);
    expect((again.error as Error).message).toContain(`${side}.subscriptions already exists`);
    const wrong = await restoreApp({ tables: 'public.workspaces', confirm: 'production' });
    expect(isLifeboatError(wrong.error, 'confirm')).toBe(true);
    for (const run of [unknown, again, wrong]) {
      expect(run.outputs.status).toBe('failed');
      expect(run.shown).toMatch(/Nothing was changed/);
    }
    expect(await liveSnapshot()).toEqual(before);
    expect(await fingerprint(side, 'subscriptions')).toBe(sideBefore);
    expect(await cluster.query(`SELECT to_regclass($1) AS t`, [`${side}.workspaces`], 'app')).toEqual([
      { t: null },
    ]);
  });

  it('restores the raw bytes of an SQL_ASCII database exactly, through a scratch database of its encoding', async () => {
    // SQL_ASCII keeps bytes as given: 0xE9 and 0xFF are no UTF-8, and must not pass through it.
    await cluster.exec(
      `CREATE DATABASE latin TEMPLATE template0 ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C'`,
    );
    await cluster.exec(
      `CREATE TABLE public.noms (id int PRIMARY KEY, nom text);
       INSERT INTO public.noms VALUES (1, E'caf\\xe9'), (2, E'\\xff\\xfe raw'), (3, 'plain');`,
      'latin',
    );
    const url = cluster.url({ database: 'latin' });
    const at = async (schema: string) => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return await tableFingerprint(client, schema, 'noms');
      } finally {
        await client.end();
      }
    };
    const backedUp = await at('public');
    const backup = await runLifeboat(
      {
        mode: 'backup',
        'database-url': url,
        store: fx.dir,
        name: 'latin',
        'encryption-identity': fx.identity,
      },
      { store: fx.store },
    );
    expect(backup.error).toBeUndefined();
    await cluster.exec(`UPDATE public.noms SET nom = 'x'`, 'latin');
    const run = await restoreApp({
      name: 'latin',
      'target-url': url,
      confirm: confirmFor(cluster, 'latin'),
      tables: 'public.noms',
    });
    expect(run.error).toBeUndefined();
    expect(await at(`lifeboat_restore_${backup.manifest!.backupId}`)).toBe(backedUp);
  });
});
