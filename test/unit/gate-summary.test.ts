import { describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/archive/manifest.js';
import { evaluateGate, type ProductionMigration } from '../../src/gate/evaluate.js';
import { pendingMigrations } from '../../src/gate/migrations.js';
import { renderGateSummary, type GateReport } from '../../src/gate/gate-summary.js';
import { archivesPresent, makeManifest, MIGRATIONS_TABLE } from '../helpers/manifest.js';

const NOW = new Date('2026-03-01T14:00:00.000Z');
const FILES = [
  '20240101000000_initial_schema.sql',
  '20240320120000_billing_rls.sql',
  '20240401000000_add_invoices.sql',
  '20240402000000_index_invoices.sql',
];

function report(
  options: {
    manifest?: Manifest | null;
    production?: ProductionMigration;
    files?: string[];
    failOnStale?: boolean;
  } = {},
): GateReport {
  const manifest = options.manifest === null ? undefined : (options.manifest ?? makeManifest());
  const production = options.production ?? {
    table: MIGRATIONS_TABLE,
    exists: true,
    latestVersion: '20240320120000',
  };
  const verdict = evaluateGate({
    name: 'production',
    store: '/srv/backups',
    manifest,
    now: NOW,
    maxAgeSeconds: 6 * 3600,
    require: 'readable',
    productionMigration: production,
    archives: manifest && archivesPresent(manifest),
  });
  return {
    verdict,
    manifest,
    name: 'production',
    store: '/srv/backups',
    require: 'readable',
    maxAgeSeconds: 6 * 3600,
    productionMigration: production,
    pending: options.files && pendingMigrations(options.files, production.latestVersion, 'production'),
    migrationsDir: 'supabase/migrations',
    failOnStale: options.failOnStale ?? true,
  };
}

/** The table rows as label → [mark, text]. */
function table(markdown: string): Record<string, [string, string]> {
  const rows: Record<string, [string, string]> = {};
  for (const line of markdown.split('\n')) {
    const match = /^\| (.+?) \|\s*(.*?)\s*\| (.*) \|$/.exec(line);
    if (match && !match[1]!.startsWith('---') && match[1] !== 'Check')
      rows[match[1]!] = [match[2]!, match[3]!];
  }
  return rows;
}

describe('gate summary', () => {
  it('names the backup, its age, its level, both migration versions and the verdict', () => {
    const markdown = renderGateSummary(report({ files: FILES }));
    expect(markdown).toMatch(/^### ✅ Lifeboat gate: a fresh backup protects this change\n/);
    expect(table(markdown)).toEqual({
      Backup: ['✅', '`20260301_120000_000_0a1b2c3d` of set `production` in /srv/backups'],
      Age: ['✅', '2h old (max 6h), taken 2026-03-01T12:00:00.000Z'],
      Verified: ['✅', 'readable (requires readable)'],
      Migration: ['✅', 'backup `20240320120000` · production `20240320120000`'],
      Archive: [
        '✅',
        '`production/20260301_120000_000_0a1b2c3d.dump.zst.age` is in the store with the size the manifest records',
      ],
      'Pending migrations': ['', '2 migrations (listed below)'],
      '**Verdict**': ['✅', '**fresh**'],
    });
  });

  it('lists the migrations this change will apply, oldest first', () => {
    const markdown = renderGateSummary(report({ files: [...FILES].reverse() }));
    expect(markdown).toContain(
      [
        '#### Migrations this change will apply',
        '',
        "2 migrations in `supabase/migrations` newer than production's `20240320120000`:",
        '',
        '- `20240401000000_add_invoices.sql`',
        '- `20240402000000_index_invoices.sql`',
      ].join('\n'),
    );
  });

  it('says when the repository holds no migration production lacks', () => {
    const markdown = renderGateSummary(report({ files: FILES.slice(0, 2) }));
    expect(markdown).toContain('None: every migration in `supabase/migrations` is already applied.');
    expect(table(markdown)['Pending migrations']).toEqual(['', 'none']);
  });

  it('leaves the migrations section out when there is no migrations directory', () => {
    const markdown = renderGateSummary(report());
    expect(markdown).not.toContain('Migrations this change will apply');
    expect(table(markdown)['Pending migrations']).toBeUndefined();
  });

  it('marks the failing check, quotes the reason and gives the fix', () => {
    const production = { table: MIGRATIONS_TABLE, exists: true, latestVersion: '20240401000000' };
    const markdown = renderGateSummary(report({ production, files: FILES }));
    expect(markdown).toMatch(/^### ❌ Lifeboat gate: no fresh backup\n\n> Backup \S+ holds migrations up to/);
    expect(table(markdown).Migration![0]).toBe('❌');
    expect(table(markdown)['**Verdict**']).toEqual(['❌', '**not fresh**']);
    expect(markdown).toContain('**Fix:** Run the backup workflow (mode: backup) now, then re-run this job.');
  });

  it('shows a warning, not a failure, when fail-on-stale is false', () => {
    const markdown = renderGateSummary(report({ manifest: null, failOnStale: false }));
    expect(markdown).toMatch(/^### ⚠️ Lifeboat gate: no fresh backup/);
    expect(markdown).toContain('_`fail-on-stale` is false: this is a warning, the job goes on._');
    expect(table(markdown).Backup).toEqual(['❌', 'The store /srv/backups holds no backup of "production".']);
  });

  it('keeps file names from a pull request from breaking the table or the markdown', () => {
    const markdown = renderGateSummary(
      report({ files: ['20240501000000_a`b|c.sql', '20240502000000_x\n| injected | row |.sql'] }),
    );
    expect(markdown).toContain("- `20240501000000_a'b|c.sql`");
    expect(markdown).not.toMatch(/^\| injected/m);
  });

  it('says the migration check was skipped without a database-url', () => {
    const r = report();
    const verdict = evaluateGate({
      name: 'production',
      store: '/srv/backups',
      manifest: r.manifest,
      now: NOW,
      maxAgeSeconds: r.maxAgeSeconds,
      require: 'readable',
      archives: archivesPresent(r.manifest!),
    });
    const markdown = renderGateSummary({ ...r, verdict, productionMigration: undefined });
    expect(table(markdown).Migration).toEqual([
      '➖',
      'backup `20240320120000` · production not checked (no `database-url`)',
    ]);
  });
});
