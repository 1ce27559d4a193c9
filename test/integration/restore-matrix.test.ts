import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifest } from '../../src/archive/manifests.js';
import { readExpectedCatalog } from '../../src/archive/fetch.js';
import { storedArchives } from '../../src/archive/manifest.js';
import { archiveFeed, openPlainArchive } from '../../src/archive/plain-stream.js';
import { MemoryLog } from '../../src/log.js';
import { parseConnectionUrl } from '../../src/postgres/connection.js';
import { createToolFinder } from '../../src/postgres/tools.js';
import { planReplace, replaceContents } from '../../src/restore/replace.js';
import { createPrivateTempDir } from '../../src/tempfiles.js';
import { MATRIX_ROLES, OBJECT_KIND_GROUPS, type ObjectKindGroup } from '../fixtures/object-kinds.js';
import { backupFixture, type BackupFixture } from '../helpers/world.js';
import { startCluster, type Cluster, confirmFor } from '../helpers/cluster.js';
import { inventory } from '../helpers/inventory.js';
import { databaseState } from '../helpers/fixtures.js';
import { runLifeboat } from '../helpers/lifeboat.js';

/**
 * The restore matrix: for each group of object kinds pg_dump handles, backup → damage →
 * full restore over the damaged database → the database is exactly as the backup recorded
 * it: the catalog snapshot with a content fingerprint of every table, and an inventory of
 * everything else (types, ACLs, default privileges, comments, partition bounds, event
 * triggers, publications, large objects, …).
 *
 * On PostgreSQL 15 the whole action runs, safety backup included. On 17 the backups come
 * from the 15 server (an upgrade's restore) and the restore over a live 17 database runs
 * the same steps minus the safety backup, which needs a pg_dump 17 this machine may lack.
 */
let v15: Cluster;
let v17: Cluster;
let fx: BackupFixture;
const backups = new Map<string, string>();
const dbName = (i: number) => `kinds_${i}`;

async function state(url: string) {
  return { catalog: await databaseState(url), inventory: await inventory(url) };
}

beforeAll(async () => {
  [v15, v17] = await Promise.all([startCluster(), startCluster({ major: 17 })]);
  await v15.exec(MATRIX_ROLES);
  await v17.exec(MATRIX_ROLES);
  fx = await backupFixture();
  for (const [i, group] of OBJECT_KIND_GROUPS.entries()) {
    const url = await v15.createDatabase(dbName(i));
    await v15.exec(group.setup, dbName(i));
    const backup = await runLifeboat(
      {
        mode: 'backup',
        'database-url': url,
        store: fx.dir,
        'encryption-identity': fx.identity,
        name: dbName(i),
      },
      { store: fx.store },
    );
    expect(backup.error, group.name).toBeUndefined();
    backups.set(group.name, backup.manifest!.backupId);
  }
}, 300_000);

afterAll(async () => {
  await Promise.all([v15?.stop(), v17?.stop()]);
  await fx?.cleanup();
});

const groups = OBJECT_KIND_GROUPS.map((group, i) => [group.name, group, i] as const);

describe('restore matrix on PostgreSQL 15: backup, damage, full restore', () => {
  it.each(groups)('%s', async (_name, group: ObjectKindGroup, i: number) => {
    const url = v15.url({ database: dbName(i) });
    const original = await state(url);
    await v15.exec(group.damage, dbName(i));
    expect(await state(url)).not.toEqual(original);
    const run = await runLifeboat(
      {
        mode: 'restore',
        store: fx.dir,
        name: dbName(i),
        'target-url': url,
        'encryption-identity': fx.identity,
        confirm: confirmFor(v15, dbName(i)),
      },
      { store: fx.store, unmasked: true },
    );
    expect(run.error, String((run.error as Error | undefined)?.message)).toBeUndefined();
    expect(run.outputs['safety-backup-id']).toMatch(/^\d{8}_/);
    expect(await state(url)).toEqual(original);
  });
});

describe('restore matrix on PostgreSQL 17: a 15 backup restored, damaged, restored over', () => {
  it.each(groups)('%s', async (_name, group: ObjectKindGroup, i: number) => {
    const url = await v17.createDatabase(dbName(i));
    const restoreOver = () => replaceOn17(url, dbName(i));
    await restoreOver();
    const original = await state(url);
    expect(original.inventory.length).toBeGreaterThan(0);
    await v17.exec(group.damage, dbName(i));
    expect(await state(url)).not.toEqual(original);
    await restoreOver();
    expect(await state(url)).toEqual(original);
  });
});

/** The target-facing steps of a full restore (no safety backup), into a database of the 17 server. */
async function replaceOn17(url: string, name: string): Promise<void> {
  const manifest = await readManifest(fx.store, name, backups.get(groupOf(name))!);
  const keys = { identities: [fx.identity] };
  const expected = await readExpectedCatalog(manifest, keys);
  const temp = await createPrivateTempDir('lifeboat-test-');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const log = new MemoryLog();
    const tool = await createToolFinder().forServer('pg_restore', 15, '15');
    const archive = (part: number, whole: boolean) =>
      archiveFeed(
        (feeding) => openPlainArchive({ store: fx.store, manifest, part, keys, ...feeding }),
        whole,
      );
    const parts = storedArchives(manifest).length - 1;
    const plan = await planReplace({
      client,
      tool,
      archive,
      parts,
      expected,
      profile: 'postgres',
      drops: [],
    });
    await replaceContents(plan, {
      client,
      tool,
      psql: path.join(path.dirname(tool.path), 'psql'),
      target: parseConnectionUrl(url, 'target-url'),
      archive,
      parts,
      listFile: temp.file('restore.list'),
      log,
    });
  } finally {
    await client.end();
    await temp.remove();
  }
}

function groupOf(database: string): string {
  return OBJECT_KIND_GROUPS[Number(database.replace('kinds_', ''))]!.name;
}
