/**
 * Migration files in the repository and which of them production has not applied yet.
 * Supabase names them `<version>_<name>.sql` with a 14-digit timestamp as the version;
 * other tools use shorter counters, so any run of leading digits is a version.
 */

export interface MigrationFile {
  version: string;
  /** The part after the version, without `.sql`; empty when the file is only a version. */
  name: string;
  file: string;
}

/** Where the "already applied" baseline came from. */
export type BaselineSource = 'production' | 'backup' | 'none';

export interface PendingMigrations {
  /** Files that are in the repository and newer than the baseline, oldest first. */
  files: MigrationFile[];
  baseline: string | null;
  source: BaselineSource;
  /** `.sql` files without a leading version; listed so a typo in a name does not go unnoticed. */
  unversioned: string[];
}

const FILE_PATTERN = /^(\d+)(?:_(.*))?\.sql$/i;

/** The version and name of a migration file, or undefined when the name carries no version. */
export function parseMigrationFile(file: string): MigrationFile | undefined {
  const match = FILE_PATTERN.exec(file);
  if (!match) return undefined;
  return { version: match[1]!, name: match[2] ?? '', file };
}

/**
 * Orders versions as numbers, not text, so `9` comes before `10`; BigInt because a
 * version may be longer than the 15 digits a float holds exactly.
 */
export function compareVersions(a: string, b: string): number {
  const digits = /^\d+$/;
  if (digits.test(a) && digits.test(b)) {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  // A migrations table may hold non-numeric versions (a custom table); text order is all we have.
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Which repository migrations are newer than `baseline` (the latest applied version).
 * A null baseline means nothing is applied yet: every file is pending.
 */
export function pendingMigrations(
  fileNames: readonly string[],
  baseline: string | null,
  source: BaselineSource,
): PendingMigrations {
  const files: MigrationFile[] = [];
  const unversioned: string[] = [];
  for (const name of fileNames) {
    if (!/\.sql$/i.test(name)) continue;
    const parsed = parseMigrationFile(name);
    if (!parsed) unversioned.push(name);
    else if (baseline === null || compareVersions(parsed.version, baseline) > 0) files.push(parsed);
  }
  files.sort((a, b) => compareVersions(a.version, b.version) || a.file.localeCompare(b.file));
  return { files, baseline, source, unversioned: unversioned.sort() };
}
