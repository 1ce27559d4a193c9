import { describe, expect, it } from 'vitest';
import { Markers } from '../../src/settings/constants.js';
import type { Check } from '../../src/postgres/verify/checks.js';
import { drillStatus, objectiveChecks, type DrillReport } from '../../src/drill/report.js';
import { DrillSteps } from '../../src/drill/steps.js';
import { MemoryLog } from '../../src/log.js';
import { drillRecord, issueTitle, renderIssueBody } from '../../src/drill/drill-issue.js';
import { renderDrillSummary } from '../../src/drill/drill-summary.js';
import { extractData } from '../../src/github/index.js';
import { asDrillRecord, renderHistory, renderRtoChart, type DrillRecord } from '../../src/drill/history.js';

function report(change: Partial<DrillReport> = {}): DrillReport {
  return {
    format: 'lifeboat-drill-report',
    formatVersion: 1,
    status: 'passed',
    name: 'production',
    backupId: '20260105_020000_000_0a1b2c3d',
    startedAt: '2026-01-05T03:00:00.000Z',
    finishedAt: '2026-01-05T03:01:05.000Z',
    rtoSeconds: 65,
    rpoSeconds: 3600,
    rtoTargetSeconds: 1800,
    rpoTargetSeconds: 86400,
    tempPeakBytes: 4096,
    backup: {
      createdAt: '2026-01-05T02:00:00.000Z',
      completedAt: '2026-01-05T02:00:00.000Z',
      sizeBytes: 1024 * 1024,
      dumpBytes: 8 * 1024 * 1024,
      sha256: 'a'.repeat(64),
      parts: 1,
      serverVersion: '15.18',
      pgDumpVersion: '15.18',
      levelBefore: 'readable',
    },
    target: { server: 'localhost:5432', database: 'lifeboat_drill_x', serverVersion: '15.18', kept: false },
    profile: { requested: 'auto', used: 'supabase', reason: 'the backup references Supabase roles anon' },
    restore: { pgRestore: '15.18', jobs: 4, skipped: [], prepared: ['role anon'] },
    steps: [
      {
        name: 'Read the table of contents from the store',
        status: 'ok',
        seconds: 3.2,
        detail: '1 MiB fetched',
      },
      {
        name: 'pg_restore',
        status: 'ok',
        seconds: 41.5,
      },
      { name: 'Verify against the catalog snapshot', status: 'ok', seconds: 9.9 },
    ],
    compared: { restore: 1, table: 9, rows: 9, policy: 8, 'verify-sql': 2 },
    checks: [],
    failure: null,
    run: { id: '1001', url: 'https://github.com/acme/shop/actions/runs/1001' },
    issueUrl: null,
    ...change,
  };
}

const lostRows: Check = {
  kind: 'rows',
  object: 'public.clips',
  expected: 1600,
  actual: 1200,
  severity: 'error',
  message: 'public.clips: 1200 rows restored, 1600 expected (400 missing).',
};

describe('recovery objectives', () => {
  it('fails a drill slower than the RTO target and says by how much', () => {
    const checks = objectiveChecks({
      rtoSeconds: 1930,
      rpoSeconds: 10,
      rtoTargetSeconds: 1800,
      rpoTargetSeconds: null,
    });
    expect(checks).toHaveLength(1);
    expect(checks[0]!.message).toBe(
      'The drill took 32m 10s from start to verified restore, 2m 10s over the RTO target of 30m.',
    );
  });

  it('fails a backup older than the RPO target and says by how much', () => {
    const checks = objectiveChecks({
      rtoSeconds: 5,
      rpoSeconds: 93600,
      rtoTargetSeconds: null,
      rpoTargetSeconds: 86400,
    });
    expect(checks[0]).toMatchObject({ kind: 'rpo', expected: 86400, actual: 93600, severity: 'error' });
    expect(checks[0]!.message).toBe(
      'The backup was 1d 2h old when the drill started, 2h over the RPO target of 1d.',
    );
  });

  it('sets no objective when no target is given', () => {
    expect(
      objectiveChecks({ rtoSeconds: 1e6, rpoSeconds: 1e6, rtoTargetSeconds: null, rpoTargetSeconds: null }),
    ).toEqual([]);
  });

  it('passes only without failed checks and without a failed step; warnings do not fail', () => {
    const warning: Check = { ...lostRows, severity: 'warning' };
    expect(drillStatus([warning], null)).toBe('passed');
    expect(drillStatus([lostRows], null)).toBe('failed');
    expect(drillStatus([], { step: 'pg_restore', message: 'boom' })).toBe('failed');
  });
});

