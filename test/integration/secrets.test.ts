import { confirmFor, startCluster, type Cluster } from '../helpers/cluster.js';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity } from '../../src/archive/age/index.js';
import { expectNoSecrets, runAction } from '../helpers/lifeboat.js';
import { loadFixture } from '../helpers/fixtures.js';
import { recordingTools, type RecordingTools, type ToolStart } from '../helpers/recording-tools.js';

/**
 * Secrets stay where they were put, on every path out of the process: never on a command
 * line (Lifeboat's own or a tool's), never in a tool's environment beyond the one password
 * its connection needs.
 */
let cluster: Cluster;
let tools: RecordingTools;
let work: string;
let appUrl: string;
const keys = generateIdentity();
const passphrase = `correct horse ${Math.random().toString(36).slice(2)}`;
// What a workflow's environment holds besides Lifeboat's inputs.
const bystanders = {
  AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEEXAMPLE00',
  AWS_SECRET_ACCESS_KEY: 'aws-secret-0123456789abcdefghijklmnopqrstu',
  GITHUB_TOKEN: 'ghs_workflowtoken0123456789abcdefghijkl',
  ACTIONS_RUNTIME_TOKEN: 'actions-runtime-token-0123456789',
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'oidc-request-token-0123456789',
  PGSERVICE: 'somewhere-else',
  LIFEBOAT_STORAGE_ACCESS_KEY_ID: 'storage-access-key-0123456789',
  LIFEBOAT_STORAGE_SECRET_ACCESS_KEY: 'storage-secret-key-0123456789abcdef',
};

beforeAll(async () => {
  cluster = await startCluster();
  appUrl = await cluster.createDatabase('app');
  await loadFixture(cluster, 'app', 'supabase');
  tools = await recordingTools({ pgBinDir: cluster.clientBinDir });
  work = await mkdtemp(path.join(tmpdir(), 'lifeboat-secrets-'));
});

afterAll(async () => {
  await Promise.all([cluster?.stop(), tools?.remove(), work && rm(work, { recursive: true, force: true })]);
});

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** The real CLI in a child process, with exactly `env` and optionally something on stdin. */
function lifeboat(args: string[], env: NodeJS.ProcessEnv, stdin = ''): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
    child.on('close', (code) => resolve({ code: code ?? 128, stdout, stderr }));
  });
}

function baseEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: `${tools.pathDir}${path.delimiter}${process.env.PATH}`,
    HOME: process.env.HOME,
    TMPDIR: process.env.TMPDIR,
    LANG: 'C.UTF-8',
    ...bystanders,
    ...extra,
  };
}

/** Every way a tool start could show a secret other than its own connection's password. */
function leaks(starts: ToolStart[], secrets: Record<string, string>): string[] {
  const problems: string[] = [];
  const allowed = /^(PATH|HOME|TMPDIR|TMP|TEMP|LANG|LANGUAGE|TZ|LC_[A-Z_]+|PG[A-Z_]+)$/;
  for (const start of starts) {
    for (const name of Object.keys(start.env)) {
      if (!allowed.test(name)) problems.push(`${start.tool} got ${name}`);
    }
    if (start.env.PGSERVICE) problems.push(`${start.tool} got the caller's PGSERVICE`);
    const everything = [...start.argv, ...start.parentArgv, ...Object.values(start.env)].join('\n');
    for (const [label, value] of Object.entries(secrets)) {
      if (everything.includes(value))
        problems.push(`${start.tool}: ${label} in its argv, Lifeboat's or its env`);
    }
  }
  return problems;
}

