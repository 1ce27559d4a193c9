/**
 * `npm run bench`: starts a throwaway cluster, generates a realistic database, and measures
 * the floor (pg_dump to /dev/null), the runbooks' commands, the Lifeboat backup, a plain
 * parallel restore and the Lifeboat drill on it, in one run. Prints a markdown report with
 * the ratios and targets and writes everything as JSON to bench/results/<timestamp>.json.
 *
 *   npm run bench                       1 GB, plus 0.25 GB for the memory-flatness target
 *   npm run bench -- --size 4 --also 0  one 4 GB database
 *   npm run bench -- --profile          also break the backup's time down
 *
 * Not part of `npm test`. Needs the PostgreSQL 15 server and client tools, zstd, gzip and age.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startCluster } from '../scripts/postgres/cluster.js';
import { measureInChildProcess } from './age-throughput.js';
import { measureMasking } from './masking.js';
import { makeKeys, prepareCli } from './lifeboat.js';
import { loadAverage } from './measure.js';
import { renderReport, type BenchResults } from './report.js';
import { runSuite, type SuiteResult } from './suite.js';
import { measureStorage } from './storage.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '1' },
    also: { type: 'string', default: '0.25' },
    rounds: { type: 'string', default: '2' },
    profile: { type: 'boolean', default: false },
    'dump-jobs': { type: 'string', default: '2' },
    'storage-objects': { type: 'string', default: '2000' },
    'mask-rows': { type: 'string', default: '1000000' },
    cli: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  process.stdout
    .write(`npm run bench -- [--size GB] [--also GB|0] [--rounds N] [--profile] [--dump-jobs N] [--cli file]
  --size     database size on disk in GB (default 1)
  --also     a second, smaller size measured the same way, for memory flatness (default 0.25; 0 skips)
  --rounds   runs of the floor and of the Lifeboat backup; the fastest counts (default 2)
  --profile  on the main size, also time pg_dump | zstd variants, zstd alone, the catalog snapshot,
             the read-back, and what-if backups (no fingerprints, other zstd levels)
  --dump-jobs  on the main size, also a backup dumped by N pg_dump processes and its drill
             (default 2; 1 skips)
  --storage-objects  10 KB Storage objects to archive from the local S3 server (default 2000; 0 skips)
  --mask-rows  rows of the table a refresh masks (email, name, phone), timed against its pg_restore
             (default 1000000; 0 skips)
  --cli      the bundled Lifeboat CLI to run (default: dist/cli.js if current, else a fresh bundle)
`);
  process.exit(0);
}

const positive = (text: string, flag: string) => {
  const n = Number(text);
  if (!(n >= 0)) throw new Error(`--${flag} must be a number, got "${text}"`);
  return n;
};
const sizes = [positive(values.also, 'also'), positive(values.size, 'size')].filter((n) => n > 0);
const rounds = Math.max(1, Math.round(positive(values.rounds, 'rounds')));
const dumpJobs = Math.round(positive(values['dump-jobs'], 'dump-jobs'));
const maskRows = Math.round(positive(values['mask-rows'], 'mask-rows'));

function version(command: string, args: string[]): string {
  try {
    const text = execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return /(\d+\.\d+(\.\d+)?)/.exec(text)?.[1] ?? text.trim();
  } catch {
    return 'missing';
  }
}

const log = (line: string) => process.stderr.write(`${line}\n`);
const started = new Date();
const loads: number[] = [loadAverage()];
const workDir = await mkdtemp(path.join(os.tmpdir(), 'lifeboat-bench-'));
const cluster = await startCluster();
try {
  log(
    `Load average ${loads[0]}; cluster PostgreSQL ${cluster.major} on port ${cluster.port}; work dir ${workDir}.`,
  );
  const cli = await prepareCli(root, workDir, log, values.cli);
  log(`Lifeboat CLI: ${cli.source}.`);
  const keys = await makeKeys(workDir);
  const suites: SuiteResult[] = [];
  for (const sizeGb of sizes) {
    log(`\n== ${sizeGb} GB`);
    const suite = await runSuite({
      cluster,
      sizeGb,
      rounds,
      // The profile runs on the main size only; the smaller one is there for memory flatness.
      profile: values.profile && sizeGb === sizes.at(-1),
      dumpJobs: sizeGb === sizes.at(-1) ? dumpJobs : 0,
      cli,
      keys,
      workDir,
      log,
    });
    suites.push(suite);
    for (const step of Object.values(suite.steps))
      if (step) loads.push(step.loadAverage.before, step.loadAverage.after);
  }
  const masking = maskRows ? await measureMasking(cluster, workDir, maskRows, log) : undefined;
  log('\n== age and SHA-256 throughput in memory');
  const crypto = await measureInChildProcess();
  loads.push(loadAverage());
  const storageObjects = Math.round(positive(values['storage-objects'], 'storage-objects'));
  if (storageObjects) log('\n== Storage objects');
  const storage = storageObjects ? await measureStorage({ objects: storageObjects, log }) : undefined;
  const results: BenchResults = {
    startedAt: started.toISOString(),
    seconds: (Date.now() - started.getTime()) / 1000,
    machine: {
      cpus: os.availableParallelism(),
      model: os.cpus()[0]?.model.trim() ?? 'unknown',
      memoryBytes: os.totalmem(),
      node: process.versions.node,
      tools: {
        pg_dump: version('pg_dump', ['--version']),
        zstd: version('zstd', ['--version']),
        gzip: version('gzip', ['--version']),
        age: version('age', ['--version']),
      },
    },
    cli: cli.source,
    options: { sizes, rounds, profile: values.profile, dumpJobs },
    load: { start: loads[0]!, end: loads.at(-1)!, min: Math.min(...loads), max: Math.max(...loads) },
    suites,
    crypto,
    storage,
    masking,
  };
  const report = renderReport(results);
  process.stdout.write(`\n${report}`);
  const dir = path.join(root, 'bench', 'results');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${started.toISOString().replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
  log(`\nResults written to ${path.relative(process.cwd(), file)} (${results.seconds.toFixed(0)} s in all).`);
} finally {
  await cluster.stop();
  await rm(workDir, { recursive: true, force: true });
}
