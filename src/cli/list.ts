import { storedArchives, totalStoredBytes } from '../archive/manifest.js';
import { readAllManifests } from '../archive/manifests.js';
import { findOrphans } from '../archive/orphans.js';
import { readPins } from '../archive/pins.js';
import { formatBytes, formatDuration } from '../duration.js';
import type { Log } from '../log.js';
import type { BackupStore } from '../stores/store.js';

/**
 * A table of every backup in a set: id, age, size, verification level, pin. With `all`,
 * also what interrupted backups left (no manifest): each incomplete object, its age and size.
 */
export async function listBackups(
  store: BackupStore,
  name: string,
  log: Log,
  options: { json: boolean; all?: boolean },
): Promise<void> {
  const { manifests, damaged } = await readAllManifests(store, name);
  const pins = await readPins(store, name);
  const now = Date.now();
  const rows = manifests.map((m) => ({
    backupId: m.backupId,
    createdAt: m.createdAt,
    ageSeconds: Math.round((now - Date.parse(m.completedAt)) / 1000),
    sizeBytes: totalStoredBytes(m),
    parts: storedArchives(m).length,
    verified: m.verification.level,
    migration: m.migration?.latestVersion ?? null,
    pinned: pins.has(m.backupId),
    pinReason: pins.get(m.backupId)?.reason ?? null,
    // Which key reads it: public keys only, never a secret.
    encryption: m.archive.encryption,
    recipients: m.recipients ?? null,
    keyGeneration: m.keyGeneration ?? 1,
  }));
  const incomplete = options.all
    ? (await findOrphans(store, name)).map((o) => ({
        key: o.key,
        backupId: o.backupId,
        what: o.what,
        ageSeconds: Math.round((now - o.since.getTime()) / 1000),
        sizeBytes: o.sizeBytes ?? null,
      }))
    : undefined;
  if (options.json) {
    const listing = {
      store: store.location,
      name,
      backups: rows,
      damaged,
      ...(incomplete ? { incomplete } : {}),
    };
    process.stdout.write(`${JSON.stringify(listing, null, 2)}\n`);
    return;
  }
  if (rows.length === 0 && damaged.length === 0 && !incomplete?.length) {
    log.info(`No backups of "${name}" in ${store.location}.`);
    return;
  }
  printTable([
    ['BACKUP ID', 'AGE', 'SIZE', 'VERIFIED', 'MIGRATION', 'KEY', 'PINNED'],
    ...rows.map((r) => [
      r.backupId,
      formatDuration(r.ageSeconds),
      formatBytes(r.sizeBytes),
      r.verified,
      r.migration ?? '-',
      keyText(r.encryption, r.recipients),
      r.pinned ? `yes: ${r.pinReason}` : '-',
    ]),
  ]);
  for (const d of damaged) log.warning(`${d.backupId}: manifest unreadable: ${d.error}`);
  if (!incomplete) return;
  if (incomplete.length === 0) {
    process.stdout.write('\nNo incomplete objects.\n');
    return;
  }
  process.stdout.write('\nIncomplete (no manifest; prune removes them once older than orphan-grace):\n');
  printTable([
    ['KEY', 'STATE', 'AGE', 'SIZE'],
    ...incomplete.map((o) => [
      o.key,
      `incomplete: ${o.what}`,
      formatDuration(o.ageSeconds),
      o.sizeBytes === null ? 'unknown' : formatBytes(o.sizeBytes),
    ]),
  ]);
}

function printTable(lines: string[][]): void {
  const widths = lines[0]!.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  for (const line of lines) {
    const text = line
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
    process.stdout.write(`${text}\n`);
  }
}

/** The key a backup needs, short enough for a table: `age1abcdef…uvwxyz`, or the passphrase. */
export function keyText(encryption: string, recipients: string[] | null): string {
  if (encryption === 'age-scrypt') return 'passphrase';
  if (!recipients?.length) return '(not recorded)';
  return recipients.map((r) => `${r.slice(0, 10)}…${r.slice(-6)}`).join(',');
}
