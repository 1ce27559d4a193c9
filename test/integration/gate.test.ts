import { appendFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newBackupId } from '../../src/archive/backup-id.js';
import { LocalStore } from '../../src/stores/local.js';
import { latestBackupId, type BackupStore } from '../../src/stores/store.js';
import { manifestKey } from '../../src/archive/store-keys.js';
import { MANIFEST_VERSION } from '../../src/archive/manifest.js';
import { loadFixture } from '../helpers/fixtures.js';
import {
  FOURTH,
  HOUR,
  rewriteNewest,
  startGateWorld,
  takenAt,
  type GateWorld,
} from '../helpers/gate-world.js';
import type { Cluster } from '../helpers/cluster.js';
import { expectNoSecrets } from '../helpers/lifeboat.js';

let w: GateWorld;
let cluster: Cluster;
let work: string;
let migrationsDir: string;
let appUrl: string;
let appStore: string;
let plainUrl: string;
let plainStore: string;
const backup = (databaseUrl: string, store: BackupStore) => w.backup(databaseUrl, store);
const copyOf = (storeDir: string) => w.copyOf(storeDir);
const gate = (inputs: Record<string, string>, env: Record<string, string> = {}) => w.gate(inputs, env);

beforeAll(async () => {
  w = await startGateWorld();
  ({ cluster, work, migrationsDir, appUrl, appStore, plainUrl, plainStore } = w);
});

afterAll(async () => {
  await w?.stop();
});

