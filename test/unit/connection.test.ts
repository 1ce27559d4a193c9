import { describe, expect, it } from 'vitest';
import {
  describeTarget,
  isTransactionPooler,
  libpqEnv,
  parseConnectionUrl,
} from '../../src/postgres/connection.js';

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
