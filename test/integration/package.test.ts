/**
 * The CLI as people install it: `npm pack` of this repository, installed into an empty
 * directory without a registry (dist/cli is a self-contained bundle, so the package has no
 * runtime dependencies), then `lifeboat --help`, a backup and a drill against a real server.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity } from '../../src/archive/age/index.js';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { loadFixture } from '../helpers/fixtures.js';
import { expectNoSecrets } from '../helpers/lifeboat.js';

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** The caller's environment without what npm or a test runner set for this repository. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^(npm_|PG|LIFEBOAT_|DATABASE_URL$|INPUT_)/i.test(key)),
  );
  return { ...env, ...extra };
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd, env, maxBuffer: 16 * 1024 * 1024, timeout: 120_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const repo = path.resolve(import.meta.dirname, '..', '..');
let work: string;
let cluster: Cluster;
let databaseUrl: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'lifeboat-package-'));
  cluster = await startCluster();
  databaseUrl = await cluster.createDatabase('app');
  await loadFixture(cluster, 'app', 'supabase');
});

afterAll(async () => {
  await cluster?.stop();
  await rm(work, { recursive: true, force: true });
});

interface Packed {
  tarball: string;
  info: { filename: string; size: number; files: { path: string }[] };
}

/** The package packed once, by whichever test needs it first: each test passes alone and in any order. */
let packing: Promise<Packed> | undefined;
function pack(): Promise<Packed> {
  packing ??= (async () => {
    const packed = await run('npm', ['pack', '--json', '--pack-destination', work], repo, cleanEnv());
    if (packed.code !== 0) throw new Error(`npm pack failed: ${packed.stderr}`);
    const [info] = JSON.parse(packed.stdout) as Packed['info'][];
    return { tarball: path.join(work, info!.filename), info: info! };
  })();
  return packing;
}

/** The tarball installed once into an empty directory; the path of its `lifeboat` command. */
let installing: Promise<{ prefix: string; code: number; stderr: string; lifeboat: string }> | undefined;
function install() {
  installing ??= (async () => {
    const { tarball } = await pack();
    const prefix = path.join(work, 'elsewhere');
    await mkdir(prefix);
    const installed = await run(
      'npm',
      ['install', '--offline', '--no-audit', '--no-fund', '--cache', path.join(work, 'npm-cache'), tarball],
      prefix,
      cleanEnv(),
    );
    return { prefix, ...installed, lifeboat: path.join(prefix, 'node_modules', '.bin', 'lifeboat') };
  })();
  return installing;
}

describe(`the packed CLI (Node ${process.version})`, () => {
  it('packs only what runs: the CLI bundle, package.json and the README', async () => {
    const { info } = await pack();
    console.log(`${info!.filename}: ${(info!.size / 1024 / 1024).toFixed(1)} MiB packed`);
    const files = info!.files.map((f) => f.path);
    expect(files).toContain('dist/cli.js');
    expect(files).toContain('dist/cli/index.js');
    expect(
      files.filter(
        (f) => !/^(dist\/cli(\.js|\/.*)|dist\/package\.json|package\.json|README\.md|LICENSE)$/.test(f),
      ),
    ).toEqual([]);
    const manifest = JSON.parse(await readFile(path.join(repo, 'package.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(manifest.private).toBeUndefined();
    expect(manifest.dependencies ?? {}).toEqual({});
    expect(manifest.bin).toEqual({ lifeboat: 'dist/cli.js' });
  });

  it('installs from the tarball into an empty directory without a registry', async () => {
    const installed = await install();
    const { prefix } = installed;
    expect(installed.code, installed.stderr).toBe(0);
    expect((await readdir(path.join(prefix, 'node_modules'))).filter((e) => !e.startsWith('.'))).toEqual([
      '@lifeboat-dev',
    ]);
    const entry = path.join(prefix, 'node_modules', '@lifeboat-dev', 'lifeboat', 'dist', 'cli.js');
    expect((await stat(entry)).mode & 0o111).not.toBe(0);
  });

  it('runs lifeboat --help, a backup and a drill from there', async () => {
    const { lifeboat, code, stderr } = await install();
    expect(code, stderr).toBe(0);
    const cwd = path.dirname(path.dirname(path.dirname(lifeboat)));
    const help = await run(lifeboat, ['--help'], cwd, cleanEnv());
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage:\n\s+lifeboat backup/);

    const { identity, recipient } = generateIdentity();
    const keyFile = path.join(work, 'key.txt');
    await writeFile(keyFile, `${identity}\n`, { mode: 0o600 });
    const env = cleanEnv({
      DATABASE_URL: databaseUrl,
      LIFEBOAT_STORE: path.join(work, 'backups'),
      // The client tools that suit the test cluster; not every machine has them on PATH.
      LIFEBOAT_PG_BIN_DIR: cluster.clientBinDir,
    });
    const backup = await run(
      lifeboat,
      ['backup', '--recipient', recipient, '--identity-file', keyFile],
      cwd,
      env,
    );
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stdout).toMatch(/^verified=readable$/m);

    const drill = await run(lifeboat, ['drill', '--identity-file', keyFile, '--github-token', ''], cwd, {
      ...env,
      LIFEBOAT_TARGET_URL: cluster.url({ database: 'postgres' }),
    });
    expect(drill.code, drill.stderr).toBe(0);
    expect(drill.stdout).toMatch(/^status=passed$/m);
    expect(drill.stdout).toMatch(/^rto-seconds=\d/m);
    for (const ran of [help, backup, drill]) expectNoSecrets([ran.stdout, ran.stderr], [cluster.password]);
  });
});
