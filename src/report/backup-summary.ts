import { formatBytes, formatDuration } from '../duration.js';
import type { Manifest } from '../archive/manifest.js';

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
  const dump = m.archive.dumpBytes;
  const rows: [string, string][] = [
    ['Backup id', `\`${m.backupId}\``],
    ['Set', `\`${m.name}\` in ${report.store}`],
    [
      'Database',
      `${report.database} (PostgreSQL ${m.source.serverVersion}, pg_dump ${m.source.pgDumpVersion})`,
    ],
    [
      'Size',
      dump == null
        ? formatBytes(m.archive.sizeBytes)
        : `${formatBytes(dump)} → ${formatBytes(m.archive.sizeBytes)} (${ratio(dump, m.archive.sizeBytes)})`,
    ],
    [
      'Duration',
      `${formatDuration(report.dumpSeconds)} dump + ${formatDuration(report.verifySeconds)} read-back`,
    ],
    ['Throughput', `${formatBytes((dump ?? m.archive.sizeBytes) / seconds)}/s`],
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
    ...manualRestore(m.archive.key),
    '```',
    '</details>',
    '',
  ].join('\n');
}

export function manualRestore(key: string): string[] {
  const file = key.split('/').pop() ?? key;
  return [
    `# fetch ${key} from the store, then:`,
    `age -d -i key.txt ${file} | zstd -d > backup.dump`,
    'pg_restore --list backup.dump | head            # look inside',
    'createdb restored && pg_restore --exit-on-error -d restored backup.dump',
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
