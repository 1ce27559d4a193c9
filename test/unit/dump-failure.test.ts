import { describe, expect, it } from 'vitest';
import { LifeboatError, isLifeboatError } from '../../src/errors.js';
import { explainDumpFailure } from '../../src/postgres/pg-dump.js';

/** The server's error as the pg client hands it over: a message and a SQLSTATE. */
function serverError(message: string, code: string): Error {
  return Object.assign(new Error(message), {
    code,
    hint: 'You might need to increase max_locks_per_transaction.',
  });
}

describe('explainDumpFailure', () => {
  it('says the lock table is full, and how to grow it, when the catalog snapshot runs out of shared memory', () => {
    const error = explainDumpFailure(serverError('out of shared memory', '53200'));
    expect(isLifeboatError(error, 'lock')).toBe(true);
    expect((error as LifeboatError).message).toMatch(
      /lock table .*while reading the catalog: out of shared memory/,
    );
    expect((error as LifeboatError).hint).toMatch(/max_locks_per_transaction.*max_connections/);
  });

  it('says the same of pg_dump, whose error quotes the server', () => {
    const dump = new LifeboatError(
      'dump',
      'pg_dump failed (exit 1): pg_dump: error: query failed: ERROR:  out of shared memory\nHINT:  You might need to increase max_locks_per_transaction.',
    );
    const error = explainDumpFailure(dump);
    expect(isLifeboatError(error, 'lock')).toBe(true);
    expect((error as LifeboatError).message).toMatch(/during pg_dump: pg_dump failed/);
    expect((error as LifeboatError).hint).toMatch(/max_locks_per_transaction/);
  });

  it('leaves other failures as they were', () => {
    const other = serverError('out of memory', '53200');
    expect(explainDumpFailure(other)).toBe(other);
    const dump = new LifeboatError('dump', 'pg_dump failed (exit 1): pg_dump: error: connection lost');
    expect(explainDumpFailure(dump)).toBe(dump);
  });
});
