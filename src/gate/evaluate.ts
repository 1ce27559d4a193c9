import { levelAtLeast, type Manifest } from '../archive/manifest.js';
import type { VerificationLevel } from '../settings/constants.js';
import { formatDuration } from '../duration.js';
import { compareVersions } from './migrations.js';

/**
 * The gate's decision, apart from every read it depends on: is there a backup we could
 * restore right now, taken after the last migration production applied? Each check is
 * judged and kept for the report; the first failing one becomes the one-sentence reason.
 */

/** Clocks on different machines drift a little; beyond this a backup "from the future" is a wrong clock. */
export const CLOCK_SKEW_TOLERANCE_SECONDS = 300;

export interface ProductionMigration {
  /** The table the gate read (`migrations-table`). */
  table: string;
  /** False when production has no such table. */
  exists: boolean;
  latestVersion: string | null;
}

/** Something the gate could not read, said so that a person can act on it. */
export interface Unreadable {
  message: string;
  hint?: string;
  /** The backup concerned, when its id is known. */
  backupId?: string;
}

export interface GateInput {
  name: string;
  /** Printable store location, for messages. */
  store: string;
  /** The newest manifest of the set; undefined when the store holds none (or could not be read). */
  manifest: Manifest | undefined;
  /** Why the store or the newest manifest could not be read: never fresh then. */
  unreadable?: Unreadable;
  now: Date;
  maxAgeSeconds: number;
  require: VerificationLevel;
  /** Production's latest migration; undefined when no `database-url` was given. */
  productionMigration?: ProductionMigration;
  /** Why production's migrations could not be read, when `database-url` was given. */
  productionUnreadable?: Unreadable;
  /** What a stat of each archive object found; undefined only when there is no manifest. */
  archives: ArchiveState | undefined;
}

/** The stored archives of the newest backup, each checked by a stat, never a read. */
export type ArchiveState =
  | { state: 'present'; key: string; count: number }
  | { state: 'missing'; key: string; part: number }
  | { state: 'wrong-size'; key: string; part: number; storedBytes: number; recordedBytes: number }
  /** The store could not answer: the check did not run, so the gate cannot pass. */
  | { state: 'unchecked'; key: string; part: number; message: string; hint?: string };

export type CheckName = 'backup' | 'clock' | 'archive' | 'age' | 'level' | 'migration';

export interface GateCheck {
  name: CheckName;
  /** undefined: not checked (and not held against the backup). */
  ok: boolean | undefined;
  detail: string;
  /** How to fix it, when it failed. */
  hint?: string;
}

export interface GateVerdict {
  fresh: boolean;
  reason: string;
  hint?: string;
  backupId?: string;
  ageSeconds?: number;
  checks: GateCheck[];
}

const RUN_BACKUP = 'Run the backup workflow (mode: backup) now, then re-run this job.';

export function evaluateGate(input: GateInput): GateVerdict {
  const { manifest } = input;
  if (input.unreadable) {
    const { message, hint, backupId } = input.unreadable;
    return { ...verdict(input, [{ name: 'backup', ok: false, detail: message, hint }]), backupId };
  }
  if (!manifest) {
    const detail = `The store ${input.store} holds no backup of "${input.name}".`;
    const hint = `${RUN_BACKUP} Check that \`store\` and \`name\` match the backup workflow's.`;
    return verdict(input, [{ name: 'backup', ok: false, detail, hint }]);
  }
  const id = manifest.backupId;
  const created = Date.parse(manifest.createdAt);
  if (Number.isNaN(created)) {
    const detail = `The manifest of backup ${id} has no valid creation time ("${manifest.createdAt}"), so its age is unknown.`;
    return verdict(input, [{ name: 'backup', ok: false, detail, hint: RUN_BACKUP }]);
  }
  const ahead = (created - input.now.getTime()) / 1000;
  const ageSeconds = Math.max(0, Math.floor(-ahead));
  const checks: GateCheck[] = [
    { name: 'backup', ok: true, detail: `Newest backup of "${input.name}" is ${id}.` },
    clockCheck(id, manifest.createdAt, input.now, ahead),
    archiveCheck(manifest, input.archives),
    ageCheck(id, ageSeconds, input.maxAgeSeconds, ahead),
    levelCheck(id, manifest.verification.level, input.require),
    migrationCheck(manifest, input.productionMigration, input.productionUnreadable),
  ];
  const skewed = ahead > CLOCK_SKEW_TOLERANCE_SECONDS;
  return { ...verdict(input, checks), backupId: id, ageSeconds: skewed ? undefined : ageSeconds };
}

