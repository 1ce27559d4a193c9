import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupFixture, type BackupFixture } from '../helpers/world.js';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { loadFixture } from '../helpers/fixtures.js';
import { expectNoSecrets } from '../helpers/lifeboat.js';

let cluster: Cluster;
let fx: BackupFixture;
let url: string;
let keyFile: string;

function lifeboat(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', ...args],
      { env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  cluster = await startCluster();
  url = await cluster.createDatabase('app');
  await loadFixture(cluster, 'app', 'supabase');
  fx = await backupFixture();
  keyFile = path.join(fx.dir, '..', `${path.basename(fx.dir)}-key.txt`);
  await writeFile(keyFile, `# a key file as age-keygen writes it\n${fx.identity}\n`, { mode: 0o600 });
});

afterAll(async () => {
  await cluster?.stop();
  await fx?.cleanup();
});

describe('npx lifeboat', () => {
  it('backs up with DATABASE_URL from the environment and an identity file, then lists and prunes', async () => {
    const env = { DATABASE_URL: url, LIFEBOAT_STORE: fx.dir };
    const first = await lifeboat(['backup', '--recipient', fx.recipient, '--identity-file', keyFile], env);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^backup-id=\d{8}_\d{6}_\d{3}_[0-9a-f]{8}$/m);
    expect(first.stdout).toMatch(/^verified=readable$/m);
    expect(first.stderr).toMatch(/Backing up \(compressed, encrypted\): .* at .*\/s/);
    const second = await lifeboat(['backup', '--recipient', fx.recipient, '--json'], env);
    expect(second.code).toBe(0);
    expect((JSON.parse(second.stdout) as Record<string, string>).verified).toBe('stored');
    // LIFEBOAT_IDENTITY may name a key file.
    const third = await lifeboat(['backup', '--json'], { ...env, LIFEBOAT_IDENTITY: keyFile });
    expect(third.code).toBe(0);
    const outputs = JSON.parse(third.stdout) as Record<string, string>;
    expect(outputs.verified).toBe('readable');

    const list = await lifeboat(['list', '--store', fx.dir]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/BACKUP ID\s+AGE\s+SIZE\s+VERIFIED\s+MIGRATION/);
    expect(list.stdout).toContain(outputs['backup-id']);
    expect(list.stdout.trim().split('\n')).toHaveLength(4);

    const dry = await lifeboat(['prune', '--store', fx.dir, '--keep', '1', '--dry-run']);
    expect(dry.stderr).toMatch(/Retention of "production": 3 backup\(s\), would delete 2\./);
    expect((await lifeboat(['list', '--store', fx.dir])).stdout.trim().split('\n')).toHaveLength(4);
    const prune = await lifeboat(['prune', '--store', fx.dir, '--keep', '1']);
    expect(prune.code).toBe(0);
    expect((await lifeboat(['list', '--store', fx.dir])).stdout.trim().split('\n')).toHaveLength(2);

    for (const run of [first, second, third, list, dry, prune]) {
      expectNoSecrets([run.stdout, run.stderr], [cluster.password, fx.identity]);
    }
  });

  it('prints usage with help and exits 2 on an unknown command or flag', async () => {
    expect((await lifeboat(['--help'])).stdout).toMatch(/Usage:\n\s+lifeboat backup/);
    const unknown = await lifeboat(['explode']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown command "explode"/);
    const flag = await lifeboat(['backup', '--frobnicate']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/frobnicate/);
  });

  it('exits 2 for every input it cannot parse, whichever part of the settings refuses it', async () => {
    const url = { DATABASE_URL: 'postgresql://postgres:pw@127.0.0.1:1/app' };
    const bad: [string[], NodeJS.ProcessEnv][] = [
      [['backup', '--store', fx.dir, '--recipient', 'hello'], url],
      // A public key where the secret one belongs.
      [
        ['drill', '--store', fx.dir],
        { LIFEBOAT_TARGET_URL: url.DATABASE_URL, LIFEBOAT_IDENTITY: fx.recipient },
      ],
      [['backup', '--store', fx.dir, '--recipient', fx.recipient, '--keep', 'abc'], url],
      [['backup', '--store', 'file://backups', '--recipient', fx.recipient], url],
    ];
    for (const [args, env] of bad) {
      const run = await lifeboat(args, env);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
    }
  });

  it('fails with exit 1 and a masked message when the database cannot be reached', async () => {
    const run = await lifeboat(['backup', '--store', fx.dir, '--recipient', fx.recipient], {
      DATABASE_URL: 'postgresql://postgres:hunter2-secret@127.0.0.1:1/app',
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/error: Cannot connect to 127\.0\.0\.1:1\/app/);
    expectNoSecrets(run.stderr, ['hunter2-secret']);
  });
});
