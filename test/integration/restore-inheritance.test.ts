import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OBJECT_KIND_GROUPS } from '../fixtures/object-kinds.js';
import { confirmFor, startCluster, type Cluster } from '../helpers/cluster.js';
import { runLifeboat } from '../helpers/lifeboat.js';
import { backupFixture, type BackupFixture } from '../helpers/world.js';

/**
 * A selective restore of inheritance parents. The catalog counts a table with count(*), which
 * reads its children too, while the restored copy holds the table's own rows: vehicles has
 * children cars and trucks, and amphibious inherits from both (a diamond), so count(*) says 5
 * for vehicles, whose own rows are 1.
 */
let cluster: Cluster;
let fx: BackupFixture;
let url: string;
let sideSchema: string;

beforeAll(async () => {
  cluster = await startCluster();
  url = await cluster.createDatabase('app');
  await cluster.exec(OBJECT_KIND_GROUPS.find((g) => g.name === 'table inheritance')!.setup, 'app');
  fx = await backupFixture();
  const backup = await runLifeboat(
    { mode: 'backup', 'database-url': url, store: fx.dir, 'encryption-identity': fx.identity },
    { store: fx.store },
  );
  if (backup.error) throw backup.error;
  sideSchema = `lifeboat_restore_${backup.manifest!.backupId}`;
  // Since the backup: one row of the parent's own, one in a child.
  await cluster.exec(
    `INSERT INTO public.vehicles VALUES (6, 'tricycle', 3); INSERT INTO public.cars VALUES (7, 'van', 4, 8);`,
    'app',
  );
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
  await fx?.cleanup();
});

const count = async (table: string) =>
  Number((await cluster.query<{ n: string }>(`SELECT count(*) AS n FROM ONLY ${table}`, [], 'app'))[0]!.n);

describe('selective restore of inheritance parents', () => {
  it("restores each table's own rows, checks them against the backup and compares them with the live table's own rows", async () => {
    const restore = await runLifeboat(
      {
        mode: 'restore',
        store: fx.dir,
        'target-url': url,
        'encryption-identity': fx.identity,
        confirm: confirmFor(cluster, 'app'),
        tables: 'public.vehicles, public.cars',
      },
      { store: fx.store, unmasked: true },
    );
    expect(restore.error).toBeUndefined();
    expect(await count(`${sideSchema}.vehicles`)).toBe(1);
    expect(await count(`${sideSchema}.cars`)).toBe(2);
    // Own rows on both sides: the backup's 1 and 2 against the live table's 2 and 3.
    expect(restore.summary).toMatch(/public\.vehicles: 1 row → .*\(live table: 2 in the target/);
    expect(restore.summary).toMatch(/public\.cars: 2 rows → .*\(live table: 3 in the target/);
    expect(restore.summary).toMatch(/public\.vehicles[^\n]*1 only in the target/);
    // The live tables are as they were.
    expect(await count('public.vehicles')).toBe(2);
    expect(await count('public.cars')).toBe(3);
  }, 120_000);
});
