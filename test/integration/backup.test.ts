import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import {
  chmod,
  mkdir,
  mkdtemp,
  open,
  readdir,
  readFile,
  rm,
  stat,
  truncate,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptBytes } from '../../src/archive/age/index.js';
import { parseManifest } from '../../src/archive/manifest.js';
import { readBack } from '../../src/backup/read-back.js';
import { isLifeboatError } from '../../src/errors.js';
import { MemoryLog } from '../../src/log.js';
import type { CatalogSnapshot } from '../../src/postgres/catalog.js';
import { createToolFinder } from '../../src/postgres/tools.js';
import { LocalStore } from '../../src/stores/local.js';
import { holdLock } from '../faults/inject.js';
import { backupFixture, type BackupFixture } from '../helpers/world.js';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { postgresPlan } from '../helpers/find-postgres.js';
import { loadFixture, rowCounts } from '../helpers/fixtures.js';
import { expectNoSecrets, runLifeboat } from '../helpers/lifeboat.js';

const run = promisify(execFile);
// A server newer than every pg_dump here (often the embedded one), for the version-mismatch test.
const { client, newer } = await postgresPlan();

let cluster: Cluster;
let fx: BackupFixture;
let appUrl: string;

beforeAll(async () => {
  cluster = await startCluster();
  appUrl = await cluster.createDatabase('app');
  await loadFixture(cluster, 'app', 'supabase');
  await loadFixture(cluster, 'app', 'awkward');
  fx = await backupFixture();
});

afterAll(async () => {
  await cluster?.stop();
  await fx?.cleanup();
});

