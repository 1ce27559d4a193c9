import { randomBytes } from 'node:crypto';

/**
 * `YYYYMMDD_HHMMSS_mmm_<8 hex>`: sorts by time as plain text, never collides (32 random
 * bits within one millisecond), and is safe everywhere it travels: file names, S3 and
 * cache keys, and unquoted inside a schema name (`lifeboat_restore_<id>`).
 */
export function newBackupId(now: Date = new Date()): string {
  const iso = now.toISOString(); // 2026-11-24T00:03:12.345Z
  const date = iso.slice(0, 10).replace(/-/g, '');
  const time = iso.slice(11, 19).replace(/:/g, '');
  const millis = iso.slice(20, 23);
  return `${date}_${time}_${millis}_${randomBytes(4).toString('hex')}`;
}

const ID_PATTERN = /^\d{8}_\d{6}_\d{3}_[0-9a-f]{8}$/;

export function isBackupId(text: string): boolean {
  return ID_PATTERN.test(text);
}

/** The time a backup id was minted, for age checks that must not trust file times. */
export function backupIdTime(id: string): Date | undefined {
  if (!isBackupId(id)) return undefined;
  const iso = `${id.slice(0, 4)}-${id.slice(4, 6)}-${id.slice(6, 8)}T${id.slice(9, 11)}:${id.slice(11, 13)}:${id.slice(13, 15)}.${id.slice(16, 19)}Z`;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