function verdict(input: GateInput, checks: GateCheck[]): GateVerdict {
  const failed = checks.find((c) => c.ok === false);
  if (failed) return { fresh: false, reason: failed.detail, hint: failed.hint, checks };
  return { fresh: true, reason: freshReason(input), checks };
}

function freshReason(input: GateInput): string {
  const m = input.manifest!;
  const age = formatDuration(Math.max(0, Math.floor((input.now.getTime() - Date.parse(m.createdAt)) / 1000)));
  const p = input.productionMigration;
  const tail = !p
    ? "production's migrations were not checked (no `database-url`)"
    : !p.exists
      ? `neither production nor the backup has a migrations table ${p.table}`
      : `it holds production's latest migration ${p.latestVersion ?? '(none applied)'}`;
  return `Backup ${m.backupId} is ${age} old (max ${formatDuration(input.maxAgeSeconds)}), verified "${m.verification.level}" (requires "${input.require}"), and ${tail}.`;
}

function clockCheck(id: string, createdAt: string, now: Date, ahead: number): GateCheck {
  if (ahead <= CLOCK_SKEW_TOLERANCE_SECONDS)
    return { name: 'clock', ok: true, detail: 'Creation time is not in the future.' };
  return {
    name: 'clock',
    ok: false,
    detail: `Backup ${id} was created at ${createdAt}, ${formatDuration(ahead)} after this runner's clock (${now.toISOString()}): one of the two clocks is wrong, so the backup's age cannot be trusted.`,
    hint: 'Check the clocks of the machine that took the backup and of this runner (both should sync with NTP); a backup taken with a correct clock passes.',
  };
}

function archiveCheck(manifest: Manifest, archives: ArchiveState | undefined): GateCheck {
  const name = 'archive';
  const id = manifest.backupId;
  const afterward = 'Then find out what changed the store (retention, cache eviction, a manual edit).';
  if (archives === undefined) {
    // Reaching the checks means a manifest was read; its archives must have been looked at.
    return { name, ok: false, detail: `The archives of backup ${id} were not checked.`, hint: RUN_BACKUP };
  }
  const which = (part: number) => (part === 1 ? 'archive' : 'archive part');
  switch (archives.state) {
    case 'present': {
      const others = archives.count - 1;
      const detail = others
        ? `Archive ${archives.key} and its ${others} other ${others === 1 ? 'part are' : 'parts are'} in the store with the sizes the manifest records.`
        : `Archive ${archives.key} is in the store with the size the manifest records.`;
      return { name, ok: true, detail };
    }
    case 'missing':
      return {
        name,
        ok: false,
        detail: `Backup ${id} has a manifest but its ${which(archives.part)} ${archives.key} is missing from the store, so it cannot be restored.`,
        hint: `${RUN_BACKUP} ${afterward}`,
      };
    case 'wrong-size':
      return {
        name,
        ok: false,
        detail: `Backup ${id}'s ${which(archives.part)} ${archives.key} holds ${archives.storedBytes} bytes in the store, but the manifest records ${archives.recordedBytes}, so it cannot be restored as recorded.`,
        hint: `${RUN_BACKUP} ${afterward}`,
      };
    case 'unchecked':
      return {
        name,
        ok: false,
        detail: `Could not check that backup ${id}'s ${which(archives.part)} ${archives.key} is in the store: ${archives.message.replace(/\.$/, '')}.`,
        hint: archives.hint ?? 'Check the `store` input and its credentials, then re-run this job.',
      };
  }
}

