import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Labels, Markers } from '../../src/settings/constants.js';
import { extractData } from '../../src/github/index.js';
import { backupFixture, startWorld, type BackupFixture, type World } from '../helpers/world.js';
import type { Cluster } from '../helpers/cluster.js';
import { startGitHubServer, type GitHubServer } from '../helpers/github-server.js';
import { expectNoSecrets, runLifeboat } from '../helpers/lifeboat.js';

let world: World;
let source: Cluster;
let target: Cluster;
let fx: BackupFixture;
/** The GitHub stand-in of the current test: each test builds the history it needs on a fresh one. */
let github: GitHubServer;
const servers: GitHubServer[] = [];
let runnerTemp: string;
let failingChecks: string;
/** How many requests the stand-in had seen before the current drill. */
let mark = 0;

beforeAll(async () => {
  world = await startWorld({ fixtures: ['supabase'], targets: 1 });
  [source, target] = [world.cluster, world.others[0]!];
  const url = world.appUrl;
  fx = await backupFixture();
  const backup = await runLifeboat(
    { mode: 'backup', 'database-url': url, store: fx.dir, 'encryption-recipient': fx.recipient },
    { store: fx.store },
  );
  if (backup.error) throw backup.error;
  runnerTemp = await mkdtemp(path.join(tmpdir(), 'lifeboat-runner-'));
  failingChecks = path.join(runnerTemp, 'failing.sql');
  await writeFile(failingChecks, '-- name: the books balance\nSELECT false;\n');
});

afterAll(async () => {
  await Promise.all([world?.close(), ...servers.map((s) => s.stop())]);
  await fx?.cleanup();
  await rm(runnerTemp, { recursive: true, force: true });
});

beforeEach(async () => {
  github = await startGitHubServer();
  servers.push(github);
});

afterEach(() => {
  // Every request must be one the real API takes as meant.
  expect(github.violations()).toEqual([]);
});

/** Drills that must have run before the one a test is about, each checked to end as expected. */
async function history(...runs: ('passed' | 'failed')[]): Promise<void> {
  for (const [i, status] of runs.entries()) {
    const run = await drill(String(1001 + i), status === 'failed' ? { 'verify-sql': failingChecks } : {});
    expect(run.outputs.status).toBe(status);
  }
}

/** A drill in workflow run `runId`, as the action would run it with the workflow token. */
function drill(runId: string, inputs: Record<string, string> = {}) {
  mark = github.calls().length;
  return runLifeboat(
    {
      mode: 'drill',
      store: fx.dir,
      'target-url': target.url(),
      'encryption-identity': fx.identity,
      'github-token': github.token,
      ...inputs,
    },
    {
      store: fx.store,
      env: { PATH: process.env.PATH, RUNNER_TEMP: runnerTemp, ...github.env, GITHUB_RUN_ID: runId },
    },
  );
}

/** The REST operations the last drill made, in order. */
function operations(): (string | undefined)[] {
  return github
    .calls()
    .slice(mark)
    .map((c) => c.operationId);
}

function issue(number: number) {
  const found = github.issues().find((i) => i.number === number);
  if (!found) throw new Error(`no issue #${number}`);
  return found;
}

const today = () => new Date().toISOString().slice(0, 10);

