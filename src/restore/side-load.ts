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

export interface Archive {
  file: string;
  contents: ArchiveContents;
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
