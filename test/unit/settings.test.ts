import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateIdentity } from '../../src/archive/age/index.js';
import { parseSettings, type InputReader } from '../../src/settings/settings.js';
import { isLifeboatError } from '../../src/errors.js';

const { identity, recipient } = generateIdentity();
const reader =
  (inputs: Record<string, string>): InputReader =>
  (name) =>
    inputs[name] ?? '';

function parse(inputs: Record<string, string>) {
  const secrets: string[] = [];
  const settings = parseSettings(reader(inputs), (s) => secrets.push(s));
  return { settings, secrets };
}

function failure(inputs: Record<string, string>) {
  try {
    parse(inputs);
  } catch (error) {
    if (isLifeboatError(error)) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

const caFile = path.join(import.meta.dirname, '..', 'fixtures', 'tls', 'ca.pem');
const caText = readFileSync(caFile, 'utf8');

describe('settings', () => {
  it('applies database-ca to every connection, as text or a file, and makes verify-full the default', () => {
    const drill = parse({
      mode: 'drill',
      'target-url': 'postgresql://postgres:pw@localhost:5432/postgres',
      'encryption-identity': identity,
      'database-ca': caText,
    }).settings;
    expect(drill).toMatchObject({
      databaseCa: caText,
      target: { ca: caText, params: { sslmode: 'verify-full' } },
    });
    const gate = parse({
      mode: 'gate',
      'database-url': 'postgresql://u:pw@db/app?sslmode=verify-ca',
      'database-ca': caFile,
    }).settings;
    expect(gate).toMatchObject({ database: { ca: caText, params: { sslmode: 'verify-ca' } } });
    expect(failure({ mode: 'gate', 'database-ca': 'hello' }).message).toMatch(
      /`database-ca` is neither a PEM certificate nor the path of a readable file/,
    );
  });

  it('parses a backup with defaults and registers the URL and its password as secrets', () => {
    const { settings, secrets } = parse({
      mode: 'backup',
      'database-url': 'postgresql://postgres:p%40ss@db.example.com:5432/app',
      'encryption-recipient': recipient,
    });
    expect(settings).toMatchObject({ mode: 'backup', name: 'production', store: { kind: 'actions-cache' } });
    expect(secrets).toContain('p@ss');
    expect(secrets).toContain('postgresql://postgres:p%40ss@db.example.com:5432/app');
  });

  it.each([
    [{ mode: 'bogus' }, /`mode` is "bogus"; accepted values: `backup`, `gate`, `drill`, `restore`/],
    [{ mode: '' }, /`mode` is empty/],
    [{ mode: 'gate', 'max-age': 'soon' }, /`max-age` is not a duration/],
    [
      { mode: 'gate', require: 'perfect' },
      /`require` is "perfect"; accepted values: `stored`, `readable`, `restored`/,
    ],
    [
      { mode: 'gate', 'fail-on-stale': 'maybe' },
      /`fail-on-stale` is "maybe"; accepted values: `true`, `false`/,
    ],
    [{ mode: 'gate', store: 'ftp://x' }, /`store` is "ftp:\/\/x"/],
    [
      { mode: 'gate', store: 'file://backups' },
      /`store` is "file:\/\/backups", a file:\/\/ URL without an absolute path/,
    ],
    [{ mode: 'gate', name: '../etc' }, /`name` is "..\/etc"/],
    [{ mode: 'backup', 'encryption-recipient': recipient }, /`database-url` is required/],
    [
      { mode: 'backup', 'database-url': 'mysql://x@y/z', 'encryption-recipient': recipient },
      /`database-url` is not a usable PostgreSQL URL/,
    ],
    [
      { mode: 'backup', 'database-url': 'postgresql://u:p@h/d', 'encryption-recipient': 'age1nope' },
      /encryption-recipient/,
    ],
    [
      {
        mode: 'backup',
        'database-url': 'postgresql://u:p@h/d',
        keep: 'forever',
        'encryption-recipient': recipient,
      },
      /`keep` is "forever"/,
    ],
    [{ mode: 'drill', 'target-url': 'postgresql://u:p@h/d' }, /`drill` needs `encryption-identity`/],
    [
      {
        mode: 'drill',
        'target-url': 'postgresql://u:p@h/d',
        'encryption-identity': identity,
        'backup-id': 'yesterday',
      },
      /`backup-id` is "yesterday"/,
    ],
    [
      {
        mode: 'drill',
        'target-url': 'postgresql://u:p@h/d',
        'encryption-identity': identity,
        profile: 'mysql',
      },
      /`profile` is "mysql"/,
    ],
    [
      {
        mode: 'restore',
        'target-url': 'postgresql://u:p@h/d',
        'encryption-identity': identity,
        tables: 'a.b.c',
      },
      /`tables` has "a.b.c"/,
    ],
  ])('rejects bad input %j with a message naming the input and the accepted values', (inputs, message) => {
    const error = failure(inputs);
    expect(['input', 'key']).toContain(error.code);
    expect(error.message).toMatch(message);
  });

  it('never echoes a malformed secret key in the error', () => {
    const error = failure({
      mode: 'drill',
      'target-url': 'postgresql://u:p@h/d',
      'encryption-identity': 'AGE-SECRET-KEY-1NOTAKEY',
    });
    expect(`${error.message} ${error.hint}`).not.toContain('AGE-SECRET-KEY-1NOTAKEY');
  });

  it('derives the recipient from an identity so a backup with only an identity works', () => {
    const { settings } = parse({
      mode: 'backup',
      'database-url': 'postgresql://u:p@h/d',
      'encryption-identity': identity,
    });
    expect(settings.keys.recipients).toEqual([recipient]);
  });

  it('refuses a mask key shorter than 16 characters without showing it', () => {
    expect(() =>
      parse({
        mode: 'refresh',
        'target-url': 'postgresql://postgres:pw@localhost:5432/staging',
        'encryption-identity': identity,
        'mask-key': 'tiny-secret',
      }),
    ).toThrow(/^(?!.*tiny-secret).*`mask-key` is 11 characters long; accepted values: at least 16/);
  });

  it('parses a refresh: the rules file (default or given), the mask key as a secret, an identity required', () => {
    const target = 'postgresql://postgres:pw@localhost:5432/staging';
    const { settings, secrets } = parse({
      mode: 'refresh',
      'target-url': target,
      'encryption-identity': identity,
      'mask-key': 'the mask key, long enough',
    });
    expect(settings).toMatchObject({
      mode: 'refresh',
      maskConfig: '.github/lifeboat-mask.yml',
      maskConfigGiven: false,
      maskKey: 'the mask key, long enough',
      dryRun: false,
      backupId: 'latest',
    });
    expect(secrets).toContain('the mask key, long enough');
    const given = parse({
      mode: 'refresh',
      'target-url': target,
      'encryption-identity': identity,
      'mask-config': 'mask.yml',
    });
    expect(given.settings).toMatchObject({ maskConfig: 'mask.yml', maskConfigGiven: true });
    expect(failure({ mode: 'refresh', 'target-url': target }).message).toMatch(
      /Mode `refresh` needs `encryption-identity`/,
    );
    expect(failure({ mode: 'refresh', 'encryption-identity': identity }).message).toMatch(
      /`target-url` is required/,
    );
  });

  it('parses gate durations, restore tables and store kinds', () => {
    const gate = parse({ mode: 'gate', 'max-age': '90m', store: 's3://bucket/prefix' }).settings;
    expect(gate).toMatchObject({
      maxAgeSeconds: 5400,
      require: 'readable',
      failOnStale: true,
      store: { kind: 's3' },
    });
    const restore = parse({
      mode: 'restore',
      'target-url': 'postgresql://u:p@h/d',
      'encryption-identity': identity,
      tables: 'public.workspaces, "Mixed Case"."weird ""quoted"" name", clips',
      store: './backups',
    }).settings;
    expect(restore).toMatchObject({
      tables: [
        { schema: 'public', name: 'workspaces' },
        { schema: 'Mixed Case', name: 'weird "quoted" name' },
        { schema: 'public', name: 'clips' },
      ],
      store: { kind: 'local', path: './backups' },
    });
  });

  it('records content fingerprints only when verify-content asks for them', () => {
    const base = {
      mode: 'backup',
      'database-url': 'postgresql://u:p@h/d',
      'encryption-recipient': recipient,
    };
    expect(parse(base).settings).toMatchObject({ fingerprints: false });
    expect(parse({ ...base, 'verify-content': 'true' }).settings).toMatchObject({ fingerprints: true });
    expect(failure({ ...base, 'verify-content': 'always' }).message).toMatch(/`verify-content` is "always"/);
  });

  it('refuses a passphrase combined with age keys', () => {
    expect(
      failure({
        mode: 'backup',
        'database-url': 'postgresql://u:p@h/d',
        'encryption-recipient': recipient,
        'encryption-passphrase': 'pw-pw-pw',
      }).message,
    ).toMatch(/cannot be combined/);
  });
});

describe('Storage settings', () => {
  const backup = {
    mode: 'backup',
    'database-url': 'postgresql://postgres:pw@localhost:5432/postgres',
    'encryption-recipient': recipient,
    store: './backups',
  };
  const restore = {
    mode: 'restore',
    'target-url': 'postgresql://postgres:pw@localhost:5432/postgres',
    'encryption-identity': identity,
    store: './backups',
  };

  it('reads the endpoint, the region (default us-east-1) and the buckets; none without storage-url', () => {
    const on = parse({
      ...backup,
      'storage-url': 'https://abc.supabase.co/storage/v1/s3',
      'storage-buckets': 'avatars, docs,avatars',
    });
    expect(on.settings).toMatchObject({ storage: { region: 'us-east-1', buckets: ['avatars', 'docs'] } });
    expect(on.settings.mode === 'backup' && on.settings.storage?.endpoint.host).toBe('abc.supabase.co');
    expect(parse(backup).settings).toMatchObject({ storage: undefined });
  });

  it('refuses an endpoint carrying credentials without echoing them', () => {
    const error = failure({ ...backup, 'storage-url': 'https://key:s3cr3t@abc.supabase.co/storage/v1/s3' });
    expect(error.message).toBe('Input `storage-url` must not carry credentials.');
    expect(error.hint).toContain('LIFEBOAT_STORAGE_SECRET_ACCESS_KEY');
  });

  it('needs storage-url for restore-storage, and refuses restore-storage with tables', () => {
    expect(failure({ ...restore, 'restore-storage': 'true' }).message).toMatch(
      /`restore-storage` is true, but `storage-url` is not set/,
    );
    const both = failure({
      ...restore,
      'restore-storage': 'true',
      'storage-url': 'http://localhost:9000',
      tables: 'public.a',
    });
    expect(both.message).toMatch(/`restore-storage` and `tables` cannot be combined/);
    const ok = parse({
      ...restore,
      'restore-storage': 'true',
      'storage-url': 'http://localhost:9000',
      'storage-prefix': 'u1/',
    });
    expect(ok.settings).toMatchObject({
      restoreStorage: true,
      storagePrefix: 'u1/',
      storageDeleteExtra: false,
    });
  });
});
