import { storedArchives, totalStoredBytes } from '../archive/manifest.js';
import { readAllManifests } from '../archive/manifests.js';
import { formatBytes, formatDuration } from '../duration.js';
import type { Log } from '../log.js';
import type { BackupStore } from '../stores/store.js';

/** A table of every backup in a set: id, age, size, verification level. */
export async function listBackups(store: BackupStore, name: string, log: Log, json: boolean): Promise<void> {
  const { manifests, damaged } = await readAllManifests(store, name);
  const now = Date.now();
  const rows = manifests.map((m) => ({
    backupId: m.backupId,
    createdAt: m.createdAt,
    ageSeconds: Math.round((now - Date.parse(m.completedAt)) / 1000),
    sizeBytes: totalStoredBytes(m),
    parts: storedArchives(m).length,
    verified: m.verification.level,
    migration: m.migration?.latestVersion ?? null,
    // Which key reads it: public keys only, never a secret.
    encryption: m.archive.encryption,
    recipients: m.recipients ?? null,
    keyGeneration: m.keyGeneration ?? 1,
  }));
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ store: store.location, name, backups: rows, damaged }, null, 2)}\n`,
    );
    return;
  }
  if (rows.length === 0 && damaged.length === 0) {
    log.info(`No backups of "${name}" in ${store.location}.`);
    return;
  }
  const lines = [
    ['BACKUP ID', 'AGE', 'SIZE', 'VERIFIED', 'MIGRATION', 'KEY'],
    ...rows.map((r) => [
      r.backupId,
      formatDuration(r.ageSeconds),
      formatBytes(r.sizeBytes),
      r.verified,
      r.migration ?? '-',
      keyText(r.encryption, r.recipients),
    ]),
  ];
  const widths = lines[0]!.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  for (const line of lines)
    process.stdout.write(
      `${line
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd()}\n`,
    );
  for (const d of damaged) log.warning(`${d.backupId}: manifest unreadable: ${d.error}`);
}

/** The key a backup needs, short enough for a table: `age1abcdef…uvwxyz`, or the passphrase. */
export function keyText(encryption: string, recipients: string[] | null): string {
  if (encryption === 'age-scrypt') return 'passphrase';
  if (!recipients?.length) return '(not recorded)';
  return recipients.map((r) => `${r.slice(0, 10)}…${r.slice(-6)}`).join(',');
}
