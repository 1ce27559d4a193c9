import { describe, expect, it } from 'vitest';
import {
  CLOCK_SKEW_TOLERANCE_SECONDS,
  evaluateGate,
  type GateInput,
  type ProductionMigration,
} from '../../src/gate/evaluate.js';
import { compareVersions, parseMigrationFile, pendingMigrations } from '../../src/gate/migrations.js';
import { pullRequestFromEvent } from '../../src/gate/pull-request.js';
import { archivesPresent, makeManifest, MIGRATIONS_TABLE, type ManifestSeed } from '../helpers/manifest.js';

const NOW = new Date('2026-03-01T14:00:00.000Z');
const HOUR = 3600;

function production(latestVersion: string | null, exists = true): ProductionMigration {
  return { table: MIGRATIONS_TABLE, exists, latestVersion };
}

/** A fresh case: a 2-hour-old readable backup at production's latest migration. */
function input(seed: ManifestSeed = {}, overrides: Partial<GateInput> = {}): GateInput {
  const manifest = makeManifest({ createdAt: '2026-03-01T12:00:00.000Z', ...seed });
  return {
    name: 'production',
    store: '/backups',
    manifest,
    now: NOW,
    maxAgeSeconds: 24 * HOUR,
    require: 'readable',
    productionMigration: production('20240320120000'),
    archives: archivesPresent(manifest),
    ...overrides,
  };
}

const KEY = 'production/20260301_120000_000_0a1b2c3d.dump.zst.age';
const MISSING = { archives: { state: 'missing', key: KEY, part: 1 } } as const;

function failed(verdict: ReturnType<typeof evaluateGate>): string[] {
  return verdict.checks.filter((c) => c.ok === false).map((c) => c.name);
}

