import { rm } from 'node:fs/promises';
import type pg from 'pg';
import type { Manifest } from '../archive/manifest.js';
import type { DecryptKeys } from '../archive/readback.js';
import type { RestoreSettings } from '../config.js';
import { fetchDumps } from '../drill/fetch.js';
import { LifeboatError } from '../errors.js';
import type { Log } from '../log.js';
import { tableRef, type CatalogSnapshot } from '../postgres/catalog.js';
import { findPgRestore, listArchive } from '../postgres/restore.js';
import { createToolFinder } from '../postgres/tools.js';
import type { BackupStore } from '../stores/store.js';
import { createPrivateTempDir, writePrivateFile } from '../tempfiles.js';
import { copyBackSql, reviewQueries, type SideTable, type TableDiff } from './copy-back.js';
import { key, type RestorePlan } from './plan.js';
import { findPsql } from './psql-run.js';
import { loadSideTables } from './side-load.js';
import { countDifferences, readTableShape } from './table-shapes.js';
import { selectDataLines, selectTableEntries, useList } from './toc-select.js';

export interface SelectiveInput {
  settings: RestoreSettings;
  manifest: Manifest;
  /** The backup's catalog: which part holds each table's rows. */
  expected: CatalogSnapshot;
  plan: RestorePlan;
  keys: DecryptKeys;
  client: pg.Client;
  store: BackupStore;
  log: Log;
  env: NodeJS.ProcessEnv;
}

export interface SelectiveResult {
  sideSchema: string;
  tables: SideTable[];
  diffs: Map<SideTable, TableDiff>;
  /** The upsert script to review and run. */
  copyBack: string;
  /** SELECTs that list the differing rows, per table. */
  review: { table: string; queries: { label: string; sql: string }[] }[];
}

/**
 * Restores the chosen tables into `lifeboat_restore_<backup-id>` in the target, next to the
 * live ones and never over them, then compares and writes the SQL that would copy rows back.
 */
export async function restoreSelective(input: SelectiveInput): Promise<SelectiveResult> {
  const { settings, manifest, plan, client, log } = input;
  const sideSchema = plan.sideSchema!;
  await refuseExistingSideTables(client, plan);
  const temp = await createPrivateTempDir('lifeboat-restore-', input.env);
  try {
    const finder = createToolFinder({ binDir: settings.pgBinDir, env: input.env });
    const pgRestore = await findPgRestore(finder, manifest.source.pgDumpVersion);
    const psql = await findPsql(pgRestore, finder);
    const dump = temp.file('backup.dump');
    // Only the archives that hold the chosen tables: the main one, and the parts with their rows.
    const partOf = new Map(input.expected.tables.map((t) => [key(t), t.part ?? 1]));
    const parts = [...new Set([1, ...plan.tables.map((t) => partOf.get(key(t)) ?? 1)])].sort((a, b) => a - b);
    const fetched = await fetchDumps({
      store: input.store,
      manifest,
      keys: input.keys,
      file: dump,
      log,
      parts,
    });
    const entries = selectTableEntries(await listArchive(pgRestore, dump), plan.tables);
    const sources = [{ file: dump, listFile: temp.file('tables.list') }];
    await writePrivateFile(sources[0]!.listFile, useList(entries));
    for (const part of fetched.slice(1)) {
      const lines = selectDataLines(await listArchive(pgRestore, part.file), entries);
      const listFile = temp.file(`tables.part-${part.part}.list`);
      await writePrivateFile(listFile, `${lines.join('\n')}\n`);
      sources.push({ file: part.file, listFile });
    }
    log.info(
      `Restoring ${plan.tables.map((t) => `${t.schema}.${t.name}`).join(', ')} into schema ${sideSchema}.`,
    );
    await loadSideTables({
      pgRestore,
      psql,
      sources,
      target: settings.target,
      sideSchema,
      sideNames: new Map(plan.tables.map((t) => [key(t), t.sideName!])),
      note: `Rows of backup ${manifest.backupId} (${manifest.name}, ${manifest.completedAt}) restored by Lifeboat for review; drop this schema when done.`,
      mask: (text) => log.mask(text),
    });
    await Promise.all(fetched.map((f) => rm(f.file, { force: true })));
  } finally {
    await temp.remove();
  }

  const tables: SideTable[] = [];
  for (const t of plan.tables) {
    const side = await readTableShape(client, sideSchema, t.sideName!);
    if (!side)
      throw new LifeboatError(
        'internal',
        `The side table ${sideSchema}.${t.sideName} is missing after the load.`,
      );
    const live = await readTableShape(client, t.schema, t.name);
    tables.push({ schema: t.schema, name: t.name, sideSchema, sideName: t.sideName!, side, live });
  }
  const diffs = new Map<SideTable, TableDiff>();
  for (const t of tables) diffs.set(t, await countDifferences(client, t));
  return {
    sideSchema,
    tables,
    diffs,
    copyBack: copyBackSql(tables, diffs, manifest.backupId),
    review: tables.map((t) => ({ table: `${t.schema}.${t.name}`, queries: reviewQueries(t) })),
  };
}

/** A second selective restore of the same backup may add tables, never replace ones already restored. */
async function refuseExistingSideTables(client: pg.ClientBase, plan: RestorePlan): Promise<void> {
  const taken: { name: string; ref: string }[] = [];
  for (const t of plan.tables) {
    const ref = tableRef(plan.sideSchema!, t.sideName!);
    const { rows } = await client.query('SELECT to_regclass($1) IS NOT NULL AS taken', [ref]);
    if ((rows[0] as { taken?: boolean } | undefined)?.taken)
      taken.push({ name: `${plan.sideSchema}.${t.sideName}`, ref });
  }
  if (!taken.length) return;
  const one = taken.length === 1;
  throw new LifeboatError(
    'restore',
    `${taken.map((t) => t.name).join(', ')} already ${one ? 'exists' : 'exist'} from an earlier selective restore of this backup. Nothing was changed.`,
    {
      hint: `Review the rows already there, or drop ${one ? 'it' : 'them'} first (DROP TABLE ${taken.map((t) => t.ref).join(', ')};) and run the restore again.`,
    },
  );
}
