/**
 * Everything measured on one generated database, in one run so the ratios share the
 * machine's state: the floor, the runbooks' commands, the Lifeboat backup (separate
 * process), a plain parallel pg_restore and the Lifeboat drill. Floor, backup, restore and
 * drill run `rounds` times, interleaved, and the fastest of each counts.
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import type { Cluster } from '../scripts/postgres/cluster.js';
import { generateDatabase, type GeneratedDatabase } from './generate.js';
import {
  BACKUP_MARKS,
  hasFingerprints,
  newestBackup,
  storedBytes,
  type Keys,
  type LifeboatCli,
  type Manifest,
} from './lifeboat.js';
import { inspectDatabase } from '../src/postgres/inspect.js';
import {
  cores,
  measureCommand,
  measureFunction,
  postmasterPid,
  shell,
  waitForQuiet,
  type Measurement,
} from './measure.js';
import { runProfile, type Profile } from './profile.js';
import { runWhatIfs, type WhatIf } from './whatif.js';

export interface SuiteOptions {
  cluster: Cluster;
  sizeGb: number;
  rounds: number;
  profile: boolean;
  /** Also measure a backup dumped by this many pg_dump processes, and its drill (below 2: not). */
  dumpJobs: number;
  cli: LifeboatCli;
  keys: Keys;
  workDir: string;
  log: (line: string) => void;
}

export interface Step extends Measurement {
  /** Every round, when the step ran more than once (`seconds` is the fastest). */
  rounds?: Measurement[];
  /** Seconds into the run at which the Lifeboat CLI reported each phase. */
  marks?: Record<string, number>;
  /** The drill's own step timings, as it logged them. */
  phases?: Record<string, number>;
}

export interface SuiteResult {
  sizeGb: number;
  database: GeneratedDatabase;
  /** Size of the uncompressed custom-format dump (`pg_dump -Fc -Z0`). */
  dumpBytes: number;
  steps: {
    dumpToFile: Step;
    floor: Step;
    gzip: Step;
    customZ9: Step;
    lifeboat: Step;
    restore: Step;
    restoreVerify: Step;
    drill?: Step;
    /** One decrypt + decompress pass of the archive to nowhere: what each drill stream adds. */
    streamOnce?: Step;
    /** `pg_dump -Fd -j N -Z0` to a directory: the floor of a parallel dump (plaintext on disk). */
    parallelFloor?: Step;
    /** Lifeboat backup with `--dump-jobs N`, and the drill of that backup. */
    lifeboatParallel?: Step;
    drillParallel?: Step;
  };
  /** N of the parallel steps. */
  dumpJobs?: number;
  lifeboatManifest: Manifest;
  /** The backup fingerprinted every table's contents (and the verification queries did too). */
  fingerprints: boolean;
  drillSkipped?: string;
  profile?: Profile & { whatIf: WhatIf[] };
}

export function libpqEnvFor(cluster: Cluster, database: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('PG')) env[key] = value;
  return {
    ...env,
    PGHOST: cluster.host,
    PGPORT: String(cluster.port),
    PGUSER: cluster.superuser,
    PGPASSWORD: cluster.password,
    PGDATABASE: database,
    PGSSLMODE: 'disable',
  };
}

function fastest(runs: Step[]): Step {
  const best = runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  const peakRssByName: Record<string, number> = {};
  for (const run of runs)
    for (const [name, bytes] of Object.entries(run.peakRssByName))
      peakRssByName[name] = Math.max(peakRssByName[name] ?? 0, bytes);
  // Time from the fastest round; memory is the worst any round reached.
  return {
    ...best,
    peakRssBytes: Math.max(...runs.map((r) => r.peakRssBytes)),
    peakRssByName,
    rounds: runs.length > 1 ? runs.map(({ rounds: _r, ...rest }) => rest) : undefined,
  };
}