describe('evaluateGate', () => {
  it('passes a young, readable backup that holds production’s latest migration', () => {
    const verdict = evaluateGate(input());
    expect(verdict.fresh).toBe(true);
    expect(verdict.backupId).toBe('20260301_120000_000_0a1b2c3d');
    expect(verdict.ageSeconds).toBe(2 * HOUR);
    expect(verdict.reason).toBe(
      'Backup 20260301_120000_000_0a1b2c3d is 2h old (max 1d), verified "readable" (requires "readable"), and it holds production\'s latest migration 20240320120000.',
    );
    expect(failed(verdict)).toEqual([]);
  });

  it('says there is no backup at all, and how to take one', () => {
    const verdict = evaluateGate(input({}, { manifest: undefined }));
    expect(verdict.fresh).toBe(false);
    expect(verdict.reason).toBe('The store /backups holds no backup of "production".');
    expect(verdict.hint).toMatch(/mode: backup/);
    expect(verdict.backupId).toBeUndefined();
  });

  it('is never fresh when the store could not be read, and carries the store’s own hint', () => {
    const verdict = evaluateGate(
      input(
        {},
        {
          manifest: undefined,
          unreadable: { message: 'Cannot read the store s3://b: timeout.', hint: 'Check the endpoint.' },
        },
      ),
    );
    expect(verdict).toMatchObject({ fresh: false, reason: 'Cannot read the store s3://b: timeout.' });
    expect(verdict.hint).toBe('Check the endpoint.');
  });

  it('rejects a backup older than max-age, naming both durations', () => {
    const verdict = evaluateGate(input({ createdAt: '2026-02-27T13:00:00.000Z' }));
    expect(verdict.fresh).toBe(false);
    expect(verdict.ageSeconds).toBe(49 * HOUR);
    expect(verdict.reason).toBe(
      'The newest backup 20260301_120000_000_0a1b2c3d is 2d 1h old, older than `max-age` 1d.',
    );
    expect(failed(verdict)).toEqual(['age']);
  });

  it('accepts a backup exactly max-age old', () => {
    expect(evaluateGate(input({ createdAt: '2026-02-28T14:00:00.000Z' })).fresh).toBe(true);
  });

  it('rejects a level below the required one and says how each level is reached', () => {
    const stored = evaluateGate(input({ level: 'stored' }));
    expect(stored.fresh).toBe(false);
    expect(stored.reason).toMatch(/verified only as "stored", below the required "readable"/);
    expect(stored.hint).toMatch(/encryption-identity/);

    const drill = evaluateGate(input({ level: 'readable' }, { require: 'restored' }));
    expect(drill.fresh).toBe(false);
    expect(drill.hint).toMatch(/mode: drill/);

    expect(evaluateGate(input({ level: 'restored' }, { require: 'readable' })).fresh).toBe(true);
    expect(evaluateGate(input({ level: 'stored' }, { require: 'stored' })).fresh).toBe(true);
  });

  it('rejects a backup taken before the last migration production applied', () => {
    const verdict = evaluateGate(input({}, { productionMigration: production('20240401000000') }));
    expect(verdict.fresh).toBe(false);
    expect(verdict.reason).toMatch(
      /holds migrations up to 20240320120000, but production has applied 20240401000000 since: it was taken before the last migration/,
    );
    expect(failed(verdict)).toEqual(['migration']);
  });

  it('rejects a backup holding a migration production does not have', () => {
    const verdict = evaluateGate(input({}, { productionMigration: production('20240101000000') }));
    expect(verdict.fresh).toBe(false);
    expect(verdict.reason).toMatch(/newer than production's latest 20240101000000/);
  });

  it('passes when neither production nor the backup has a migrations table, and says so', () => {
    const verdict = evaluateGate(
      input({ migration: null }, { productionMigration: production(null, false) }),
    );
    expect(verdict.fresh).toBe(true);
    expect(verdict.reason).toMatch(/neither production nor the backup has a migrations table/);
  });

  it('rejects a migrations table present on one side only', () => {
    const onlyProduction = evaluateGate(input({ migration: null }));
    expect(onlyProduction.fresh).toBe(false);
    expect(onlyProduction.reason).toMatch(/Production records migrations .* but backup .* recorded none/);

    const onlyBackup = evaluateGate(input({}, { productionMigration: production(null, false) }));
    expect(onlyBackup.fresh).toBe(false);
    expect(onlyBackup.reason).toMatch(/production has no table supabase_migrations.schema_migrations/);
    expect(onlyBackup.hint).toMatch(/migrations-table/);
  });

  it('compares empty migration tables as equal', () => {
    const verdict = evaluateGate(
      input({ migration: { latestVersion: null } }, { productionMigration: production(null) }),
    );
    expect(verdict.fresh).toBe(true);
  });

  it('refuses to compare versions read from different tables', () => {
    const verdict = evaluateGate(input({ migration: { table: 'public.migrations', latestVersion: '1' } }));
    expect(verdict.fresh).toBe(false);
    expect(verdict.hint).toMatch(/same table/);
  });

  it('skips the migration check without database-url and says so in the reason', () => {
    const verdict = evaluateGate(input({}, { productionMigration: undefined }));
    expect(verdict.fresh).toBe(true);
    expect(verdict.checks.find((c) => c.name === 'migration')?.ok).toBeUndefined();
    expect(verdict.reason).toMatch(/not checked \(no `database-url`\)/);
  });

  it('is not fresh when production’s migrations could not be read', () => {
    const verdict = evaluateGate(
      input(
        {},
        {
          productionMigration: undefined,
          productionUnreadable: { message: 'Password authentication failed.', hint: 'Check the password.' },
        },
      ),
    );
    expect(verdict.fresh).toBe(false);
    expect(verdict.reason).toBe("Cannot read production's migrations: Password authentication failed.");
    expect(verdict.hint).toBe('Check the password.');
  });

  it('treats a backup from the future as clock skew, naming both times', () => {
    const verdict = evaluateGate(input({ createdAt: '2026-03-01T15:00:00.000Z' }));
    expect(verdict.fresh).toBe(false);
    expect(verdict.reason).toBe(
      "Backup 20260301_120000_000_0a1b2c3d was created at 2026-03-01T15:00:00.000Z, 1h after this runner's clock (2026-03-01T14:00:00.000Z): one of the two clocks is wrong, so the backup's age cannot be trusted.",
    );
    expect(failed(verdict)).toEqual(['clock']);
    expect(verdict.ageSeconds).toBeUndefined();
  });

  it('tolerates a few minutes of clock drift', () => {
    const ahead = new Date(NOW.getTime() + (CLOCK_SKEW_TOLERANCE_SECONDS - 10) * 1000);
    const verdict = evaluateGate(input({ createdAt: ahead.toISOString() }));
    expect(verdict).toMatchObject({ fresh: true, ageSeconds: 0 });
  });

  it('rejects a manifest whose archive is missing from the store', () => {
    const verdict = evaluateGate(input({}, MISSING));
    expect(verdict.fresh).toBe(false);
    expect(verdict.reason).toBe(
      'Backup 20260301_120000_000_0a1b2c3d has a manifest but its archive production/20260301_120000_000_0a1b2c3d.dump.zst.age is missing from the store, so it cannot be restored.',
    );
  });

  it('fails on an archive whose stored size differs from the manifest, naming the object and both sizes', () => {
    const archives = {
      state: 'wrong-size',
      key: KEY,
      part: 1,
      storedBytes: 1000,
      recordedBytes: 1024,
    } as const;
    const verdict = evaluateGate(input({}, { archives }));
    expect(verdict.fresh).toBe(false);
    expect(verdict.reason).toBe(
      `Backup 20260301_120000_000_0a1b2c3d's archive ${KEY} holds 1000 bytes in the store, but the manifest records 1024, so it cannot be restored as recorded.`,
    );
  });

  it('fails, never passes "not checked", when the store could not answer the archive check', () => {
    const archives = {
      state: 'unchecked',
      key: KEY,
      part: 1,
      message: 'HTTP 500 from the service.',
    } as const;
    const verdict = evaluateGate(input({}, { archives }));
    expect(verdict.fresh).toBe(false);
    expect(failed(verdict)).toEqual(['archive']);
    expect(verdict.reason).toBe(
      `Could not check that backup 20260301_120000_000_0a1b2c3d's archive ${KEY} is in the store: HTTP 500 from the service.`,
    );
    expect(verdict.hint).toMatch(/store/);
  });

  it('fails when the archives were not looked at, though a manifest was read', () => {
    const verdict = evaluateGate(input({}, { archives: undefined }));
    expect(verdict.fresh).toBe(false);
    expect(failed(verdict)).toEqual(['archive']);
  });

  it('reports every failing check, and the first one as the reason', () => {
    const verdict = evaluateGate(
      input(
        { createdAt: '2026-02-20T00:00:00.000Z', level: 'stored' },
        { productionMigration: production('20250101000000'), ...MISSING },
      ),
    );
    expect(failed(verdict)).toEqual(['archive', 'age', 'level', 'migration']);
    expect(verdict.reason).toMatch(/archive .* is missing/);
  });
});

describe('migration files', () => {
  it('reads Supabase names and any leading-digits version', () => {
    expect(parseMigrationFile('20240401000000_add_invoices.sql')).toEqual({
      version: '20240401000000',
      name: 'add_invoices',
      file: '20240401000000_add_invoices.sql',
    });
    expect(parseMigrationFile('0007_counter.sql')?.version).toBe('0007');
    expect(parseMigrationFile('42.sql')).toMatchObject({ version: '42', name: '' });
    expect(parseMigrationFile('seed.sql')).toBeUndefined();
    expect(parseMigrationFile('20240401_notes.md')).toBeUndefined();
  });

  it('orders versions as numbers, not text', () => {
    expect(compareVersions('9', '10')).toBeLessThan(0);
    expect(compareVersions('20240401000000', '20240320120000')).toBeGreaterThan(0);
    expect(compareVersions('123456789012345678901', '123456789012345678900')).toBeGreaterThan(0);
    expect(compareVersions('0010', '10')).toBe(0);
  });

  it('lists the files newer than the applied version, oldest first, and the unversioned apart', () => {
    const pending = pendingMigrations(
      [
        '20240501000000_second.sql',
        '20240101000000_initial_schema.sql',
        '20240320120000_billing_rls.sql',
        '20240401000000_first.sql',
        'seed.sql',
        'README.md',
      ],
      '20240320120000',
      'production',
    );
    expect(pending.files.map((f) => f.file)).toEqual([
      '20240401000000_first.sql',
      '20240501000000_second.sql',
    ]);
    expect(pending.unversioned).toEqual(['seed.sql']);
    expect(pending).toMatchObject({ baseline: '20240320120000', source: 'production' });
  });

  it('counts every file as pending when nothing is applied yet', () => {
    const pending = pendingMigrations(['2_b.sql', '1_a.sql'], null, 'production');
    expect(pending.files.map((f) => f.version)).toEqual(['1', '2']);
  });
});

describe('pull request context', () => {
  const payload = (head: string | null, base = 'acme/shop') => ({
    number: 7,
    pull_request: {
      number: 7,
      head: { repo: head === null ? null : { full_name: head } },
      base: { repo: { full_name: base } },
    },
  });

  it('finds the pull request of a same-repository branch', () => {
    expect(pullRequestFromEvent('pull_request', payload('acme/shop'))).toEqual({
      event: 'pull_request',
      number: 7,
      fromFork: false,
    });
  });

  it('marks a head in another repository, or a deleted one, as a fork', () => {
    expect(pullRequestFromEvent('pull_request', payload('mallory/shop'))?.fromFork).toBe(true);
    expect(pullRequestFromEvent('pull_request_target', payload(null))?.fromFork).toBe(true);
  });

  it('compares repository names the way GitHub does, ignoring case', () => {
    expect(pullRequestFromEvent('pull_request', payload('Acme/Shop'))?.fromFork).toBe(false);
  });

  it('ignores other events and payloads without a pull request', () => {
    expect(pullRequestFromEvent('push', payload('acme/shop'))).toBeUndefined();
    expect(pullRequestFromEvent('pull_request', {})).toBeUndefined();
    expect(pullRequestFromEvent(undefined, payload('acme/shop'))).toBeUndefined();
  });
});