describe('drill steps', () => {
  it('records a step stopped because the step beside it failed as skipped, and lists steps in drill order', async () => {
    const steps = new DrillSteps(new MemoryLog(), () => 0);
    const stop = new AbortController();
    const fetching = steps.run(
      'fetch',
      () =>
        new Promise((_resolve, reject) =>
          stop.signal.addEventListener('abort', () => reject(new Error('The operation was aborted'))),
        ),
      stop.signal,
    );
    const creating = steps.run('create', () =>
      Promise.reject(new Error('permission denied to create database')),
    );
    creating.catch(() => stop.abort());
    await Promise.allSettled([fetching, creating]);
    steps.skipRest(['connect', 'create', 'fetch', 'restore']);
    expect(steps.records.map((r) => [r.name, r.status, r.detail])).toEqual([
      ['connect', 'skipped', undefined],
      ['create', 'failed', 'permission denied to create database'],
      ['fetch', 'skipped', 'stopped: a step running beside it failed'],
      ['restore', 'skipped', undefined],
    ]);
    expect(steps.failure?.step).toBe('create');
  });

  it('times and logs each step, keeps the first failure and lists the steps it kept from running', async () => {
    const log = new MemoryLog();
    let now = 0;
    const steps = new DrillSteps(log, () => now);
    await steps.run('fetch', async (step) => {
      now += 1500;
      step.note('1 MiB');
    });
    await expect(
      steps.run('restore', async () => {
        now += 250;
        throw new Error('role "anon" does not exist');
      }),
    ).rejects.toThrow('anon');
    steps.skipRest(['fetch', 'restore', 'verify']);
    expect(steps.records).toEqual([
      { name: 'fetch', status: 'ok', seconds: 1.5, detail: '1 MiB' },
      { name: 'restore', status: 'failed', seconds: 0.25, detail: 'role "anon" does not exist' },
      { name: 'verify', status: 'skipped', seconds: 0 },
    ]);
    expect(steps.failure?.step).toBe('restore');
    expect(log.lines.map((l) => l.message)).toEqual([
      '▶ fetch',
      '✔ fetch (1.5s): 1 MiB',
      '▶ restore',
      '✘ restore failed after 0.3s',
    ]);
  });
});

describe('the job summary', () => {
  it('shows the verdict, the objectives, every step with its duration and the check table', () => {
    const md = renderDrillSummary(report());
    expect(md).toContain('### ✅ Lifeboat restore drill passed: `production`');
    expect(md).toContain('| RTO (start → verified) | 1m 5s | 30m | ✅ |');
    expect(md).toContain('| RPO (backup age at start) | 1h | 1d | ✅ |');
    expect(md).toContain('| pg_restore | 41.5s | ✅  |');
    // Next to the RTO: the temporary disk the drill used beyond the database, against its bound.
    expect(md).toContain('| Peak temporary disk | 4.0 KiB | ≤ 64.0 MiB | ✅ |');
    expect(md).toContain('| Read the table of contents from the store | 3.2s | ✅ 1 MiB fetched |');
    expect(md).toContain('| Exact row counts | 9 | ✅ |');
    expect(md).toContain('| verify-sql checks | 2 | ✅ |');
    expect(md).not.toContain('Failed checks');
  });

  it('says "restored into" only when pg_restore finished', () => {
    expect(renderDrillSummary(report())).toContain('restored into localhost:5432/lifeboat_drill_x');
    const early = renderDrillSummary(
      report({
        status: 'failed',
        rtoSeconds: null,
        steps: [
          { name: 'Read the table of contents from the store', status: 'failed', seconds: 0.4 },
          {
            name: 'pg_restore',
            status: 'skipped',
            seconds: 0,
          },
        ],
      }),
    );
    expect(early).not.toContain('restored into');
    expect(early).toContain('not restored (target localhost:5432/lifeboat_drill_x)');
  });

  it('lists every failed check by name and marks its row in the table', () => {
    const md = renderDrillSummary(report({ status: 'failed', checks: [lostRows] }));
    expect(md).toContain('### ❌ Lifeboat restore drill failed');
    expect(md).toContain('| Exact row counts | 9 | ❌ 1 failed |');
    expect(md).toContain(
      '#### Failed checks (1)\n\n- public.clips: 1200 rows restored, 1600 expected (400 missing).',
    );
  });

  it('shows a failed step with its hint once, and the steps it kept from running', () => {
    const failure = {
      step: 'pg_restore',
      message: 'pg_restore stopped at policy "p" on public.t: role "anon" does not exist.',
      hint: 'Use profile `supabase`.',
    };
    const md = renderDrillSummary(
      report({
        status: 'failed',
        rtoSeconds: null,
        failure,
        checks: [
          {
            kind: 'restore',
            object: 'pg_restore',
            expected: 'ok',
            actual: 'failed',
            severity: 'error',
            ...failure,
          },
        ],
        steps: [
          {
            name: 'pg_restore',
            status: 'failed',
            seconds: 1,
            detail: failure.message,
          },
          { name: 'Verify against the catalog snapshot', status: 'skipped', seconds: 0 },
        ],
      }),
    );
    expect(md).toContain(
      `**Failed at “pg_restore”:** ${failure.message}\n\n_Hint:_ Use profile \`supabase\`.`,
    );
    expect(md.split(failure.message)).toHaveLength(3); // the failure block and its step row
    expect(md).toContain('| Verify against the catalog snapshot | – | ⏭️ skipped  |');
    expect(md).toContain('| RTO (start → verified) | – | 30m |  |');
  });

  it('keeps long lists short and table cells on one line', () => {
    const many = Array.from({ length: 60 }, (_, i) => ({
      ...lostRows,
      object: `t${i}`,
      message: `t${i} | lost\nrows`,
    }));
    const md = renderDrillSummary(report({ status: 'failed', checks: many }), { listLimit: 5 });
    expect(md).toContain('- t0 \\| lost rows');
    expect(md).toContain('- … and 55 more in the JSON report.');
  });
});