export async function runSuite(options: SuiteOptions): Promise<SuiteResult> {
  const { cluster, log, workDir, cli, keys } = options;
  const dbName = `bench_${String(options.sizeGb).replace('.', '_')}gb`;
  await cluster.query(`DROP DATABASE IF EXISTS ${dbName}`);
  const url = await cluster.createDatabase(dbName);
  const database = await generateDatabase(url, { sizeGb: options.sizeGb, log });
  log(
    `Generated ${dbName}: ${(database.databaseBytes / 2 ** 30).toFixed(2)} GB on disk in ${database.seconds.toFixed(0)} s.`,
  );
  const env = libpqEnvFor(cluster, dbName);
  const serverPid = postmasterPid(cluster.dataDir);
  const dir = path.join(workDir, dbName);
  await mkdir(dir, { recursive: true });
  const plainDump = path.join(dir, 'plain.dump');
  const storeDir = path.join(dir, 'store');
  const cmd = async (label: string, script: string, extra: { outputFile?: string } = {}) => {
    log(`  ${label}…`);
    await waitForQuiet();
    const [command, args] = shell(script);
    const m = await measureCommand(label, command, args, { env, serverPid, ...extra });
    log(`    ${m.seconds.toFixed(1)} s, peak RSS ${(m.peakRssBytes / 2 ** 20).toFixed(0)} MB`);
    const { stdout: _o, stderr: _e, ...rest } = m;
    return rest;
  };
  const lifeboatBackup = async (name = 'bench', extra: string[] = []): Promise<Step> => {
    log(`  lifeboat backup ${extra.join(' ')}…`);
    await waitForQuiet();
    const m = await measureCommand(
      `lifeboat backup ${extra.join(' ')}`.trim(),
      process.execPath,
      [
        cli.file,
        'backup',
        '--store',
        storeDir,
        '--name',
        name,
        '--recipient',
        keys.recipient,
        '--identity-file',
        keys.identityFile,
        ...extra,
      ],
      // The connection string, password included, reaches the CLI only through its environment.
      { env: { ...env, DATABASE_URL: url }, marks: BACKUP_MARKS, serverPid },
    );
    const { manifest, archive } = newestBackup(storeDir, name);
    if (manifest.verification.level !== 'readable')
      throw new Error(`the backup verified only at level ${manifest.verification.level}`);
    log(`    ${m.seconds.toFixed(1)} s, peak RSS ${(m.peakRssBytes / 2 ** 20).toFixed(0)} MB`);
    const { stdout: _o, stderr: _e, ...rest } = m;
    return {
      ...rest,
      outputBytes: storedBytes(manifest),
      label: `lifeboat backup (${path.basename(archive)}${manifest.archive.parts ? ` and ${manifest.archive.parts.length} more parts` : ''})`,
    };
  };

  // The first dump also warms the page cache, so the floor is not the one paying for it.
  const dumpToFile = await cmd('pg_dump -Fc -Z0 > file', `pg_dump -Fc -Z0 > ${plainDump}`, {
    outputFile: plainDump,
  });
  const jobs = cores();
  const floors: Step[] = [];
  const backups: Step[] = [];
  const restores: Step[] = [];
  const verifies: Step[] = [];
  const drills: Step[] = [];
  let drillSkipped: string | undefined;
  let gzip: Step | undefined;
  let customZ9: Step | undefined;
  let fingerprints = false;
  // Each round measures every pair that makes a ratio back to back, so both see the same load.
  for (let round = 0; round < options.rounds; round++) {
    floors.push(await cmd('pg_dump -Fc -Z0 > /dev/null', 'pg_dump -Fc -Z0 > /dev/null'));
    backups.push(await lifeboatBackup());
    const { manifest } = newestBackup(storeDir, 'bench');
    fingerprints = await hasFingerprints(manifest, keys);
    // Plain parallel restore of the uncompressed dump, then the queries a drill's verification runs.
    await cluster.query('DROP DATABASE IF EXISTS bench_restore');
    await cluster.query('CREATE DATABASE bench_restore');
    restores.push(
      await cmd(
        `pg_restore -j ${jobs}`,
        `pg_restore --jobs=${jobs} --exit-on-error --dbname=bench_restore ${plainDump}`,
      ),
    );
    const restored = cluster.url({ database: 'bench_restore' });
    verifies.push(await verifyQueries(restored, fingerprints, serverPid, log));
    await cluster.query('DROP DATABASE bench_restore');
    await cluster.query('CHECKPOINT');
    if (drillSkipped === undefined) {
      try {
        drills.push(await lifeboatDrill(options, storeDir, manifest.backupId, env, log));
      } catch (error) {
        drillSkipped = (error as Error).message.split('\n').slice(0, 3).join(' ');
        log(`  drill skipped: ${drillSkipped}`);
      }
    }
    // Restores leave gigabytes of dirty buffers; flushing them now keeps the next step's numbers clean.
    await cluster.query('CHECKPOINT');
    if (round === 0) {
      const gzipFile = path.join(dir, 'dump.sql.gz');
      gzip = await cmd('pg_dump | gzip > file', `pg_dump | gzip > ${gzipFile}`, { outputFile: gzipFile });
      await rm(gzipFile);
      const z9File = path.join(dir, 'dump.Z9');
      customZ9 = await cmd('pg_dump -Fc --compress=9 > file', `pg_dump -Fc --compress=9 > ${z9File}`, {
        outputFile: z9File,
      });
      await rm(z9File);
    }
  }
  const { manifest, archive } = newestBackup(storeDir, 'bench');
  // A streamed drill decrypts and decompresses the archive once per pg_restore reading rows.
  const streamOnce = await cmd(
    'age -d | zstd -d > /dev/null',
    `age -d -i ${keys.identityFile} ${archive} | zstd -d -q > /dev/null`,
  );

  // The path for large databases: several pg_dump processes on one snapshot, each its own part.
  let parallel: Pick<SuiteResult['steps'], 'parallelFloor' | 'lifeboatParallel' | 'drillParallel'> = {};
  if (options.dumpJobs > 1) {
    const n = options.dumpJobs;
    const dumpDir = path.join(dir, 'parallel.dir');
    const parallelFloor = await cmd(
      `pg_dump -Fd -j ${n} -Z0 -f dir`,
      `pg_dump -Fd -j ${n} -Z0 -f ${dumpDir}`,
    );
    await rm(dumpDir, { recursive: true, force: true });
    const lifeboatParallel = await lifeboatBackup('bench-parallel', ['--dump-jobs', String(n)]);
    const parallelId = newestBackup(storeDir, 'bench-parallel').manifest.backupId;
    await cluster.query('CHECKPOINT');
    const drillParallel = await lifeboatDrill(
      options,
      storeDir,
      parallelId,
      env,
      log,
      'bench-parallel',
    ).catch((error: unknown) => {
      log(`  drill of the parallel backup skipped: ${(error as Error).message.split('\n')[0]}`);
      return undefined;
    });
    await cluster.query('CHECKPOINT');
    parallel = { parallelFloor, lifeboatParallel, drillParallel };
  }

  const profile = options.profile
    ? {
        ...(await runProfile({
          env,
          url,
          plainDump,
          archive,
          manifest,
          keys,
          workDir: dir,
          serverMajor: cluster.major,
          serverPid,
          log,
        })),
        whatIf: await runWhatIfs({ cli, env, url, keys, workDir: dir, serverPid, log }),
      }
    : undefined;

  await rm(dir, { recursive: true, force: true });
  await cluster.query(`DROP DATABASE ${dbName}`);
  return {
    sizeGb: options.sizeGb,
    database,
    dumpBytes: dumpToFile.outputBytes ?? 0,
    steps: {
      dumpToFile,
      floor: fastest(floors),
      gzip: gzip!,
      customZ9: customZ9!,
      lifeboat: fastest(backups),
      restore: fastest(restores),
      restoreVerify: fastest(verifies),
      drill: drills.length ? fastest(drills) : undefined,
      streamOnce,
      ...parallel,
    },
    dumpJobs: options.dumpJobs > 1 ? options.dumpJobs : undefined,
    lifeboatManifest: { ...manifest, catalog: '(encrypted, left out)' },
    fingerprints,
    drillSkipped,
    profile,
  };
}

