import type pg from 'pg';
import { openPlainArchive, readHead } from '../archive/plain-stream.js';
import { LifeboatError } from '../errors.js';
import { readArchiveHead } from '../postgres/archive-toc.js';
import { ownRows } from './own-rows.js';
import { tableRef } from '../postgres/catalog.js';
import { findPgRestore } from '../postgres/pg-restore.js';
import { createToolFinder } from '../postgres/tools.js';
import { createPrivateTempDir } from '../tempfiles.js';
import { copyBackSql, reviewQueries, type SideTable, type TableDiff, type TableShape } from './copy-back.js';
import { key, type PlannedTable, type RestorePlan } from './plan.js';
import { findPsql } from '../postgres/psql.js';
import { createScratchDatabase } from './scratch.js';
import { loadFromArchive } from './side-archive.js';
import type { Archive, ChosenTable, SelectiveInput, SideLoadMethod } from './side-load.js';
import { loadViaScratch } from './side-scratch.js';
import { countDifferences, readTableShape } from './table-shapes.js';

export interface SelectiveResult {
  sideSchema: string;
  /** How the rows reached the side schema. */
  method: SideLoadMethod;
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
 *
 * The archive's SQL for the chosen tables (and only what their definitions depend on) runs
 * in a scratch database on the target server; only their rows, as COPY data, reach the
 * target (see side-copy.ts). A server that refuses to create a database gets the archive's
 * rows read straight from the archive file instead (see side-raw.ts), again as data only.
 */
export async function restoreSelective(input: SelectiveInput): Promise<SelectiveResult> {
  const { settings, manifest, plan, client, log } = input;
  const sideSchema = plan.sideSchema!;
  await refuseExistingSideTables(client, plan);
  const temp = await createPrivateTempDir('lifeboat-restore-', input.env);
  let shapes: Map<string, TableShape>;
  let method: SideLoadMethod;
  try {
    const finder = createToolFinder({ binDir: settings.pgBinDir, env: input.env });
    const pgRestore = await findPgRestore(finder, manifest.source.pgDumpVersion);
    const psql = await findPsql(pgRestore, finder);
    // Only the archives that hold the chosen tables: the main one, and the parts with their rows.
    const partOf = new Map(input.expected.tables.map((t) => [key(t), t.part ?? 1]));
    const parts = [...new Set([1, ...plan.tables.map((t) => partOf.get(key(t)) ?? 1)])].sort((a, b) => a - b);
    // Each streams from the store whenever it is read: no plaintext of the dump on disk.
    const archives: Archive[] = await Promise.all(
      parts.map(async (part) => {
        const open = () => openPlainArchive({ store: input.store, manifest, keys: input.keys, part });
        return { part, contents: await readHead(open, readArchiveHead), open };
      }),
    );
    const chosen = locateTables(archives, plan.tables);
    // The catalog counted an inheritance parent with its children; its restored copy holds its own rows.
    for (const c of chosen) {
      const own = ownRows(archives[0]!.contents.entries, input.expected, c.definition);
      if (own !== undefined) c.table.backupRows = own;
    }
    const load = { psql, archives, chosen, input, temp };
    const scratch = await createScratchDatabase(client, settings.target, manifest.backupId);
    if ('refused' in scratch) {
      method = 'archive rows';
      log.warning(
        `The target-url user may not create a scratch database (${scratch.refused}), so Lifeboat reads the chosen tables' rows straight from the archive: column types come from the live tables (text where a column is gone), and a table the target no longer has is restored with text columns.`,
      );
      shapes = await loadFromArchive(load);
    } else {
      method = 'scratch database';
      log.info(
        `Loading ${plan.tables.map((t) => `${t.schema}.${t.name}`).join(', ')} into scratch database ${scratch.name}; only their rows reach the target.`,
      );
      try {
        shapes = await loadViaScratch({ ...load, pgRestore, scratch });
      } finally {
        await scratch
          .drop()
          .catch((error: unknown) =>
            log.warning(
              `Could not drop scratch database ${scratch.name}: ${(error as Error).message}. Drop it by hand.`,
            ),
          );
      }
    }
  } finally {
    await temp.remove();
  }

  const tables: SideTable[] = [];
  for (const t of plan.tables) {
    const live = await readTableShape(client, t.schema, t.name);
    const side = shapes.get(key(t))!;
    tables.push({ schema: t.schema, name: t.name, sideSchema, sideName: t.sideName!, side, live });
  }
  const diffs = new Map<SideTable, TableDiff>();
  for (const t of tables) diffs.set(t, await countDifferences(client, t));
  return {
    sideSchema,
    method,
    tables,
    diffs,
    copyBack: copyBackSql(tables, diffs, manifest.backupId),
    review: tables.map((t) => ({ table: `${t.schema}.${t.name}`, queries: reviewQueries(t) })),
  };
}

/** Each chosen table's definition in the main archive, found by its fields (schema, name, owner), never guessed. */
function locateTables(archives: Archive[], tables: PlannedTable[]): ChosenTable[] {
  return tables.map((table) => {
    const defs = archives[0]!.contents.entries.filter(
      (e) => e.desc === 'TABLE' && e.namespace === table.schema && e.tag === table.name,
    );
    if (defs.length !== 1) {
      throw new LifeboatError(
        'restore',
        defs.length
          ? `The archive holds ${defs.length} definitions of table ${table.schema}.${table.name}; refusing to guess which. Nothing was changed.`
          : `The archive holds no definition of table ${table.schema}.${table.name}, though the backup's catalog lists it. Nothing was changed.`,
        { hint: 'Restore this backup in full into a new database and copy the table from there.' },
      );
    }
    return { table, definition: defs[0]! };
  });
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
