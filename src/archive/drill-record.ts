import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { z } from 'zod';
import { isBackupId } from './backup-id.js';
import { DRILL_RECORD_SUFFIX, drillRecordKey } from './store-keys.js';
import type { BackupStore } from '../stores/store.js';

/**
 * A drill's result kept in the store beside the backup it drilled
 * (`<name>/<backup-id>.drill.json`), so the watch can tell "no drill for 40 days" or "the
 * last drill failed" from the store alone, without GitHub. Plain JSON, readable without a
 * key, so it holds nothing from the data: no table, schema or role name, no message text
 * (a failure message may quote a table), only the step that failed and counts.
 */
export const DRILL_RECORD_FORMAT = 'lifeboat-drill-record';

export const DrillRecordSchema = z.object({
  format: z.literal(DRILL_RECORD_FORMAT),
  formatVersion: z.literal(1),
  name: z.string(),
  backupId: z.string(),
  status: z.enum(['passed', 'failed']),
  startedAt: z.string(),
  finishedAt: z.string(),
  rtoSeconds: z.number().nullable(),
  rpoSeconds: z.number().nullable(),
  rtoTargetSeconds: z.number().nullable(),
  rpoTargetSeconds: z.number().nullable(),
  /** The drill step that failed (`restore`, `compare`, …); null when it passed. */
  failedStep: z.string().nullable(),
  /** How many differences failed the drill. */
  failedChecks: z.number().int().nonnegative(),
  lifeboatVersion: z.string(),
  /** The workflow run, when there was one. */
  runUrl: z.string().nullable(),
});

export type StoredDrillRecord = z.infer<typeof DrillRecordSchema>;

/** Writes (or replaces: a backup drilled twice keeps its last result) the record. */
export async function writeDrillRecord(store: BackupStore, record: StoredDrillRecord): Promise<string> {
  const key = drillRecordKey(record.name, record.backupId);
  await store.put(key, Readable.from([`${JSON.stringify(record, null, 2)}\n`]), { overwrite: true });
  return key;
}

/** The record of one backup's drill, undefined when it has none or it does not parse. */
export async function readDrillRecord(
  store: BackupStore,
  name: string,
  backupId: string,
): Promise<StoredDrillRecord | undefined> {
  const key = drillRecordKey(name, backupId);
  if (!(await store.stat(key))) return undefined;
  return parseDrillRecord(await buffer(await store.get(key)), name, backupId);
}

/** Backup ids of every drill record stored under `name`, newest backup first. */
export async function listDrillRecordIds(store: BackupStore, name: string): Promise<string[]> {
  const keys = await store.list(`${name}/`);
  return keys
    .filter((k) => k.endsWith(DRILL_RECORD_SUFFIX))
    .map((k) => k.slice(name.length + 1, -DRILL_RECORD_SUFFIX.length))
    .filter((id) => isBackupId(id))
    .sort()
    .reverse();
}

/** A record only counts for the key it was read under: one copied from another set is ignored. */
export function parseDrillRecord(
  bytes: Buffer,
  name: string,
  backupId: string,
): StoredDrillRecord | undefined {
  try {
    const record = DrillRecordSchema.parse(JSON.parse(bytes.toString('utf8')));
    return record.name === name && record.backupId === backupId ? record : undefined;
  } catch {
    return undefined;
  }
}