/** The catalog snapshot a drill takes of the restored database: exact counts, and fingerprints if the backup took them. */
async function verifyQueries(
  url: string,
  fingerprints: boolean,
  serverPid: number | undefined,
  log: (line: string) => void,
): Promise<Step> {
  log('  verification queries on the restored database…');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { measurement } = await measureFunction(
      'catalog snapshot of the restored database',
      () => inspectDatabase(client, { fingerprints }),
      { serverPid },
    );
    log(`    ${measurement.seconds.toFixed(1)} s`);
    return measurement;
  } finally {
    await client.end();
  }
}

async function lifeboatDrill(
  options: SuiteOptions,
  storeDir: string,
  backupId: string,
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
  name = 'bench',
): Promise<Step> {
  const { cluster, cli, keys } = options;
  log(`  lifeboat drill of ${name}…`);
  await waitForQuiet();
  const before = new Set(await listDatabases(cluster));
  const m = await measureCommand(
    'lifeboat drill',
    process.execPath,
    [
      cli.file,
      'drill',
      '--store',
      storeDir,
      '--name',
      name,
      '--backup-id',
      backupId,
      '--identity-file',
      keys.identityFile,
    ],
    { env: { ...env, LIFEBOAT_TARGET_URL: cluster.url() }, serverPid: postmasterPid(cluster.dataDir) },
  ).finally(async () => {
    // Whatever the drill left behind (it should drop its own database) must not pile up.
    for (const name of await listDatabases(cluster))
      if (!before.has(name)) await cluster.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });
  log(`    ${m.seconds.toFixed(1)} s, peak RSS ${(m.peakRssBytes / 2 ** 20).toFixed(0)} MB`);
  const { stdout: _o, stderr, ...rest } = m;
  return { ...rest, phases: drillPhases(stderr) };
}

/** `✔ pg_restore (12.3s)` or `✔ pg_restore (1m 5s): …` lines of the drill's log. */
export function drillPhases(stderr: string): Record<string, number> {
  const phases: Record<string, number> = {};
  for (const match of stderr.matchAll(/^✔ (.+?) \(((?:\d+h )?(?:\d+m )?(?:[\d.]+s)?)\)/gm)) {
    const text = match[2] ?? '';
    const unit = (u: string) => Number(new RegExp(`([\\d.]+)${u}`).exec(text)?.[1] ?? 0);
    phases[match[1]!] = unit('h') * 3600 + unit('m') * 60 + unit('s');
  }
  return phases;
}

async function listDatabases(cluster: Cluster): Promise<string[]> {
  const rows = await cluster.query<{ datname: string }>('SELECT datname FROM pg_database');
  return rows.map((r) => r.datname);
}