async function restoreByHand(archive: string, keyFile: string, database: string): Promise<void> {
  // The manual recovery path from the README: age -d | zstd -d > file; pg_restore file.
  const dump = path.join(fx.dir, `${database}.dump`);
  const age = spawn('age', ['-d', '-i', keyFile, archive], { stdio: ['ignore', 'pipe', 'inherit'] });
  const zstd = spawn('zstd', ['-d', '-q', '-c'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = (child: ReturnType<typeof spawn>) =>
    new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const codes = Promise.all([exited(age), exited(zstd)]);
  await Promise.all([pipeline(age.stdout!, zstd.stdin!), pipeline(zstd.stdout!, createWriteStream(dump))]);
  expect(await codes).toEqual([0, 0]);
  await cluster.createDatabase(database);
  await run(
    path.join(cluster.clientBinDir, 'pg_restore'),
    ['--exit-on-error', '--no-owner', '-d', database, dump],
    {
      env: {
        ...process.env,
        PGHOST: cluster.host,
        PGPORT: String(cluster.port),
        PGUSER: cluster.superuser,
        PGPASSWORD: cluster.password,
      },
    },
  );
  await rm(dump);
}

describe('backup', () => {
  it('takes a backup with only a recipient key that the age and zstd CLIs and pg_restore can restore, with the same row count in every table', async () => {
    const backup = await runLifeboat(
      { mode: 'backup', 'database-url': appUrl, store: fx.dir, 'encryption-recipient': fx.recipient },
      { store: fx.store },
    );
    expect(backup.error).toBeUndefined();
    const manifest = backup.manifest!;
    expect(manifest.verification.level).toBe('stored');
    expect(backup.outputs).toMatchObject({
      'backup-id': manifest.backupId,
      verified: 'stored',
      sha256: manifest.archive.sha256,
    });

    const archive = path.join(fx.dir, 'production', `${manifest.backupId}.dump.zst.age`);
    expect((await stat(archive)).size).toBe(manifest.archive.sizeBytes);
    const keyFile = path.join(fx.dir, 'key.txt');
    await writeFile(keyFile, `${fx.identity}\n`, { mode: 0o600 });
    await restoreByHand(archive, keyFile, 'restored_by_hand');
    expect(await rowCounts(cluster, 'restored_by_hand')).toEqual(await rowCounts(cluster, 'app'));
  });

  it('reaches level readable when an identity is given, and records an encrypted catalog that matches the database', async () => {
    const backup = await runLifeboat(
      {
        mode: 'backup',
        'database-url': appUrl,
        store: fx.dir,
        'encryption-recipient': fx.recipient,
        'encryption-identity': fx.identity,
      },
      { store: fx.store },
    );
    expect(backup.error).toBeUndefined();
    const manifest = backup.manifest!;
    expect(manifest.verification.level).toBe('readable');
    expect(manifest.archive.tocEntries).toBeGreaterThan(50);
    expect(manifest.migration?.latestVersion).toBe('20240320120000');
    // The recorded dump size is what the age and zstd CLIs make of the archive.
    const keyFile = path.join(fx.dir, 'readable-key.txt');
    await writeFile(keyFile, `${fx.identity}\n`, { mode: 0o600 });
    const archive = path.join(fx.dir, manifest.archive.key);
    const { stdout } = await run('sh', [
      '-c',
      'age -d -i "$1" "$2" | zstd -d -c | wc -c',
      'sh',
      keyFile,
      archive,
    ]);
    expect(manifest.archive.dumpBytes).toBe(Number(stdout.trim()));
    expect(manifest.archive.dumpBytes).toBeGreaterThan(manifest.archive.sizeBytes);

    const stored = await readFile(path.join(fx.dir, 'production', `${manifest.backupId}.manifest.json`));
    // The plain part names no table and counts no row.
    expect(stored.toString()).not.toMatch(/workspaces|clips|données|Mixed Case/);
    const catalog = JSON.parse(
      (
        await decryptBytes(Buffer.from(parseManifest(stored, 'm').catalog, 'base64'), {
          identities: [fx.identity],
        })
      ).toString(),
    ) as CatalogSnapshot;
    const counted = Object.fromEntries(
      catalog.tables.filter((t) => t.kind === 'r').map((t) => [`${t.schema}.${t.name}`, t.rows]),
    );
    expect(counted).toEqual(await rowCounts(cluster, 'app'));
    expect(catalog.policies.map((p) => p.name)).toContain('members read their workspaces');
    expect(catalog.tables.find((t) => t.name === 'weird "quoted" name')?.schema).toBe('Mixed Case');
  });

  describe('read-back check', () => {
    let manifestKeyId: string;
    let sha256: string;
    let sizeBytes: number;
    let archive: string;

    beforeAll(async () => {
      const backup = await runLifeboat(
        {
          mode: 'backup',
          'database-url': appUrl,
          store: fx.dir,
          'encryption-recipient': fx.recipient,
          name: 'tamper',
        },
        { store: fx.store },
      );
      const m = backup.manifest!;
      manifestKeyId = m.archive.key;
      sha256 = m.archive.sha256;
      sizeBytes = m.archive.sizeBytes;
      archive = path.join(fx.dir, m.archive.key);
    });

    /** Reads back the archive placed in `dir` as a store; the error it fails with, if any. */
    async function readBackIn(
      dir: string,
      expected: { sha256: string; sizeBytes: number },
      keys: { identities: string[] } = { identities: [fx.identity] },
    ) {
      const pgRestore = (await createToolFinder().candidates('pg_restore'))[0];
      try {
        await readBack({
          store: new LocalStore(dir),
          key: manifestKeyId,
          ...expected,
          keys,
          pgRestore,
          log: new MemoryLog(),
        });
        return undefined;
      } catch (error) {
        return error as Error;
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }

    /** A copy of the archive, changed in place and read back against the original checksum. */
    async function check(mutate: (file: string) => Promise<void>, keys = { identities: [fx.identity] }) {
      const copyDir = await mkdtemp(path.join(tmpdir(), 'lifeboat-tamper-'));
      const copy = path.join(copyDir, manifestKeyId);
      await mkdir(path.dirname(copy), { recursive: true });
      await pipeline(createReadStream(archive), createWriteStream(copy));
      await mutate(copy);
      return readBackIn(copyDir, { sha256, sizeBytes }, keys);
    }

    it('passes on the untouched archive', async () => {
      expect(await check(async () => undefined)).toBeUndefined();
    });

    it('fails naming the chunk when one byte of the payload is flipped', async () => {
      const error = await check(async (file) => {
        const handle = await open(file, 'r+');
        const at = Math.floor(sizeBytes / 2);
        const byte = Buffer.alloc(1);
        await handle.read(byte, 0, 1, at);
        byte[0] = byte[0]! ^ 0x01;
        await handle.write(byte, 0, 1, at);
        await handle.close();
      });
      expect(isLifeboatError(error, 'integrity')).toBe(true);
      expect(error!.message).toMatch(/chunk|authenticat/i);
    });

    it('fails saying the archive ends early when it is truncated', async () => {
      const error = await check((file) => truncate(file, Math.floor(sizeBytes * 0.6)));
      expect(isLifeboatError(error, 'integrity')).toBe(true);
      expect(error!.message).toMatch(/truncated|ends? early|final chunk/i);
    });

    /** The archive decrypted with the age CLI, changed, and encrypted again: age authenticates, the hash matches. */
    async function checkResealed(change: (compressed: Buffer) => Buffer) {
      const keyFile = path.join(fx.dir, 'reseal-key.txt');
      await writeFile(keyFile, `${fx.identity}\n`, { mode: 0o600 });
      const { stdout } = await run('age', ['-d', '-i', keyFile, archive], {
        encoding: 'buffer',
        maxBuffer: 1 << 30,
      });
      const copyDir = await mkdtemp(path.join(tmpdir(), 'lifeboat-reseal-'));
      const copy = path.join(copyDir, manifestKeyId);
      await mkdir(path.dirname(copy), { recursive: true });
      const plain = path.join(copyDir, 'changed.zst');
      await writeFile(plain, change(stdout));
      await run('age', ['-r', fx.recipient, '-o', copy, plain]);
      const bytes = await readFile(copy);
      return readBackIn(copyDir, {
        sha256: createHash('sha256').update(bytes).digest('hex'),
        sizeBytes: bytes.length,
      });
    }

    it('fails quoting zstd when the compressed stream was damaged before encryption', async () => {
      const error = await checkResealed((compressed) => {
        const damaged = Buffer.from(compressed);
        const at = Math.floor(damaged.length / 2);
        damaged[at] = damaged[at]! ^ 0xff;
        return damaged;
      });
      expect(isLifeboatError(error, 'integrity')).toBe(true);
      expect(error!.message).toMatch(
        /^zstd \(decompress\) exited with status \d+:[\s\S]*(corrupt|checksum|error)/i,
      );
    });

    it('fails naming pg_restore when the archive decompresses to something that is not a pg_dump archive', async () => {
      const { stdout } = await run('sh', ['-c', 'head -c 200000 /dev/urandom | zstd -q -c --check'], {
        encoding: 'buffer',
      });
      const error = await checkResealed(() => stdout);
      expect(isLifeboatError(error, 'integrity')).toBe(true);
      expect(error!.message).toMatch(/pg_restore .* --list exited with status/);
      expect((error as { hint?: string }).hint).toMatch(/not a pg_dump custom-format archive/);
    });

    it('fails saying no identity matches when the key is wrong', async () => {
      const { generateIdentity } = await import('../../src/archive/age/index.js');
      const error = await check(async () => undefined, { identities: [generateIdentity().identity] });
      expect(isLifeboatError(error, 'crypto')).toBe(true);
      expect(error!.message).toMatch(/no identity|does not match|wrong/i);
    });
  });

  it('never shows the database password, even when the password is wrong', async () => {
    const wrong = cluster.url({ database: 'app', password: `${cluster.password}-nope` });
    const backup = await runLifeboat(
      { mode: 'backup', 'database-url': wrong, store: fx.dir, 'encryption-recipient': fx.recipient },
      { store: fx.store },
    );
    expect(isLifeboatError(backup.error, 'auth')).toBe(true);
    expectNoSecrets(backup, [cluster.password]);
  });

  it('says while it waits for a lock who holds it, then gives up naming the lock', async () => {
    const lock = await holdLock(cluster, 'app', 'public.workspaces');
    process.env.LIFEBOAT_LOCK_WAIT_TIMEOUT_MS = '5000';
    try {
      const backup = await runLifeboat(
        { mode: 'backup', 'database-url': appUrl, store: fx.dir, 'encryption-recipient': fx.recipient },
        { store: fx.store },
      );
      expect(isLifeboatError(backup.error, 'lock')).toBe(true);
      expect(backup.log.text()).toMatch(/progress: The backup is waiting for a lock held by pid \d+/);
    } finally {
      delete process.env.LIFEBOAT_LOCK_WAIT_TIMEOUT_MS;
      await lock.release();
    }
  });

  it('refuses a role that row-level security would hide rows from, before dumping anything', async () => {
    await cluster.createRole('limited', { password: 'limited-pass-123' });
    await cluster.exec(
      'GRANT USAGE ON SCHEMA public, auth TO limited; GRANT SELECT ON ALL TABLES IN SCHEMA public TO limited;',
      'app',
    );
    const url = cluster.url({ database: 'app', user: 'limited', password: 'limited-pass-123' });
    const backup = await runLifeboat(
      {
        mode: 'backup',
        'database-url': url,
        store: fx.dir,
        'encryption-recipient': fx.recipient,
        name: 'rls',
      },
      { store: fx.store },
    );
    expect(isLifeboatError(backup.error, 'permission')).toBe(true);
    expect((backup.error as Error).message).toMatch(/row-level security.*public\.workspaces/);
    expect((backup.error as { hint: string }).hint).toMatch(/BYPASSRLS/);
    expect(await readdir(path.join(fx.dir, 'rls')).catch(() => [])).toEqual([]);
  });

  it('fails, keeps nothing and quotes pg_dump when pg_dump dies mid-stream', async () => {
    const bin = await mkdtemp(path.join(tmpdir(), 'lifeboat-bin-'));
    const real = (await createToolFinder().candidates('pg_dump'))[0]!.path;
    // A pg_dump that streams real output for a while, then is killed.
    await writeFile(
      path.join(bin, 'pg_dump'),
      `#!/bin/bash\nif [ "$1" = --version ]; then exec "${real}" --version; fi\necho "simulated crash after partial output" >&2\n"${real}" "$@" | head -c 20000\nkill -9 $$\n`,
    );
    await chmod(path.join(bin, 'pg_dump'), 0o755);
    const backup = await runLifeboat(
      {
        mode: 'backup',
        'database-url': appUrl,
        store: fx.dir,
        'encryption-recipient': fx.recipient,
        name: 'killed',
        'pg-bin-dir': bin,
      },
      { store: fx.store },
    );
    await rm(bin, { recursive: true, force: true });
    expect(isLifeboatError(backup.error, 'dump')).toBe(true);
    expect((backup.error as Error).message).toMatch(/killed by SIGKILL[\s\S]*simulated crash/);
    expect(await readdir(path.join(fx.dir, 'killed')).catch(() => [])).toEqual([]);
    expect(backup.outputs.verified).toBeUndefined();
  });

  it.skipIf(!newer)(
    `names the server version and the pg_dump versions found when none is new enough (server ${newer?.major ?? 'newer than the client: none here'}, pg_dump ${client.major})`,
    async () => {
      const server = await startCluster({ major: newer!.major });
      try {
        const url = await server.createDatabase('app');
        const backup = await runLifeboat(
          {
            mode: 'backup',
            'database-url': url,
            store: fx.dir,
            'encryption-recipient': fx.recipient,
            name: 'newer',
          },
          { store: fx.store },
        );
        expect(isLifeboatError(backup.error, 'tools')).toBe(true);
        expect((backup.error as Error).message).toMatch(
          new RegExp(`PostgreSQL ${server.major}\\.\\d+.*Found: .*${client.major}\\.\\d+`),
        );
        expect((backup.error as { hint: string }).hint).toContain(`postgresql-client-${server.major}`);
        expectNoSecrets(backup, [server.password]);
      } finally {
        await server.stop();
      }
    },
  );

  it.each([
    [
      'an unreachable host',
      () => 'postgresql://postgres:s3cret-pw@127.0.0.1:1/app',
      'connection',
      /Cannot connect to 127\.0\.0\.1:1\/app/,
    ],
    [
      'an IPv6-only host without an IPv6 route',
      () => 'postgresql://postgres:s3cret-pw@[2001:db8::1]:5432/app?connect_timeout=3',
      'ipv6',
      /IPv6/,
    ],
    [
      'a transaction-mode pooler',
      () => 'postgresql://postgres.ref:s3cret-pw@aws-0-eu.pooler.supabase.com:6543/postgres',
      'pooler',
      /transaction-mode pooler/,
    ],
  ])(
    'fails clearly on %s, pointing at the session pooler where it helps',
    async (_what, url, code, message) => {
      const backup = await runLifeboat(
        {
          mode: 'backup',
          'database-url': url(),
          store: fx.dir,
          'encryption-recipient': fx.recipient,
          name: 'net',
        },
        { store: fx.store },
      );
      expect(isLifeboatError(backup.error, code as never)).toBe(true);
      expect((backup.error as Error).message).toMatch(message);
      if (code !== 'connection') expect((backup.error as { hint: string }).hint).toMatch(/session pooler/);
      expectNoSecrets(backup, ['s3cret-pw']);
    },
  );

  it('fails before dumping when the store cannot be written', async () => {
    const file = path.join(fx.dir, 'not-a-directory');
    await writeFile(file, 'x');
    const store = new LocalStore(path.join(file, 'backups'));
    const backup = await runLifeboat(
      { mode: 'backup', 'database-url': appUrl, store: store.root, 'encryption-recipient': fx.recipient },
      { store: store },
    );
    expect(isLifeboatError(backup.error, 'store')).toBe(true);
    expect((backup.error as Error).message).toMatch(/not writable/);
  });

  it('refuses to run without an encryption key, explaining why for the actions cache', async () => {
    const backup = await runLifeboat(
      { mode: 'backup', 'database-url': appUrl, store: 'actions-cache' },
      { store: fx.store },
    );
    expect(isLifeboatError(backup.error, 'input')).toBe(true);
    expect((backup.error as Error).message).toMatch(/encryption-recipient[\s\S]*forks/);
  });
});
