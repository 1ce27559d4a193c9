import { resolveManifest } from '../archive/manifests.js';
import { removePin, writePin } from '../archive/pins.js';
import { LifeboatError } from '../errors.js';
import type { Log } from '../log.js';
import type { BackupStore } from '../stores/store.js';

/**
 * `lifeboat pin <backup-id> [--reason TEXT]`: keeps one backup from every retention rule.
 * Only a backup whose manifest reads back whole is pinned (a typo must not pin nothing
 * while saying it did); `latest` pins the newest.
 */
export async function pinBackup(
  store: BackupStore,
  name: string,
  backupId: string,
  reason: string,
  log: Log,
): Promise<void> {
  const manifest = await resolveManifest(store, name, backupId);
  const pin = await writePin(store, name, manifest.backupId, reason || 'pinned by hand');
  log.info(
    `Pinned ${name}/${manifest.backupId}: ${pin.reason}. No retention rule deletes it until it is unpinned.`,
  );
}

/** `lifeboat unpin <backup-id>`: retention rules apply to the backup again. */
export async function unpinBackup(
  store: BackupStore,
  name: string,
  backupId: string,
  log: Log,
): Promise<void> {
  const manifest = await resolveManifest(store, name, backupId);
  if (await removePin(store, name, manifest.backupId)) {
    log.info(`Unpinned ${name}/${manifest.backupId}: retention rules apply to it again.`);
  } else {
    log.info(`${name}/${manifest.backupId} was not pinned; nothing changed.`);
  }
}

/** Pin and unpin name one backup: an explicit id or `latest`, never a default. */
export function requireBackupId(command: string, given: string): string {
  if (given) return given;
  throw new LifeboatError(
    'input',
    `${command} needs the backup to ${command}: \`lifeboat ${command} BACKUP-ID\`.`,
    {
      hint: '`lifeboat list` shows the ids; `latest` names the newest backup.',
    },
  );
}
