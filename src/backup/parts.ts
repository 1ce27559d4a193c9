import type { BackupSettings } from '../settings/settings.js';
import { formatBytes } from '../duration.js';
import type { Log } from '../log.js';
import type { CatalogSnapshot } from '../postgres/catalog.js';
import type { SnapshotSession } from '../postgres/pg-dump.js';
import {
  dataPartArgs,
  mainPartArgs,
  readTableSizes,
  splitTables,
  type TableSize,
} from '../postgres/dump-split.js';
import { archiveKey, partKey } from '../archive/store-keys.js';

/** One pg_dump of the backup: what it takes and where its archive goes. */
export interface PartPlan {
  key: string;
  args: string[];
  label?: string;
  tables: TableSize[];
}

/**
 * One part, the whole database, unless `dump-jobs` asks for more and the server exported a
 * snapshot they can share; then the tables' rows are shared out by size (see dump-split).
 */
export async function planParts(
  settings: BackupSettings,
  session: SnapshotSession,
  backupId: string,
  log: Log,
): Promise<PartPlan[]> {
  const whole: PartPlan[] = [{ key: archiveKey(settings.name, backupId), args: [], tables: [] }];
  if (settings.dumpJobs <= 1) return whole;
  if (!session.snapshotId) {
    log.warning(
      `dump-jobs is ${settings.dumpJobs}, but parallel pg_dump processes need a snapshot they can share and this server exports none: dumping in one part.`,
    );
    return whole;
  }
  const { eligible, stayBytes } = await readTableSizes(session.client);
  const split = splitTables(eligible, stayBytes, settings.dumpJobs);
  if (split.parts.length === 0) {
    log.info(
      `dump-jobs is ${settings.dumpJobs}, but too few tables hold rows to share them out: dumping in one part.`,
    );
    return whole;
  }
  const count = split.parts.length + 1;
  log.info(
    `Dumping in ${count} parallel parts of about ${split.bytes.map((b) => formatBytes(b)).join(', ')} on disk.`,
  );
  return [
    { ...whole[0]!, args: mainPartArgs(split), label: `part 1 of ${count}` },
    ...split.parts.map((tables, i) => ({
      key: partKey(settings.name, backupId, i + 2),
      args: dataPartArgs(tables),
      label: `part ${i + 2} of ${count}`,
      tables,
    })),
  ];
}

/** The catalog snapshot, with each table that a data part carries marked with that part. */
export function markParts(catalog: CatalogSnapshot, parts: PartPlan[]): CatalogSnapshot {
  if (parts.length === 1) return catalog;
  const partOf = new Map<string, number>();
  parts.forEach((p, i) => p.tables.forEach((t) => partOf.set(JSON.stringify([t.schema, t.name]), i + 1)));
  return {
    ...catalog,
    tables: catalog.tables.map((t) => {
      const part = partOf.get(JSON.stringify([t.schema, t.name]));
      return part ? { ...t, part } : t;
    }),
  };
}