describe('the drill issue', () => {
  it('opens one issue for a passed drill, labelled, titled with the date, name and result', async () => {
    const run = await drill('1001');
    expect(run.error).toBeUndefined();
    expect(operations()).toEqual([
      'issues/list-labels-for-repo',
      'issues/create-label',
      'issues/create-label',
      'issues/list-for-repo',
      'issues/create',
    ]);
    const first = issue(1);
    expect(first).toMatchObject({ title: `Restore drill ${today()} · production · passed`, state: 'open' });
    expect(first.labels).toEqual([Labels.Drill]);
    expect(run.outputs['issue-url']).toMatch(/\/issues\/1$/);
    expect(first.body).toContain('| Exact row counts | 9 | ✅ |');
    expect(extractData(Markers.DrillData, first.body)).toMatchObject({ runId: '1001', status: 'passed' });
  });

  it('updates that issue instead of opening another when the same workflow run is re-run', async () => {
    await history('passed');
    const run = await drill('1001');
    expect(run.error).toBeUndefined();
    expect(operations()).toEqual(['issues/list-labels-for-repo', 'issues/list-for-repo', 'issues/update']);
    expect(github.issues()).toHaveLength(1);
    // The re-run replaces its own row in the history rather than adding one.
    expect(issue(1).body!.match(/^\| \d{4}-\d\d-\d\d \|/gm)).toHaveLength(1);
  });

  it('opens a second issue for a failed drill and leaves it open with the drill-failed label', async () => {
    await history('passed');
    const run = await drill('1002', { 'verify-sql': failingChecks });
    expect(run.error?.message).toContain('verify-sql check "the books balance" (line 2) returned false.');
    expect(run.outputs.status).toBe('failed');
    expect(operations()).toEqual(['issues/list-labels-for-repo', 'issues/list-for-repo', 'issues/create']);
    const failed = issue(2);
    expect(failed).toMatchObject({ title: `Restore drill ${today()} · production · failed`, state: 'open' });
    expect(failed.labels).toEqual([Labels.Drill, Labels.DrillFailed]);
    expect(failed.body).toContain('#### Failed checks (1)');
    expect(failed.body).toContain('the books balance');
    expect(issue(1).state).toBe('open');
  });

  it('closes the failure with a comment when the next drill passes, and the passed issue before it', async () => {
    await history('passed', 'failed');
    expect(github.issues().map((i) => i.state)).toEqual(['open', 'open']);
    const run = await drill('1003');
    expect(run.error).toBeUndefined();
    expect(operations()).toEqual([
      'issues/list-labels-for-repo',
      'issues/list-for-repo',
      'issues/create',
      'issues/create-comment',
      'issues/update',
      'issues/create-comment',
      'issues/update',
    ]);
    const recovery = issue(3);
    expect(recovery).toMatchObject({ state: 'open', labels: [Labels.Drill] });
    expect(issue(2)).toMatchObject({ state: 'closed', stateReason: 'completed' });
    expect(issue(1)).toMatchObject({ state: 'closed' });
    expect(github.comments(2).map((c) => c.body)).toEqual([
      `The restore drill passed again in #3 (${run.outputs['issue-url']}). Closing this failure.`,
    ]);
    expect(github.comments(1)[0]!.body).toMatch(/^Superseded by the restore drill in #3 /);
    // The history holds all three runs, read back from the earlier issues' hidden blocks.
    const body = recovery.body!;
    expect(body.match(/^\| \d{4}-\d\d-\d\d \| (✅ passed|❌ failed) \|/gm)).toHaveLength(3);
    expect(body).toContain('[#2](');
    expect(body).toContain('```mermaid\nxychart-beta');
  });

  it('says so when the token may not write issues, and passes on the drill alone', async () => {
    github.setPermissions({ issues: 'read' });
    try {
      const run = await drill('1004');
      expect(run.error).toBeUndefined();
      expect(run.outputs).toMatchObject({ status: 'passed', 'issue-url': '' });
      expect(run.log.text()).toContain('The drill issue was not filed: the token lacks `issues: write`');
      expect(github.issues()).toHaveLength(0);
    } finally {
      github.setPermissions({ issues: 'write' });
    }
  });

  it('never puts a password or key into an issue or a comment', async () => {
    await history('passed', 'failed', 'passed');
    expect(github.issues()).toHaveLength(3);
    expect(github.comments().length).toBeGreaterThan(0);
    const sent = [
      ...github.issues().map((i) => `${i.title}\n${i.body}`),
      ...github.comments().map((c) => c.body),
    ];
    expectNoSecrets(sent, [source.password, target.password, fx.identity, github.token]);
  });
});
