import { stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LifeboatError } from '../../src/errors.js';
import { removeCaFiles } from '../../src/postgres/ca-file.js';
import { connectClient } from '../../src/postgres/client.js';
import { libpqEnv, parseConnectionUrl, type PgTarget } from '../../src/postgres/connection.js';
import { openClient } from '../../src/postgres/session.js';
import { backupFixture, type BackupFixture } from '../helpers/world.js';
import { run } from '../helpers/cluster-binaries.js';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { createTestCa, type TestCa } from '../helpers/test-ca.js';
import { expectNoSecrets, runLifeboat } from '../helpers/lifeboat.js';

/**
 * TLS as libpq does it, against real servers with certificates from a CA made here: one
 * server whose certificate names localhost and 127.0.0.1, one whose certificate names
 * another host. Lifeboat's own connections and the tools must agree on every verdict.
 */
let ca: TestCa;
let other: TestCa;
let server: Cluster;
let misnamed: Cluster;
let fx: BackupFixture;

beforeAll(async () => {
  [ca, other] = await Promise.all([createTestCa('right'), createTestCa('other')]);
  const [good, wrongName] = await Promise.all([
    ca.issue({ dns: ['localhost'], ips: ['127.0.0.1'] }),
    ca.issue({ dns: ['db.example.test'] }),
  ]);
  [server, misnamed] = await Promise.all([startCluster({ tls: good }), startCluster({ tls: wrongName })]);
  fx = await backupFixture();
});

afterAll(async () => {
  await Promise.all([server?.stop(), misnamed?.stop(), ca?.remove(), other?.remove(), fx?.cleanup()]);
  removeCaFiles();
});

function url(on: Cluster, params: string, host = '127.0.0.1'): string {
  return `${on.url().replace('@127.0.0.1:', `@${host}:`)}${params ? `?${params}` : ''}`;
}

function target(on: Cluster, params: string, options: { ca?: string; host?: string } = {}): PgTarget {
  return parseConnectionUrl(url(on, params, options.host), 'database-url', { ca: options.ca });
}

/** Whether the session runs over TLS, as the server sees it. */
async function usesTls(t: PgTarget): Promise<boolean> {
  const client = await connectClient(t);
  try {
    const { rows } = await client.query('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
    return (rows[0] as { ssl: boolean }).ssl;
  } finally {
    await client.end();
  }
}

async function connectError(t: PgTarget): Promise<LifeboatError> {
  const error = await openClient(t, 'database-url').then(
    ({ client }) => client.end().then(() => undefined),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LifeboatError);
  return error as LifeboatError;
}

/** psql with exactly the environment Lifeboat gives the tools for `t`. */
function psql(t: PgTarget): Promise<string> {
  return run(path.join(server.clientBinDir, 'psql'), ['-X', '-A', '-t', '-c', 'SELECT 1'], {
    env: libpqEnv(t),
  });
}

describe('TLS as libpq does it', () => {
  it('backs up with verify-full and the right CA in database-ca: client and pg_dump both verify', async () => {
    const backup = await runLifeboat(
      {
        mode: 'backup',
        'database-url': url(server, 'sslmode=verify-full'),
        'database-ca': ca.cert,
        'encryption-recipient': fx.recipient,
      },
      { store: fx.store },
    );
    expect(backup.error).toBeUndefined();
    expect(backup.manifest).toBeDefined();
    expectNoSecrets(backup, [server.password]);
    expect(await usesTls(target(server, 'sslmode=verify-full', { ca: ca.cert }))).toBe(true);
    // By name as well as by address: the certificate names both.
    expect(await usesTls(target(server, 'sslmode=verify-full', { ca: ca.cert, host: 'localhost' }))).toBe(
      true,
    );
  });

  it('hands the tools the CA as a private file, removed when the run ends', async () => {
    const t = target(server, '', { ca: ca.cert });
    const env = libpqEnv(t);
    expect(env.PGSSLMODE).toBe('verify-full'); // a CA given means: verify
    const file = env.PGSSLROOTCERT!;
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(file))).mode & 0o777).toBe(0o700);
    expect((await psql(t)).trim()).toBe('1');
    removeCaFiles();
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a server whose certificate another CA signed, before sending the password', async () => {
    const error = await connectError(target(server, 'sslmode=verify-full', { ca: other.cert }));
    expect(error.code).toBe('connection');
    expect(error.message).toMatch(/presented a certificate that `database-ca` does not vouch for/);
    expect(error.message).toContain('did not send the password');
    expect(error.hint).toMatch(/database-ca/);
    expectNoSecrets(`${error.message}${error.hint}`, [server.password]);
    // The tools refuse it as well.
    await expect(psql(target(server, 'sslmode=verify-full', { ca: other.cert }))).rejects.toThrow(
      /certificate verify failed/,
    );
    // A CA without sslmode means verify-full.
    expect((await connectError(target(server, '', { ca: other.cert }))).message).toMatch(/does not vouch/);
  });

  it('refuses a certificate for another host name under verify-full, and takes it under verify-ca', async () => {
    const error = await connectError(target(misnamed, 'sslmode=verify-full', { ca: ca.cert }));
    expect(error.code).toBe('connection');
    expect(error.message).toMatch(/certificate is not for host "127\.0\.0\.1"/);
    expect(error.hint).toMatch(/verify-ca/);
    await expect(psql(target(misnamed, 'sslmode=verify-full', { ca: ca.cert }))).rejects.toThrow(
      /does not match host name/,
    );
    // verify-ca checks the chain only, as libpq does.
    expect(await usesTls(target(misnamed, 'sslmode=verify-ca', { ca: ca.cert }))).toBe(true);
    expect((await psql(target(misnamed, 'sslmode=verify-ca', { ca: ca.cert }))).trim()).toBe('1');
  });

  it('encrypts without verifying under require and by default (prefer), as libpq does', async () => {
    expect(await usesTls(target(misnamed, 'sslmode=require'))).toBe(true);
    expect((await psql(target(misnamed, 'sslmode=require'))).trim()).toBe('1');
    expect(await usesTls(target(misnamed, ''))).toBe(true);
    expect(await usesTls(target(misnamed, 'sslmode=disable'))).toBe(false);
    const backup = await runLifeboat(
      {
        mode: 'backup',
        'database-url': url(misnamed, 'sslmode=require'),
        'encryption-recipient': fx.recipient,
      },
      { store: fx.store },
    );
    expect(backup.error).toBeUndefined();
  });

  it('says plainly when verify-full has no CA to check against', async () => {
    const error = await connectError(target(server, 'sslmode=verify-full'));
    expect(error.code).toBe('input');
    expect(error.message).toMatch(/sslmode=verify-full needs a root CA/);
    expect(error.hint).toMatch(/database-ca/);
  });
});
