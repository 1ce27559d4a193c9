import { describe, expect, it } from 'vitest';
import { urlHasPassword } from '../../src/cli/args.js';
import { libpqEnv, parseConnectionUrl } from '../../src/postgres/connection.js';
import { childEnv } from '../../src/process.js';

const runner = {
  PATH: '/usr/bin:/bin',
  HOME: '/home/runner',
  TMPDIR: '/tmp',
  LANG: 'C.UTF-8',
  LC_ALL: 'C',
  TZ: 'UTC',
  'INPUT_ENCRYPTION-IDENTITY': 'AGE-SECRET-KEY-1…',
  'INPUT_DATABASE-URL': 'postgresql://u:secret@h/d',
  LIFEBOAT_IDENTITY: 'AGE-SECRET-KEY-1…',
  AWS_SECRET_ACCESS_KEY: 'aws',
  GITHUB_TOKEN: 'ghs_x',
  ACTIONS_RUNTIME_TOKEN: 'rt',
  NODE_OPTIONS: '--require /tmp/evil.js',
  PGSERVICE: 'elsewhere',
  PGPASSFILE: '/tmp/other-pgpass',
};

describe('the environment of a child process', () => {
  it('keeps PATH, locale, temp dir and HOME, and nothing else of the runner', () => {
    expect(childEnv({}, runner)).toEqual({
      PATH: '/usr/bin:/bin',
      HOME: '/home/runner',
      TMPDIR: '/tmp',
      LANG: 'C.UTF-8',
      LC_ALL: 'C',
      TZ: 'UTC',
    });
  });

  it('adds the PG* of the one connection, and only those', () => {
    const env = libpqEnv(parseConnectionUrl('postgresql://u:secret@h:5433/d?sslmode=require', 'x'), runner);
    expect(env).toEqual({
      PATH: '/usr/bin:/bin',
      HOME: '/home/runner',
      TMPDIR: '/tmp',
      LANG: 'C.UTF-8',
      LC_ALL: 'C',
      TZ: 'UTC',
      PGHOST: 'h',
      PGPORT: '5433',
      PGDATABASE: 'd',
      PGUSER: 'u',
      PGPASSWORD: 'secret',
      PGAPPNAME: 'lifeboat',
      PGCONNECT_TIMEOUT: '15',
      PGSSLMODE: 'require',
    });
    expect(childEnv({ ...env, GITHUB_TOKEN: 'leaked by a caller' }, runner).GITHUB_TOKEN).toBeUndefined();
  });

  it("passes libpq's PGPASSWORD on for a URL without a password", () => {
    const env = libpqEnv(parseConnectionUrl('postgresql://u@h/d', 'x'), {
      ...runner,
      PGPASSWORD: 'from-env',
    });
    expect(env.PGPASSWORD).toBe('from-env');
  });
});

describe('a password in a URL on the command line', () => {
  it('is seen in the user part, percent-encoded or not, and as a query parameter', () => {
    expect(urlHasPassword('postgresql://postgres:hunter2@db/app')).toBe(true);
    expect(urlHasPassword('postgres://postgres:p%40ss@db:5432/app?sslmode=require')).toBe(true);
    expect(urlHasPassword('postgresql://db/app?user=postgres&password=hunter2')).toBe(true);
    expect(urlHasPassword('postgresql://postgres:p@ss:w/rd@db/app')).toBe(true);
    expect(urlHasPassword('host=db user=postgres password=hunter2')).toBe(true);
    expect(urlHasPassword('postgresql://postgres@db/app')).toBe(false);
    expect(urlHasPassword('postgresql://postgres:@db/app')).toBe(false);
  });
});