const record = (day: number, status: 'passed' | 'failed', rto: number | null): DrillRecord => ({
  runId: String(day),
  name: 'production',
  backupId: `202601${String(day).padStart(2, '0')}_020000_000_0a1b2c3d`,
  startedAt: `2026-01-${String(day).padStart(2, '0')}T03:00:00.000Z`,
  status,
  rtoSeconds: rto,
  rpoSeconds: 3600,
  rtoTargetSeconds: 120,
  issue: { number: day, url: `https://github.com/acme/shop/issues/${day}` },
});

describe('drill history', () => {
  it('tabulates drills newest first and charts RTO oldest first with the target line', () => {
    const md = renderHistory([
      record(5, 'passed', 65),
      record(3, 'failed', null),
      record(1, 'passed', 50.04),
    ]);
    const rows = md.split('\n').filter((l) => l.startsWith('| 2026'));
    const cells = rows.map((r) => r.split(' | ').slice(0, 4));
    expect(cells).toEqual([
      ['| 2026-01-05', '✅ passed', '1m 5s', '1h'],
      ['| 2026-01-03', '❌ failed', '–', '1h'],
      ['| 2026-01-01', '✅ passed', '50.0s', '1h'],
    ]);
    expect(rows[0]).toContain('[#5](https://github.com/acme/shop/issues/5)');
    expect(md).toContain(
      [
        '```mermaid',
        'xychart-beta',
        '  title "RTO per drill (seconds)"',
        '  x-axis ["2026-01-01", "2026-01-05"]',
        '  y-axis "RTO (seconds)" 0 --> 132',
        '  bar [50, 65]',
        '  line [120, 120]',
        '```',
      ].join('\n'),
    );
  });

  it('switches to minutes for long drills and tells same-day drills apart', () => {
    const slow = [record(1, 'passed', 1200), { ...record(1, 'passed', 1500), runId: 'again' }];
    const chart = renderRtoChart(slow);
    expect(chart).toContain('title "RTO per drill (minutes)"');
    expect(chart).toContain('x-axis ["2026-01-01", "2026-01-01 (2)"]');
    expect(chart).toContain('bar [20, 25]');
  });

  it('has nothing to chart before a drill reached a verified restore', () => {
    expect(renderRtoChart([record(1, 'failed', null)])).toMatch(/no RTO to chart/);
    expect(renderHistory([])).toBe('_No drills recorded yet._');
  });

  it('accepts a hidden record only in the shape a drill wrote it', () => {
    expect(asDrillRecord({ ...record(1, 'passed', 3), issue: undefined })).toMatchObject({
      name: 'production',
      rtoSeconds: 3,
    });
    expect(asDrillRecord({ name: 'production', status: 'maybe' })).toBeUndefined();
    expect(asDrillRecord('<script>')).toBeUndefined();
    expect(asDrillRecord(null)).toBeUndefined();
  });
});

describe('the drill issue', () => {
  it('is titled with the date, the name and the result', () => {
    expect(issueTitle(report())).toBe('Restore drill 2026-01-05 · production · passed');
    expect(issueTitle(report({ status: 'failed' }))).toBe('Restore drill 2026-01-05 · production · failed');
  });

  it('holds the summary, the history and a hidden block the next drill reads back', () => {
    const r = report({ status: 'failed', checks: [lostRows] });
    const mine = drillRecord(r);
    const body = renderIssueBody(r, mine, [record(1, 'passed', 50), mine]);
    expect(body).toContain('public.clips: 1200 rows restored, 1600 expected (400 missing).');
    expect(body).toContain('#### History of `production` drills');
    expect(body).toContain('xychart-beta');
    expect(body).toContain('_Workflow run: https://github.com/acme/shop/actions/runs/1001_');
    expect(asDrillRecord(extractData(Markers.DrillData, body))).toEqual(mine);
    expect(mine).toMatchObject({ runId: '1001', status: 'failed', rtoSeconds: 65, rpoSeconds: 3600 });
  });

  it('stays under GitHub’s body limit however many checks failed', () => {
    const many = Array.from({ length: 5000 }, (_, i) => ({
      ...lostRows,
      message: `public.t${i}: ${'x'.repeat(80)}`,
    }));
    const r = report({ status: 'failed', checks: many });
    const body = renderIssueBody(r, drillRecord(r), []);
    expect(body.length).toBeLessThan(65_536);
    expect(body).toContain('more in the JSON report');
    expect(extractData(Markers.DrillData, body)).toBeDefined();
  });
});
