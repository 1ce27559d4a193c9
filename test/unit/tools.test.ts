import { describe, expect, it } from 'vitest';
import { parseToolVersion } from '../../src/postgres/tools.js';

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
