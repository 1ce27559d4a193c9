import { readFile } from 'node:fs/promises';
import { expect } from 'vitest';
import type { DrillReport } from '../../src/drill/report.js';
import type { BackupStore } from '../../src/stores/store.js';
import type { Cluster } from './cluster.js';
import { runLifeboat } from './lifeboat.js';
import type { BackupFixture } from './world.js';

/** A backup of `url` into the fixture's store as set `name`, which must pass; its manifest. */
export async function backupAs(
  fx: BackupFixture,
  url: string,
  name: string,
  inputs: Record<string, string> = {},
) {
  const backup = await runLifeboat(
    {
      mode: 'backup',
      'database-url': url,
      store: fx.dir,
      'encryption-identity': fx.identity,
      name,
      ...inputs,
    },
    { store: fx.store },
  );
  expect(backup.error, String((backup.error as Error | undefined)?.message)).toBeUndefined();
  return backup.manifest!;
}

/**
 * A drill of set `name` into `target` that must pass, keeping its database: the run, its
 * report and the kept database's name (the caller drops it).
 */
export async function drillKept(
  fx: BackupFixture,
  target: Cluster,
  name: string,
  store: BackupStore = fx.store,
) {
  const run = await runLifeboat(
    {
      mode: 'drill',
      store: fx.dir,
      name,
      'target-url': target.url(),
      'encryption-identity': fx.identity,
      'keep-database': 'true',
    },
    { store },
  );
  expect(run.error, String((run.error as Error | undefined)?.message)).toBeUndefined();
  const report = JSON.parse(await readFile(run.outputs['report-path']!, 'utf8')) as DrillReport;
  const [kept] = await target.query<{ datname: string }>(
    `SELECT datname FROM pg_database WHERE datname LIKE 'lifeboat_drill_%'`,
  );
  return { run, report, db: kept!.datname };
}
