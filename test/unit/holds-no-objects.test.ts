import { describe, expect, it } from 'vitest';
import { holdsNoObjects } from '../../src/postgres/catalog.js';

const nothing = {
  schemas: ['public'],
  tables: [],
  views: [],
  functions: [],
  sequences: [],
  largeObjects: 0,
  extensions: [{ name: 'plpgsql', version: '1.0', schema: 'pg_catalog' }],
};

describe('holdsNoObjects', () => {
  it('is true only for a database with the public schema and plpgsql and nothing else', () => {
    expect(holdsNoObjects(nothing)).toBe(true);
    expect(holdsNoObjects({ ...nothing, schemas: [] })).toBe(true);
    expect(holdsNoObjects({ ...nothing, schemas: ['public', 'app'] })).toBe(false);
    expect(holdsNoObjects({ ...nothing, largeObjects: 1 })).toBe(false);
    expect(
      holdsNoObjects({ ...nothing, extensions: [{ name: 'citext', version: '1.6', schema: 'public' }] }),
    ).toBe(false);
    expect(
      holdsNoObjects({
        ...nothing,
        sequences: [{ schema: 'public', name: 's', lastValue: '1', isCalled: true, ownedBy: null }],
      }),
    ).toBe(false);
  });
});