describe('gate with a local store and real PostgreSQL', () => {
  it('passes a fresh readable backup at production’s latest migration and lists the migration this change will apply', async () => {
    const run = await gate({ store: appStore, 'database-url': appUrl });
    expect(run.error).toBeUndefined();
    const id = (await latestBackupId(new LocalStore(appStore), 'production'))!;
    expect(run.outputs).toMatchObject({ fresh: 'true', 'backup-id': id });
    expect(Number(run.outputs['age-seconds'])).toBeLessThan(600);
    expect(run.outputs.reason).toMatch(
      new RegExp(
        `^Backup ${id} is .* old \\(max 1d\\), verified "readable" .* holds production's latest migration 20240320120000\\.$`,
      ),
    );
    expect(run.summary).toContain(`\`${id}\` of set \`production\``);
    expect(run.summary).toContain('backup `20240320120000` · production `20240320120000`');
    expect(run.summary).toContain(
      `1 migration in \`${migrationsDir}\` newer than production's \`20240320120000\`:`,
    );
    expect(run.summary).toContain(`- \`${FOURTH}_add_invoices.sql\``);
    expect(run.log.lines.filter((l) => l.level === 'warning')).toEqual([]);
  });

  it('fails a backup taken before the migration production applied since, and passes once a new backup is taken', async () => {
    const url = await cluster.createDatabase('moving');
    await loadFixture(cluster, 'moving', 'supabase');
    const store = path.join(work, 'moving-store');
    await backup(url, new LocalStore(store));
    await cluster.exec(
      `CREATE TABLE public.invoices (id bigint PRIMARY KEY);
       INSERT INTO supabase_migrations.schema_migrations (version, name) VALUES ('${FOURTH}', 'add_invoices');`,
      'moving',
    );

    const stale = await gate({ store, 'database-url': url });
    expect(stale.outputs.fresh).toBe('false');
    expect(stale.error?.code).toBe('gate');
    expect(stale.error?.message).toMatch(
      /holds migrations up to 20240320120000, but production has applied 20240401000000 since: it was taken before the last migration/,
    );
    expect(stale.error?.hint).toMatch(/Run the backup workflow \(mode: backup\)/);
    expect(stale.outputs.reason).toBe(stale.error?.message);
    expect(stale.summary).toContain('None: every migration in');

    await backup(url, new LocalStore(store));
    const fresh = await gate({ store, 'database-url': url });
    expect(fresh.outputs.fresh).toBe('true');
  });

  it('fails when the newest backup is older than max-age, and only warns when fail-on-stale is false', async () => {
    const store = await copyOf(appStore);
    await rewriteNewest(new LocalStore(store), (m) => takenAt(m, new Date(Date.now() - 49 * HOUR)));

    const failed = await gate({ store, 'max-age': '24h' });
    expect(failed.outputs).toMatchObject({ fresh: 'false' });
    expect(Number(failed.outputs['age-seconds'])).toBeGreaterThanOrEqual(49 * 3600);
    expect(failed.error?.message).toMatch(/is 2d 1h old, older than `max-age` 1d\.$/);

    const warned = await gate({ store, 'max-age': '24h', 'fail-on-stale': 'false' });
    expect(warned.error).toBeUndefined();
    expect(warned.outputs.fresh).toBe('false');
    expect(warned.log.lines).toContainEqual({
      level: 'warning',
      message: expect.stringMatching(/older than `max-age` 1d\. \(fail-on-stale is false/),
    });

    expect((await gate({ store, 'max-age': '7d' })).outputs.fresh).toBe('true');
  });

  it('fails when the backup is verified below the required level', async () => {
    const run = await gate({ store: appStore, require: 'restored' });
    expect(run.outputs.fresh).toBe('false');
    expect(run.error?.message).toMatch(/verified only as "readable", below the required "restored"/);
    expect(run.error?.hint).toMatch(/mode: drill/);
  });

  it('says so when the store holds no backup at all', async () => {
    const run = await gate({ store: path.join(work, 'empty-store') });
    expect(run.outputs).toEqual({
      fresh: 'false',
      'backup-id': '',
      'age-seconds': '',
      reason: expect.any(String),
    });
    expect(run.error?.message).toMatch(/holds no backup of "production"\.$/);
    expect(run.error?.hint).toMatch(/mode: backup/);
  });

  it('never reports fresh from a store it cannot read, even with fail-on-stale false', async () => {
    const notADirectory = path.join(work, 'store-is-a-file');
    await writeFile(notADirectory, 'oops');
    const strict = await gate({ store: notADirectory });
    expect(strict.outputs.fresh).toBe('false');
    expect(strict.error?.message).toMatch(/^Cannot read the store .*store-is-a-file: Cannot list/);

    const lenient = await gate({ store: notADirectory, 'fail-on-stale': 'false' });
    expect(lenient.error).toBeUndefined();
    expect(lenient.outputs.fresh).toBe('false');
    expect(
      lenient.log.lines.some((l) => l.level === 'warning' && /Cannot read the store/.test(l.message)),
    ).toBe(true);
  });

  it('passes on the parse error of a manifest written by a newer Lifeboat as the reason', async () => {
    const store = await copyOf(appStore);
    const current = await rewriteNewest(new LocalStore(store), (m) => m);
    const id = newBackupId(new Date(Date.now() + 1000));
    const future = { ...current, backupId: id, formatVersion: MANIFEST_VERSION + 1, somethingNew: true };
    await writeFile(path.join(store, manifestKey('production', id)), JSON.stringify(future));

    const run = await gate({ store });
    expect(run.outputs).toMatchObject({ fresh: 'false', 'backup-id': id });
    expect(run.error?.message).toContain(
      `has format version ${MANIFEST_VERSION + 1}, newer than this Lifeboat understands (${MANIFEST_VERSION}).`,
    );
    expect(run.error?.hint).toMatch(/Upgrade Lifeboat/);
  });

  it('treats a backup from the future as clock skew and names both times', async () => {
    const store = await copyOf(appStore);
    const future = new Date(Date.now() + 2 * HOUR);
    await rewriteNewest(new LocalStore(store), (m) => takenAt(m, future));
    const run = await gate({ store });
    expect(run.outputs.fresh).toBe('false');
    expect(run.error?.message).toContain(
      `was created at ${future.toISOString()}, 2h after this runner's clock (`,
    );
    expect(run.error?.hint).toMatch(/clocks/);
    // An age read off a wrong clock would only mislead.
    expect(run.outputs['age-seconds']).toBe('');
  });

  it('fails a manifest whose archive is missing, without downloading anything', async () => {
    const store = await copyOf(appStore);
    const m = await rewriteNewest(new LocalStore(store), (x) => x);
    await rm(path.join(store, m.archive.key));
    const run = await gate({ store });
    expect(run.outputs.fresh).toBe('false');
    expect(run.error?.message).toBe(
      `Backup ${m.backupId} has a manifest but its archive ${m.archive.key} is missing from the store, so it cannot be restored.`,
    );
  });

  it('fails an archive whose stored size differs from the manifest, naming the object and both sizes', async () => {
    const store = await copyOf(appStore);
    const m = await rewriteNewest(new LocalStore(store), (x) => x);
    await appendFile(path.join(store, m.archive.key), Buffer.from('x'));
    const run = await gate({ store });
    expect(run.outputs.fresh).toBe('false');
    expect(run.error?.message).toBe(
      `Backup ${m.backupId}'s archive ${m.archive.key} holds ${m.archive.sizeBytes + 1} bytes in the store, but the manifest records ${m.archive.sizeBytes}, so it cannot be restored as recorded.`,
    );
  });

  it('fails, rather than passing unchecked, when the store cannot say whether the archive is there', async () => {
    const store = await copyOf(appStore);
    const m = await rewriteNewest(new LocalStore(store), (x) => x);
    // A symbolic link to itself: stat fails with ELOOP, neither "there" nor "absent".
    const file = path.join(store, m.archive.key);
    await rm(file);
    await symlink(path.basename(file), file);
    const run = await gate({ store, 'fail-on-stale': 'false' });
    expect(run.outputs.fresh).toBe('false');
    expect(run.outputs.reason).toMatch(
      new RegExp(
        `^Could not check that backup ${m.backupId}'s archive ${m.archive.key} is in the store: Cannot check .*ELOOP`,
      ),
    );
    expect(run.summary).toContain(`Could not check that backup ${m.backupId}'s archive`);
  });

  it('passes when neither production nor the backup has a migrations table, and says the check had nothing to compare', async () => {
    const run = await gate({ store: plainStore, 'database-url': plainUrl });
    expect(run.error).toBeUndefined();
    expect(run.outputs.reason).toMatch(
      /neither production nor the backup has a migrations table supabase_migrations\.schema_migrations\.$/,
    );
    expect(run.summary).toContain(
      'backup no table · production no table supabase_migrations.schema_migrations',
    );
    // Production has applied nothing, so every file in the repository is still to come.
    expect(run.summary).toContain('4 migrations in');
  });

  it('fails when only production has the migrations table', async () => {
    const run = await gate({ store: plainStore, 'database-url': appUrl });
    expect(run.error?.message).toMatch(
      /^Production records migrations in supabase_migrations\.schema_migrations \(latest 20240320120000\), but backup \S+ recorded none/,
    );
  });

  it('fails when only the backup has the migrations table', async () => {
    const run = await gate({ store: appStore, 'database-url': plainUrl });
    expect(run.error?.message).toMatch(
      /but production has no table supabase_migrations\.schema_migrations\.$/,
    );
    expect(run.error?.hint).toMatch(/migrations-table/);
  });

  it('is not fresh when production cannot be reached, and explains the connection failure', async () => {
    const closed = cluster.url({ database: 'app' }).replace(`:${cluster.port}/`, ':1/');
    const run = await gate({ store: appStore, 'database-url': closed, 'fail-on-stale': 'false' });
    expect(run.outputs.fresh).toBe('false');
    expect(run.outputs.reason).toMatch(/^Cannot read production's migrations: /);
    expectNoSecrets(run, [cluster.password]);
  });

  it('leaves the pending list out when the repository has no migrations directory', async () => {
    const run = await gate({ store: appStore, 'migrations-dir': path.join(work, 'nowhere') });
    expect(run.outputs.fresh).toBe('true');
    expect(run.summary).not.toContain('Migrations this change will apply');
  });
});
