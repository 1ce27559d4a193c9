import { describe, expect, it } from 'vitest';
import { refuseProduction } from '../../src/refresh/guard.js';

describe('the production guard', () => {
  const source = {
    serverVersion: '15.8',
    serverMajor: 15,
    pgDumpVersion: '15.8',
    systemIdentifier: '74',
    database: 'postgres',
  };

  it('refuses the source database, and lets another database of the same server through', () => {
    expect(() => refuseProduction(source, { systemIdentifier: '74', database: 'postgres' }, 'db')).toThrow(
      /it is the database this backup was taken from/,
    );
    expect(() =>
      refuseProduction(source, { systemIdentifier: '74', database: 'staging' }, 'db'),
    ).not.toThrow();
    expect(() =>
      refuseProduction(source, { systemIdentifier: '75', database: 'postgres' }, 'db'),
    ).not.toThrow();
  });

  it('refuses when either side does not know its server', () => {
    const { systemIdentifier: _, ...old } = source;
    expect(() => refuseProduction(old, { systemIdentifier: '75', database: 'x' }, 'db')).toThrow(
      /does not record which server/,
    );
    expect(() => refuseProduction(source, { systemIdentifier: null, database: 'x' }, 'db')).toThrow(
      /pg_control_system/,
    );
  });
});
