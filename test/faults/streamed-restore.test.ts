/**
 * A drill and a restore never write the plaintext dump to disk: the archive streams from
 * the store into pg_restore. So they pass with the temporary directory on a file system
 * smaller than the dump, and a Lifeboat killed outright (SIGKILL: no cleanup runs) leaves
 * no plaintext of the database in any temporary directory.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEMP_LIMIT_BYTES } from '../../src/disk-usage.js';
import type { DrillReport } from '../../src/drill/report.js';
import type { LocalStore } from '../../src/stores/local.js';
import { confirmFor } from '../helpers/cluster.js';
import { tableContents } from '../helpers/fixtures.js';
import type { GoodBackup } from '../helpers/good-backups.js';
import { runLifeboat, startCli, warmCli } from '../helpers/lifeboat.js';
import { plaintextFiles } from '../helpers/plaintext.js';
import { startWorld, type SandboxedWorld } from '../helpers/world.js';
import { expectWorldIntact, faultWorld, snapshot, type FaultWorld } from './assertions.js';
import { mountTmpfs, wrapperBinDir } from './inject.js';

/** In every row of the bulk table: found in a file, it is the database's plaintext. */
const MARKER = 'lifeboat-plaintext-marker';
/** The small disk: well under the dump (about 6 MiB), well over the few list files a drill writes. */
const SMALL_DISK = '1m';

let a: SandboxedWorld;
let store: LocalStore;
let world: FaultWorld;
let good: GoodBackup;
/** The same database dumped in parts (`dump-jobs: 2`): its drill reads them through named pipes. */
let parted: GoodBackup;
let small: string;
let mounted: { unmount(): Promise<void> } | undefined;

beforeAll(async () => {
  a = await startWorld({ sandbox: true, fixtures: ['supabase'] });
  await a.cluster.exec(
    `CREATE TABLE public.bulk (id int PRIMARY KEY, body text NOT NULL);
     INSERT INTO public.bulk SELECT n, '${MARKER} ' || md5(n::text) || repeat('x', 60)
       FROM generate_series(1, 60000) AS n;`,
    'app',
  );
  store = await a.sandbox.localStore('streamed');
  good = await a.goodBackup(store);
  parted = await a.goodBackup(store, 'parted', { dumpJobs: 2 });
  // Not among the world's untouchable good backups: a drill of it raises its level.
  world = faultWorld(a, [store], []);
  small = path.join(a.sandbox.root, 'small-disk');
  mounted = await mountTmpfs(small, SMALL_DISK);
  await warmCli(process.env);
});

afterAll(async () => {
  await mounted?.unmount();
  await a?.close();
});

const drillInputs = () => ({
  mode: 'drill',
  store: 'given',
  'target-url': a.cluster.url(),
  'encryption-identity': a.identity,
});

describe('a temporary directory smaller than the dump', () => {
  it('holds a drill: the dump streams to pg_restore, and the summary reports the peak next to the RTO', async (context) => {
    if (!mounted) return context.skip('mounting a tmpfs needs root or password-less sudo');
    expect(good.manifest.archive.dumpBytes).toBeGreaterThan(4 * 1024 * 1024);
    const before = await snapshot(world);
    const run = await runLifeboat(drillInputs(), { store, env: { ...process.env, RUNNER_TEMP: small } });
    expect(run.message).toBe('');
    const report = JSON.parse(await readFile(run.outputs['report-path']!, 'utf8')) as DrillReport;
    expect(report.status).toBe('passed');
    expect(report.tempPeakBytes).toBeGreaterThan(0);
    expect(report.tempPeakBytes).toBeLessThan(1024 * 1024);
    expect(report.tempPeakBytes).toBeLessThanOrEqual(TEMP_LIMIT_BYTES);
    expect(run.summaries.join('\n')).toMatch(
      /\| RTO \(start → verified\) \|[^\n]*\n[^\n]*RPO[^\n]*\n\| Peak temporary disk \| [\d.]+ (B|KiB) \| ≤ 64\.0 MiB \| ✅ \|/,
    );
    await expectWorldIntact(world, before, run, { verifiedAllowed: true });
  });

  it('holds the drill of a backup in parts, its rows read through named pipes', async (context) => {
    if (!mounted) return context.skip('mounting a tmpfs needs root or password-less sudo');
    expect(parted.manifest.archive.parts?.length).toBeGreaterThan(0);
    const run = await runLifeboat(
      { ...drillInputs(), name: 'parted' },
      { store, env: { ...process.env, RUNNER_TEMP: small } },
    );
    expect(run.message).toBe('');
    expect(run.log.text()).toMatch(/through named pipes from \d+ streams of the backup/);
    const report = JSON.parse(await readFile(run.outputs['report-path']!, 'utf8')) as DrillReport;
    expect(report.status).toBe('passed');
    expect(report.tempPeakBytes).toBeLessThan(1024 * 1024);
  });

  it('holds a full restore into an empty database, every row back', async (context) => {
    if (!mounted) return context.skip('mounting a tmpfs needs root or password-less sudo');
    await a.cluster.createDatabase('copy');
    const before = await snapshot(world);
    const run = await runLifeboat(
      {
        mode: 'restore',
        store: 'given',
        'backup-id': good.backupId,
        'target-url': a.cluster.url({ database: 'copy' }),
        confirm: confirmFor(a.cluster, 'copy'),
        'encryption-identity': a.identity,
      },
      { store, env: { ...process.env, RUNNER_TEMP: small } },
    );
    expect(run.message).toBe('');
    expect(await tableContents(a.cluster, 'copy')).toEqual(good.source);
    await expectWorldIntact(world, before, run, { verifiedAllowed: true });
  });
});

