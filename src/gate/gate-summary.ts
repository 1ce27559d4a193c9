import { archiveKey, generationOf } from '../archive/store-keys.js';
import type { Manifest } from '../archive/manifest.js';
import type { VerificationLevel } from '../settings/constants.js';
import { formatDuration } from '../duration.js';
import type { GateCheck, GateVerdict, ProductionMigration } from './evaluate.js';
import type { PendingMigrations } from './migrations.js';

export interface GateReport {
  verdict: GateVerdict;
  manifest?: Manifest;
  name: string;
  store: string;
  require: VerificationLevel;
  maxAgeSeconds: number;
  productionMigration?: ProductionMigration;
  /** Undefined when `migrations-dir` does not exist. */
  pending?: PendingMigrations;
  migrationsDir: string;
  /** False: a stale backup warns instead of failing the job. */
  failOnStale: boolean;
}

/** More would drown the verdict; the repository has the full list. */
const MAX_LISTED = 30;

/**
 * The gate's report for the job summary and the pull-request comment: which migrations
 * this change will apply, which backup protects them, how old it is, how well it was
 * proven, and the verdict. Every value that may come from a pull request (file names)
 * is quoted so it cannot turn into markdown.
 */
export function renderGateSummary(report: GateReport): string {
  const { verdict } = report;
  const icon = verdict.fresh ? '✅' : report.failOnStale ? '❌' : '⚠️';
  const title = verdict.fresh ? 'a fresh backup protects this change' : 'no fresh backup';
  const lines = [
    `### ${icon} Lifeboat gate: ${title}`,
    '',
    `> ${verdict.reason.replace(/\s*\n\s*/g, ' ')}`,
    '',
    '| Check | | Result |',
    '| --- | :---: | --- |',
    ...rows(report).map(([label, check, text]) => `| ${label} | ${mark(check)} | ${cell(text)} |`),
    ...pendingRow(report.pending),
    `| **Verdict** | ${verdict.fresh ? '✅' : '❌'} | ${verdict.fresh ? '**fresh**' : '**not fresh**'} |`,
    '',
    ...pendingSection(report),
  ];
  if (!verdict.fresh) {
    const hint = verdict.hint ? `**Fix:** ${verdict.hint}` : '';
    const mode = report.failOnStale ? '' : '_`fail-on-stale` is false: this is a warning, the job goes on._';
    lines.push(...[hint, mode].filter(Boolean).flatMap((l) => [l, '']));
  }
  return lines.join('\n');
}

type Row = [label: string, check: GateCheck | undefined, text: string];

function rows(report: GateReport): Row[] {
  const { verdict, manifest: m } = report;
  const check = (name: GateCheck['name']) => verdict.checks.find((c) => c.name === name);
  // A failed check explains itself; a passed one shows the facts.
  const text = (c: GateCheck | undefined, facts: string) => (c?.ok === false ? c.detail : facts);
  const backup = check('backup');
  if (!m || backup?.ok === false) {
    return [
      ['Backup', backup, backup?.ok === false ? backup.detail : `Set \`${report.name}\` in ${report.store}`],
    ];
  }
  const out: Row[] = [['Backup', backup, `\`${m.backupId}\` of set \`${report.name}\` in ${report.store}`]];
  const clock = check('clock');
  if (clock?.ok === false) out.push(['Clock', clock, clock.detail]);
  const age = check('age');
  const ageText =
    verdict.ageSeconds === undefined
      ? 'unknown'
      : `${formatDuration(verdict.ageSeconds)} old (max ${formatDuration(report.maxAgeSeconds)})`;
  out.push(['Age', age, text(age, `${ageText}, taken ${m.createdAt}`)]);
  const level = check('level');
  out.push(['Verified', level, text(level, `${m.verification.level} (requires ${report.require})`)]);
  const migration = check('migration');
  out.push(['Migration', migration, text(migration, migrationFacts(m, report.productionMigration))]);
  const archive = check('archive');
  out.push([
    'Archive',
    archive,
    archive?.ok === true
      ? `\`${archiveKey(m.name, m.backupId, generationOf(m))}\` ${partsOf(m)}`
      : (archive?.detail ?? ''),
  ]);
  return out;
}

function pendingRow(pending: PendingMigrations | undefined): string[] {
  if (!pending) return [];
  const n = pending.files.length;
  const text = n === 0 ? 'none' : `${n === 1 ? '1 migration' : `${n} migrations`} (listed below)`;
  return [`| Pending migrations | | ${text} |`];
}

function migrationFacts(m: Manifest, production: ProductionMigration | undefined): string {
  const version = (v: string | null | undefined) => (v ? `\`${v}\`` : 'none');
  const inBackup = m.migration ? version(m.migration.latestVersion) : `no table`;
  const inProduction = !production
    ? 'not checked (no `database-url`)'
    : production.exists
      ? version(production.latestVersion)
      : `no table ${production.table}`;
  return `backup ${inBackup} · production ${inProduction}`;
}

function pendingSection(report: GateReport): string[] {
  const p = report.pending;
  if (!p) return [];
  const dir = `\`${code(report.migrationsDir)}\``;
  const since =
    p.source === 'none'
      ? ' (which of them production has applied is unknown: no `database-url` and no version in the backup)'
      : p.baseline === null
        ? ` (${p.source === 'production' ? 'production' : 'the backup'} records none applied)`
        : ` newer than ${p.source === 'production' ? "production's" : "the backup's"} \`${p.baseline}\``;
  const out = ['#### Migrations this change will apply', ''];
  if (p.files.length === 0) {
    out.push(`None: every migration in ${dir} is already applied.`, '');
  } else {
    const count = p.files.length === 1 ? '1 migration' : `${p.files.length} migrations`;
    out.push(`${count} in ${dir}${since}:`, '');
    for (const f of p.files.slice(0, MAX_LISTED)) out.push(`- \`${code(f.file)}\``);
    if (p.files.length > MAX_LISTED) out.push(`- … and ${p.files.length - MAX_LISTED} more`);
    out.push('');
  }
  if (p.unversioned.length > 0) {
    const names = p.unversioned.slice(0, MAX_LISTED).map((n) => `\`${code(n)}\``);
    out.push(`Ignored (no leading version in the name): ${names.join(', ')}`, '');
  }
  return out;
}

function mark(check: GateCheck | undefined): string {
  if (check?.ok === true) return '✅';
  if (check?.ok === false) return '❌';
  return '➖';
}

/** Inside a table cell a pipe ends the cell and a newline ends the table. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** Inside a code span only a backtick can end it early. */
function code(text: string): string {
  return text.replace(/`/g, "'").replace(/\r?\n/g, ' ');
}

function partsOf(m: Manifest): string {
  const others = m.archive.parts?.length ?? 0;
  if (!others) return 'is in the store with the size the manifest records';
  return `and its ${others} other ${others === 1 ? 'part are' : 'parts are'} in the store with the sizes the manifest records`;
}
