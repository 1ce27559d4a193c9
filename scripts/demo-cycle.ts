/**
 * The demo's cycle, once demo.ts has found what it needs: starts a cluster in a temp dir
 * (as an unprivileged user when run as root), loads a small Supabase-like database,
 * generates a throwaway age key, and runs backup, list, gate, drill and a restore dry run
 * through the same code as the action and the CLI.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateIdentity } from '../src/archive/age/index.js';
import { cli } from '../src/cli/program.js';
import { startCluster, type Cluster } from './postgres/cluster.js';
import { loadFixture, rowCounts } from '../test/helpers/fixtures.js';

const say = (text: string) => process.stderr.write(`\n\x1b[1m▶ ${text}\x1b[0m\n`);

async function step(title: string, argv: string[], env: NodeJS.ProcessEnv): Promise<void> {
  say(`${title}\n  $ lifeboat ${argv.map((a) => (a.includes('://') ? '<url>' : a)).join(' ')}`);
  const code = await cli(argv, env);
  if (code !== 0) throw new Error(`"lifeboat ${argv[0]}" failed with exit status ${code}`);
}

/** `clientBinDir`: the PostgreSQL client tools the clusters were chosen for (not always on PATH). */
export async function runDemo(clientBinDir: string): Promise<void> {
  const workDir = await mkdtemp(path.join(tmpdir(), 'lifeboat-demo-'));
  const store = path.join(workDir, 'backups');
  const keyFile = path.join(workDir, 'key.txt');
  const clusters: Cluster[] = [];
  try {
    say('Starting a throwaway PostgreSQL and loading a Supabase-like database');
    const source = await startCluster();
    clusters.push(source);
    const databaseUrl = await source.createDatabase('app');
    await loadFixture(source, 'app', 'supabase');
    const counts = await rowCounts(source, 'app');
    process.stderr.write(
      `  ${Object.keys(counts).length} tables, ${Object.values(counts).reduce((a, b) => a + b, 0)} rows, RLS policies, functions, FKs\n`,
    );

    say('Generating a throwaway age key');
    const { identity, recipient } = generateIdentity();
    await writeFile(keyFile, `# public key: ${recipient}\n${identity}\n`, { mode: 0o600 });
    process.stderr.write(`  public key (recipient): ${recipient}\n  secret key (identity):  ${keyFile}\n`);

    // The CLI reads DATABASE_URL like any user's shell would; the password never reaches argv.
    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: databaseUrl, LIFEBOAT_STORE: store };
    // The same client tools the clusters were chosen for, unless the user named others.
    env.LIFEBOAT_PG_BIN_DIR ??= clientBinDir;
    await step(
      'Backup: dump → zstd → age → store, then read back and verify every byte',
      ['backup', '--recipient', recipient, '--identity-file', keyFile],
      env,
    );
    await step('List the backups in the store', ['list'], env);
    await step(
      'Gate: is there a fresh, verified backup taken after the last applied migration?',
      ['gate', '--max-age', '1h'],
      env,
    );
    await demoMore({ env, keyFile, clusters });

    say('Done');
    process.stderr.write(
      [
        `  Backups:   ${store}`,
        `  Key:       ${keyFile}`,
        '  Recover by hand with standard tools:',
        `    age -d -i ${keyFile} ${store}/production/<backup-id>.dump.zst.age | zstd -d > backup.dump`,
        '    pg_restore --list backup.dump',
        '  The throwaway databases have been removed; the backups and key stay for you to look at.',
        '',
      ].join('\n'),
    );
  } finally {
    for (const cluster of clusters) await cluster.stop();
  }
}

/** Drill into a second throwaway server, then preview a restore over the source. */
async function demoMore(context: {
  env: NodeJS.ProcessEnv;
  keyFile: string;
  clusters: Cluster[];
}): Promise<void> {
  say('Starting a second, bare PostgreSQL as the drill target (like a `services: postgres` container)');
  const target = await startCluster();
  context.clusters.push(target);
  const drillEnv = { ...context.env, LIFEBOAT_TARGET_URL: target.url({ database: 'postgres' }) };
  await step(
    'Drill: restore the latest backup into a fresh database, verify it object by object, measure RTO/RPO',
    [
      'drill',
      '--identity-file',
      context.keyFile,
      '--rto-target',
      '10m',
      '--rpo-target',
      '1h',
      '--github-token',
      '',
    ],
    drillEnv,
  );
  const restoreEnv = { ...context.env, LIFEBOAT_TARGET_URL: context.env.DATABASE_URL };
  await step(
    'Restore, dry run: what a restore over the source would do (nothing changes)',
    ['restore', '--identity-file', context.keyFile, '--dry-run'],
    restoreEnv,
  );
}