describe('a Lifeboat killed mid-drill', () => {
  it('SIGKILL while the rows stream into pg_restore leaves no plaintext file anywhere', async () => {
    // A pg_restore loading rows that holds its input back for a while: Lifeboat is caught
    // with every stream open.
    await killMidDrill(
      'production',
      `if printf '%s\\n' "$@" | grep -qx -- --section=data; then
  echo $$ >> "$MARKER"
  exec "$REAL" "$@" < <(sleep 3; exec cat)
fi
exec "$REAL" "$@"`,
    );
  });

  it('SIGKILL while rows flow through named pipes leaves no plaintext file, table of contents included', async () => {
    // The pg_restore reading the pipes: Lifeboat is killed while its lanes feed it.
    await killMidDrill(
      'parted',
      `if printf '%s\\n' "$@" | grep -q -- 'piped.list'; then
  echo $$ >> "$MARKER"
fi
exec "$REAL" "$@"`,
      200,
    );
  });
});

/**
 * Runs a drill of backup `name` with a pg_restore wrapped by `script` (which appends its pid
 * to $MARKER once it is the one to catch), kills Lifeboat outright `after` ms later, and
 * requires no file under the sandbox to hold the rows' marker, a table definition or a dump's head.
 */
async function killMidDrill(name: string, script: string, after = 500): Promise<void> {
  const marker = path.join(a.sandbox.root, `pg-restore-pids-${Date.now()}`);
  const bin = await wrapperBinDir(a.sandbox.root, {
    pg_dump: 'exec "$REAL" "$@"',
    psql: 'exec "$REAL" "$@"',
    pg_restore: `MARKER='${marker}'\n${script}`,
  });
  const cli = startCli(['drill', '--store', store.root, '--name', name, '--pg-bin-dir', bin], {
    ...process.env,
    LIFEBOAT_TARGET_URL: a.cluster.url(),
    LIFEBOAT_IDENTITY: a.identity,
  });
  await waitUntil(() => existsSync(marker));
  await delay(after);
  cli.child.kill('SIGKILL');
  const ended = await cli.done;
  expect(ended.signal).toBe('SIGKILL');
  try {
    const found = await plaintextFiles(a.sandbox.root, [MARKER, 'CREATE TABLE public.bulk']);
    expect(found).toEqual([]);
  } finally {
    // What the killed process could not clean up: its pg_restore, its drill database.
    for (const pid of (await readFile(marker, 'utf8')).split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // Gone already (ESRCH): it ended with its input.
      }
    }
    await a.cluster.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname LIKE 'lifeboat_drill_%'`,
    );
    for (const { datname } of await a.cluster.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE 'lifeboat_drill_%'`,
    )) {
      await a.cluster.query(`DROP DATABASE "${datname}" WITH (FORCE)`);
    }
  }
}

async function waitUntil(condition: () => boolean, seconds = 60): Promise<void> {
  for (let waited = 0; !condition(); waited++) {
    if (waited >= seconds * 10) throw new Error('the drill never reached its data load');
    await delay(100);
  }
}
