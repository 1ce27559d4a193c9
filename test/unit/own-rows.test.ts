import { describe, expect, it } from 'vitest';
import type { ArchiveEntry } from '../../src/postgres/archive-toc.js';
import { ownRows } from '../../src/restore/own-rows.js';

const entry = (id: number, desc: string, tag: string, deps: number[] = []): ArchiveEntry => ({
  id,
  oid: String(1000 + id),
  desc,
  namespace: 'public',
  tag,
  owner: 'postgres',
  section: 2,
  deps: [1, ...deps],
  copyStmt: null,
});

// vehicles ← cars, trucks; amphibious inherits from both cars and trucks (count(*) reads it once).
const schema = entry(1, 'SCHEMA', 'public');
const vehicles = entry(2, 'TABLE', 'vehicles');
const cars = entry(3, 'TABLE', 'cars', [2]);
const trucks = entry(4, 'TABLE', 'trucks', [2]);
const amphibious = entry(5, 'TABLE', 'amphibious', [3, 4]);
const plain = entry(6, 'TABLE', 'plain');
const entries = [schema, vehicles, cars, trucks, amphibious, plain];
// count(*) of each: own rows 1, 2, 1, 1, and 7 for the plain table.
const counts = { vehicles: 5, cars: 3, trucks: 2, amphibious: 1, plain: 7 };
const catalog = {
  tables: Object.entries(counts).map(([name, rows]) => ({
    schema: 'public',
    name,
    kind: 'r' as const,
    rows,
    rlsEnabled: false,
    rlsForced: false,
    owner: 'postgres',
  })),
};

describe('ownRows', () => {
  it("subtracts every descendant's own rows once, a diamond included", () => {
    expect(ownRows(entries, catalog, vehicles)).toBe(1);
    expect(ownRows(entries, catalog, cars)).toBe(2);
    expect(ownRows(entries, catalog, trucks)).toBe(1);
  });

  it('says nothing of a table without children: its count is its own', () => {
    expect(ownRows(entries, catalog, amphibious)).toBeUndefined();
    expect(ownRows(entries, catalog, plain)).toBeUndefined();
  });

  it('does not know when a descendant was not counted (a foreign table), or when the counts disagree', () => {
    const remote = entry(7, 'FOREIGN TABLE', 'remote_cars', [3]);
    expect(ownRows([...entries, remote], catalog, vehicles)).toBeNull();
    const off = { tables: catalog.tables.map((t) => (t.name === 'vehicles' ? { ...t, rows: 2 } : t)) };
    expect(ownRows(entries, off, vehicles)).toBeNull();
  });
});
