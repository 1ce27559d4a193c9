import { formatBytes, formatDuration } from '../duration.js';
import { storedArchives, totalDumpBytes, totalStoredBytes, type Manifest } from '../archive/manifest.js';

export interface BackupReport {
  manifest: Manifest;
  database: string;
  store: string;
  dumpSeconds: number;
  verifySeconds: number;
}

/** The job summary of a backup: what was taken, how well it was proven, how to restore it by hand. */
export function renderBackupSummary(report: BackupReport): string {
  const m = report.manifest;
  const seconds = Math.max(report.dumpSeconds, 0.001);
  const archives = storedArchives(m);
  const stored = totalStoredBytes(m);
  const dump = totalDumpBytes(m);
  const rows: [string, string][] = [
    ['Backup id', `\`${m.backupId}\``],
    ['Set', `\`${m.name}\` in ${report.store}`],
    [
      'Database',
      `${report.database} (PostgreSQL ${m.source.serverVersion}, pg_dump ${m.source.pgDumpVersion})`,
    ],
    [
      'Size',
      (dump == null
        ? formatBytes(stored)
        : `${formatBytes(dump)} → ${formatBytes(stored)} (${ratio(dump, stored)})`) +
        (archives.length > 1 ? `, in ${archives.length} parts dumped in parallel` : ''),
    ],
    [
      'Duration',
      `${formatDuration(report.dumpSeconds)} dump + ${formatDuration(report.verifySeconds)} read-back`,
    ],
    ['Throughput', `${formatBytes((dump ?? stored) / seconds)}/s`],
    ['Verified', levelText(m.verification.level)],
    ['SHA-256', `\`${m.archive.sha256}\``],
    ['Latest migration', m.migration?.latestVersion ? `\`${m.migration.latestVersion}\`` : 'none recorded'],
  ];
  return [
    `### Lifeboat backup \`${m.backupId}\``,
    '',
    '| | |',
    '| --- | --- |',
    ...rows.map(([k, v]) => `| ${k} | ${v} |`),
    '',
    '<details><summary>Restore by hand</summary>',
    '',
    '```sh',
    ...manualRestore(archives.map((a) => a.key)),
    '```',
    '</details>',
    '',
  ].join('\n');
}

/** The commands that restore a backup with nothing but age, zstd and pg_restore. */
export function manualRestore(keys: string[]): string[] {
  const [main, ...parts] = keys.map((key) => key.split('/').pop() ?? key);
  const head = [
    `# fetch ${keys.length === 1 ? keys[0] : `${keys[0]} and its parts (${keys.length})`} from the store, then:`,
    `age -d -i key.txt ${main} | zstd -d > backup.dump`,
  ];
  if (!parts.length) {
    return [
      ...head,
      'pg_restore --list backup.dump | head            # look inside',
      'createdb restored && pg_restore --exit-on-error -d restored backup.dump',
    ];
  }
  return [
    ...head,
    ...parts.map((file, i) => `age -d -i key.txt ${file} | zstd -d > part-${i + 2}.dump`),
    'createdb restored',
    'pg_restore --exit-on-error --section=pre-data -d restored backup.dump',
    '# the rows: these may run at the same time',
    'pg_restore --exit-on-error --section=data -d restored backup.dump',
    ...parts.map((_, i) => `pg_restore --exit-on-error --section=data -d restored part-${i + 2}.dump`),
    'pg_restore --exit-on-error --section=post-data -d restored backup.dump',
  ];
}

function levelText(level: string): string {
  switch (level) {
    case 'readable':
      return '**readable**: stored bytes match, every chunk decrypted and authenticated, decompressed to the end, table of contents parsed';
    case 'restored':
      return '**restored**: a drill restored it and its catalog matched';
    default:
      return '**stored**: stored bytes match the checksum (pass an identity to prove it decrypts)';
  }
}

function ratio(before: number, after: number): string {
  return after > 0 ? `${(before / after).toFixed(1)}×` : '–';
}
