import type pg from 'pg';
import type { DecryptKeys } from '../archive/age/index.js';
import type { Manifest } from '../archive/manifest.js';
import type { Log } from '../log.js';
import type { CatalogSnapshot } from '../postgres/catalog.js';
import type { RestoreSettings } from '../settings/settings.js';
import type { BackupStore } from '../stores/store.js';
import type { ArchiveContents, ArchiveEntry } from '../postgres/archive-toc.js';
import type { PlannedTable, RestorePlan } from './plan.js';
import type { PrivateTempDir } from '../tempfiles.js';
import type { PlainArchive } from '../archive/plain-stream.js';
import type { ScriptPiece } from '../postgres/psql.js';
import { copyIntoSide, type SideColumn, type SideCopyTable } from './side-copy.js';

/** What a selective restore starts from. */
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

/** What the two ways of loading a selective restore share. */
export type SideLoadMethod = 'scratch database' | 'archive rows';

/** One archive of the backup, read from the store as a stream whenever it is needed. */
export interface Archive {
  /** 1 the main archive, 2… the data parts. */
  part: number;
  contents: ArchiveContents;
  /** A new plaintext stream of the whole archive. */
  open(): Promise<PlainArchive>;
}

export interface ChosenTable {
  table: PlannedTable;
  /** The TABLE entry, in the main archive. */
  definition: ArchiveEntry;
}

export interface SideLoad {
  psql: string;
  /** The main archive, then the parts that hold chosen tables' rows. */
  archives: Archive[];
  chosen: ChosenTable[];
  input: SelectiveInput;
  temp: PrivateTempDir;
}

/** The TABLE DATA entries of the chosen tables in one archive (each carries its table's oid). */
export function rowsEntries(archive: Archive, chosen: ChosenTable[]): ArchiveEntry[] {
  const oids = new Set(chosen.map((c) => c.definition.oid));
  return archive.contents.entries.filter((e) => e.desc === 'TABLE DATA' && oids.has(e.oid));
}

/** Whether the target knows a type by this (schema-qualified) name. */
export async function typeExists(client: pg.ClientBase, type: string): Promise<boolean> {
  const { rows } = await client.query('SELECT to_regtype($1) IS NOT NULL AS ok', [type]);
  return Boolean((rows[0] as { ok?: boolean } | undefined)?.ok);
}

/** What the side copy of a chosen table holds: its columns and the rows the backup recorded. */
export function sideCopyOf(table: PlannedTable, columns: SideColumn[]): SideCopyTable {
  return {
    schema: table.schema,
    name: table.name,
    sideName: table.sideName!,
    columns,
    rows: table.backupRows,
  };
}

/** Says which columns became text, then copies every table's rows into the side schema. */
export async function copyToSide<T extends SideCopyTable>(
  o: SideLoad,
  tables: T[],
  rows: (t: T) => ScriptPiece,
): Promise<void> {
  const { input } = o;
  for (const t of tables)
    for (const c of t.columns.filter((x) => x.fallback))
      input.log.warning(`${t.schema}.${t.name}.${c.name}: restored as text (${c.fallback}).`);
  await copyIntoSide({
    psql: o.psql,
    rows: (t) => rows(t as T),
    target: input.settings.target,
    sideSchema: input.plan.sideSchema!,
    tables,
    note: `Rows of backup ${input.manifest.backupId} (${input.manifest.name}, ${input.manifest.completedAt}) restored by Lifeboat for review; drop this schema when done.`,
    mask: (text) => input.log.mask(text),
  });
}