describe('secrets on the CLI command line', () => {
  it.each([
    ['backup', 'database-url', 'DATABASE_URL'],
    ['restore', 'target-url', 'LIFEBOAT_TARGET_URL'],
    ['drill', 'target-url', 'LIFEBOAT_TARGET_URL'],
    ['refresh', 'target-url', 'LIFEBOAT_TARGET_URL'],
  ])(
    'refuses `%s --%s` with a password (exit 2), names %s and starts nothing',
    async (command, flag, variable) => {
      const store = path.join(work, `refused-${command}`);
      const before = (await tools.starts()).length;
      const run = await lifeboat(
        [command, `--${flag}`, appUrl, '--store', store, '--pg-bin-dir', tools.pgBinDir],
        baseEnv({ LIFEBOAT_RECIPIENT: keys.recipient, LIFEBOAT_IDENTITY: keys.identity }),
      );
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`--${flag} would put a secret on the command line`);
      expect(run.stderr).toContain(variable);
      expectNoSecrets(run.stderr, [cluster.password]);
      expect((await tools.starts()).length).toBe(before);
      expect(existsSync(store)).toBe(false);
    },
  );

  it('refuses an identity or a passphrase given as a flag, naming the variable and the file flag', async () => {
    const store = path.join(work, 'refused-keys');
    const identity = await lifeboat(['drill', '--identity', keys.identity, '--store', store], baseEnv());
    expect(identity.code).toBe(2);
    expect(identity.stderr).toMatch(/--identity-file FILE \(- for standard input\) or LIFEBOAT_IDENTITY/);
    const passphraseRun = await lifeboat(
      ['backup', '--encryption-passphrase', passphrase, '--store', store],
      baseEnv({ DATABASE_URL: appUrl }),
    );
    expect(passphraseRun.code).toBe(2);
    expect(passphraseRun.stderr).toMatch(
      /--passphrase-file FILE \(- for standard input\) or LIFEBOAT_PASSPHRASE/,
    );
    for (const run of [identity, passphraseRun]) expectNoSecrets(run.stderr, [keys.identity, passphrase]);
    expect(existsSync(store)).toBe(false);
  });

  it("refuses a refresh's mask key given as a flag, naming the variable", async () => {
    const store = path.join(work, 'refused-mask-key');
    const run = await lifeboat(['refresh', '--mask-key', 's3cr3t-mask-key', '--store', store], baseEnv());
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('the environment variable LIFEBOAT_MASK_KEY');
    expect(run.stderr + run.stdout).not.toContain('s3cr3t-mask-key');
    expect(existsSync(store)).toBe(false);
  });

  it('refuses a webhook or heartbeat URL given as a flag, naming the variable', async () => {
    const store = path.join(work, 'refused-hooks');
    const hook = 'https://hooks.slack.com/services/T000/B000/s3cr3t-hook-token';
    for (const [flag, variable] of [
      ['--notify-url', 'LIFEBOAT_NOTIFY_URL'],
      ['--heartbeat-url', 'LIFEBOAT_HEARTBEAT_URL'],
    ]) {
      const run = await lifeboat(['gate', flag!, hook, '--store', store], baseEnv());
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`the environment variable ${variable}`);
      expect(run.stderr + run.stdout).not.toContain('s3cr3t-hook-token');
    }
    expect(existsSync(store)).toBe(false);
  });

  it('takes a URL without a password as a flag', async () => {
    const noPassword = appUrl.replace(/:[^:@/]*@/, '@');
    const run = await lifeboat(
      ['gate', '--database-url', noPassword, '--store', path.join(work, 'empty-store')],
      baseEnv(),
    );
    // It gets as far as the store (empty: no backup), not refused as bad usage.
    expect(run.code).toBe(1);
    expect(run.stderr).not.toContain('would put a secret on the command line');
  });

  it('backs up and restores with every secret in the environment or on stdin: no command line and no tool sees one', async () => {
    const store = path.join(work, 'env-store');
    const target = await cluster.createDatabase('restored');
    const first = (await tools.starts()).length;
    const backup = await lifeboat(
      ['backup', '--store', store, '--pg-bin-dir', tools.pgBinDir],
      baseEnv({ DATABASE_URL: appUrl, LIFEBOAT_RECIPIENT: keys.recipient, LIFEBOAT_IDENTITY: keys.identity }),
    );
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stdout).toMatch(/^verified=readable$/m);
    // The identity from standard input (`-`), the target through LIFEBOAT_TARGET_URL.
    const restore = await lifeboat(
      [
        'restore',
        '--store',
        store,
        '--pg-bin-dir',
        tools.pgBinDir,
        '--identity-file',
        '-',
        '--confirm',
        confirmFor(cluster, 'restored'),
      ],
      baseEnv({ LIFEBOAT_TARGET_URL: target }),
      `${keys.identity}\n`,
    );
    expect(restore.code, restore.stderr).toBe(0);
    expect(restore.stdout).toMatch(/^status=passed$/m);

    const starts = (await tools.starts()).slice(first);
    expect(new Set(starts.map((s) => s.tool))).toEqual(new Set(['pg_dump', 'pg_restore', 'psql', 'zstd']));
    // Lifeboat itself was the parent of every tool it started, and its command line held no secret.
    expect(starts.every((s) => s.parentArgv.some((a) => a.endsWith('src/cli.ts')))).toBe(true);
    expect(leaks(starts, { ...bystanders, identity: keys.identity })).toEqual([]);
    for (const start of starts) {
      const line = [...start.argv, ...start.parentArgv].join(' ');
      expectNoSecrets(line, [cluster.password]);
    }
    // Only the tools that connect get the password, and zstd gets no PG* at all.
    for (const start of starts.filter((s) => s.tool === 'zstd')) {
      expect(Object.keys(start.env).filter((k) => k.startsWith('PG'))).toEqual([]);
    }
    for (const run of [backup, restore]) {
      expectNoSecrets([run.stdout, run.stderr], [cluster.password, keys.identity]);
    }
  });
});

describe('the environment of every tool the action starts', () => {
  it('gives pg_dump, pg_restore, psql and zstd no input, identity, passphrase, AWS or GitHub secret', async () => {
    const store = path.join(work, 'action-store');
    const target = await cluster.createDatabase('action_restored');
    const first = (await tools.starts()).length;
    const env = baseEnv();
    const common = { store, 'pg-bin-dir': tools.pgBinDir, 'github-token': bystanders.GITHUB_TOKEN };
    const backup = await runAction(
      {
        ...common,
        mode: 'backup',
        'database-url': appUrl,
        'encryption-passphrase': passphrase,
      },
      { env },
    );
    expect(backup.code, backup.stderr).toBe(0);
    const restore = await runAction(
      {
        ...common,
        mode: 'restore',
        'target-url': target,
        'encryption-passphrase': passphrase,
        confirm: confirmFor(cluster, 'action_restored'),
      },
      { env },
    );
    expect(restore.code, restore.stdout + restore.stderr).toBe(0);

    const starts = (await tools.starts()).slice(first);
    expect(new Set(starts.map((s) => s.tool))).toEqual(new Set(['pg_dump', 'pg_restore', 'psql', 'zstd']));
    expect(leaks(starts, { ...bystanders, passphrase })).toEqual([]);
    // The database URL (an input) reached no tool whole; its password only as PGPASSWORD.
    for (const start of starts) {
      expect(Object.values(start.env).join('\n')).not.toContain(appUrl);
      expect(Object.keys(start.env).filter((k) => k.startsWith('INPUT_'))).toEqual([]);
    }
    expect(starts.filter((s) => s.env.PGPASSWORD).map((s) => s.env.PGPASSWORD)).toEqual(
      starts.filter((s) => s.env.PGPASSWORD).map(() => cluster.password),
    );
  });
});