function ageCheck(id: string, ageSeconds: number, maxAgeSeconds: number, ahead: number): GateCheck {
  const max = formatDuration(maxAgeSeconds);
  // A future time was judged by the clock check; saying "0s old" on top would mislead.
  if (ahead > CLOCK_SKEW_TOLERANCE_SECONDS)
    return { name: 'age', ok: undefined, detail: 'Unknown: see the clock.' };
  if (ageSeconds <= maxAgeSeconds)
    return { name: 'age', ok: true, detail: `${formatDuration(ageSeconds)} old (max ${max}).` };
  return {
    name: 'age',
    ok: false,
    detail: `The newest backup ${id} is ${formatDuration(ageSeconds)} old, older than \`max-age\` ${max}.`,
    hint: RUN_BACKUP,
  };
}

function levelCheck(id: string, level: VerificationLevel, required: VerificationLevel): GateCheck {
  if (levelAtLeast(level, required)) {
    return { name: 'level', ok: true, detail: `Verified "${level}" (requires "${required}").` };
  }
  const hint =
    required === 'restored'
      ? 'Only a restore drill proves "restored": run the drill workflow (mode: drill) on the newest backup, then re-run this job.'
      : 'Run the backup workflow (mode: backup) with `encryption-identity` (or the passphrase) so it reads the backup back to level "readable", then re-run this job.';
  return {
    name: 'level',
    ok: false,
    detail: `The newest backup ${id} is verified only as "${level}", below the required "${required}".`,
    hint,
  };
}

function migrationCheck(
  manifest: Manifest,
  production: ProductionMigration | undefined,
  unreadable: Unreadable | undefined,
): GateCheck {
  const name = 'migration';
  if (unreadable) {
    const detail = `Cannot read production's migrations: ${unreadable.message.replace(/\.$/, '')}.`;
    return { name, ok: false, detail, hint: unreadable.hint };
  }
  if (!production) return { name, ok: undefined, detail: 'Not checked: no `database-url` given.' };
  const backup = manifest.migration;
  const fail = (detail: string, hint = RUN_BACKUP): GateCheck => ({ name, ok: false, detail, hint });
  const table = production.table;
  if (!production.exists && !backup) {
    return { name, ok: true, detail: `Neither production nor the backup has ${table}; nothing to compare.` };
  }
  if (!production.exists) {
    return fail(
      `The backup recorded migrations in ${backup!.table}, but production has no table ${table}.`,
      'Check `migrations-table`, and that `database-url` points at the database the backup workflow backs up.',
    );
  }
  const prodLatest = production.latestVersion;
  const shown = (v: string | null) => v ?? '(none applied)';
  if (!backup) {
    return fail(
      `Production records migrations in ${table} (latest ${shown(prodLatest)}), but backup ${manifest.backupId} recorded none: it predates that table or was taken with another \`migrations-table\`.`,
    );
  }
  if (backup.table !== table) {
    return fail(
      `Backup ${manifest.backupId} recorded migrations from ${backup.table}, but the gate read ${table}; the versions cannot be compared.`,
      'Set `migrations-table` to the same table in the backup and gate workflows.',
    );
  }
  const backupLatest = backup.latestVersion;
  if (backupLatest === prodLatest) {
    return { name, ok: true, detail: `Backup and production are both at migration ${shown(prodLatest)}.` };
  }
  const prodNewer =
    backupLatest === null || (prodLatest !== null && compareVersions(prodLatest, backupLatest) > 0);
  if (prodNewer) {
    return fail(
      `Backup ${manifest.backupId} holds migrations up to ${shown(backupLatest)}, but production has applied ${shown(prodLatest)} since: it was taken before the last migration, so it does not protect the next one.`,
    );
  }
  return fail(
    `Backup ${manifest.backupId} holds migration ${shown(backupLatest)}, newer than production's latest ${shown(prodLatest)}: it comes from another database, or production was rolled back.`,
    'Check that `database-url` and `name` point at the same database as the backup workflow, then take a new backup.',
  );
}
