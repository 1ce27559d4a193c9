import { describe, expect, it } from 'vitest';
import { backupIdTime, isBackupId, newBackupId } from '../../src/archive/backup-id.js';
import { formatBytes, formatDuration, parseDuration } from '../../src/duration.js';
import { levelAtLeast } from '../../src/archive/manifest.js';
import {
  describeTarget,
  isTransactionPooler,
  libpqEnv,
  parseConnectionUrl,
} from '../../src/postgres/connection.js';
import { parseToolVersion } from '../../src/postgres/tools.js';
import { planRetention } from '../../src/backup/retention.js';
import { parseRetention } from '../../src/settings/keep.js';
import { SecretMask } from '../../src/log.js';
import { LIFEBOAT_VERSION } from '../../src/version.js';
import pkg from '../../package.json' with { type: 'json' };

describe('durations', () => {
  it.each([
    ['90m', 5400],
    ['6h', 21600],
    ['7d', 604800],
    ['1h30m', 5400],
    ['45s', 45],
  ])('parses %s', (text, seconds) => expect(parseDuration(text, 'max-age')).toBe(seconds));

  it.each(['', '10', 'h', '5 years', '-1h', '0m'])('rejects %j naming the input', (text) => {
    expect(() => parseDuration(text, 'max-age')).toThrow(/max-age/);
  });

  it('formats durations and sizes for people', () => {
    expect(formatDuration(3725)).toBe('1h 2m 5s');
    expect(formatDuration(42)).toBe('42s');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    // A rate under 1 KiB/s is a fraction of bytes: rounded, never 36.74855202716198 B.
    expect(formatBytes(36.74855202716198)).toBe('37 B');
  });
});

describe('backup ids', () => {
  it('sort by time, never collide within a millisecond, and carry their time', () => {
    const at = new Date('2026-11-24T00:03:12.345Z');
    const ids = Array.from({ length: 1000 }, () => newBackupId(at));
    expect(new Set(ids).size).toBe(1000);
    expect(ids[0]).toMatch(/^20261124_000312_345_[0-9a-f]{8}$/);
    expect(isBackupId(ids[0]!)).toBe(true);
    expect(backupIdTime(ids[0]!)?.toISOString()).toBe(at.toISOString());
    expect(newBackupId(new Date('2026-11-24T00:03:12.346Z')) > ids[0]!).toBe(true);
  });
});

describe('connection strings', () => {
  it('parse percent-encoded passwords and keep them out of the description', () => {
    const target = parseConnectionUrl(
      'postgresql://postgres.ref:p%40ss%3Aw@aws-0-eu.pooler.supabase.com:5432/postgres?sslmode=require',
      'database-url',
    );
    expect(target).toMatchObject({
      user: 'postgres.ref',
      password: 'p@ss:w',
      port: 5432,
      params: { sslmode: 'require' },
    });
    expect(describeTarget(target)).toBe('aws-0-eu.pooler.supabase.com:5432/postgres');
    expect(isTransactionPooler(target)).toBe(false);
    expect(isTransactionPooler({ ...target, port: 6543 })).toBe(true);
  });

  it('hand child processes the password through the environment, dropping stray PG variables', () => {
    const env = libpqEnv(parseConnectionUrl('postgresql://u:secret@h:5433/d', 'x'), {
      PGSERVICE: 'other',
      PATH: '/bin',
    });
    expect(env).toMatchObject({
      PGHOST: 'h',
      PGPORT: '5433',
      PGUSER: 'u',
      PGPASSWORD: 'secret',
      PGDATABASE: 'd',
      PATH: '/bin',
    });
    expect(env.PGSERVICE).toBeUndefined();
  });
});

describe('tool versions', () => {
  it('reads the major version from --version output', () => {
    expect(parseToolVersion('pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)')).toEqual({
      major: 15,
      version: '15.18',
    });
    expect(parseToolVersion('pg_restore (PostgreSQL) 17.2')).toEqual({ major: 17, version: '17.2' });
    expect(parseToolVersion('nonsense')).toBeUndefined();
  });
});

describe('retention', () => {
  const day = 86_400_000;
  const now = new Date('2026-11-24T00:00:00Z');
  const backups = [0, 1, 2, 3, 4].map((d) => ({
    backupId: newBackupId(new Date(now.getTime() - d * day)),
    createdAt: new Date(now.getTime() - d * day),
    verified: d !== 0,
  }));

  it('keeps the newest N by count', () => {
    expect(planRetention(backups, parseRetention('2'), backups[0]!.backupId, now)).toEqual(
      backups.slice(2).map((b) => b.backupId),
    );
  });

  it('keeps backups younger than an age, and always the newest verified one', () => {
    expect(planRetention(backups, parseRetention('36h'), backups[0]!.backupId, now)).toEqual(
      backups.slice(2).map((b) => b.backupId),
    );
    expect(planRetention(backups, parseRetention('1h'), backups[0]!.backupId, now)).toEqual(
      backups.slice(2).map((b) => b.backupId),
    );
  });

  it('deletes nothing when the backup just taken is not among them (it failed)', () => {
    expect(planRetention(backups, parseRetention('1'), 'not-there', now)).toEqual([]);
  });

  it('rejects keeping zero', () => expect(() => parseRetention('0')).toThrow(/at least one/));
  it('rejects an age of zero as too short, not as a bad value', () => {
    expect(() => parseRetention('0d')).toThrow(/`keep` must be longer than zero: "0d"/);
    expect(() => parseRetention('0h0m')).toThrow(/must be longer than zero/);
  });
});

describe('verification levels', () => {
  it('rank stored < readable < restored', () => {
    expect(levelAtLeast('readable', 'stored')).toBe(true);
    expect(levelAtLeast('stored', 'readable')).toBe(false);
    expect(levelAtLeast('restored', 'readable')).toBe(true);
  });
});

describe('secret masking', () => {
  it('masks raw and URL-encoded forms, longest first', () => {
    const mask = new SecretMask();
    mask.add('p@ss');
    mask.add('postgresql://u:p%40ss@h/d');
    expect(mask.mask('url postgresql://u:p%40ss@h/d and p@ss and p%40ss')).toBe('url *** and *** and ***');
  });
});

it('reports the same version as package.json', () => {
  expect(LIFEBOAT_VERSION).toBe(pkg.version);
});
