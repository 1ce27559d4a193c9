import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { floorOf, measure } from '../../scripts/import-graph.js';

// The layout of DESIGN.md, kept true: features on top, capabilities below, nothing
// importing upward or into another feature's internals, no loops, short files, and a file
// name that says where it lives.
const report = measure(path.resolve(import.meta.dirname, '../../src'));
const edges = (list: { from: string; to: string }[]) => list.map((e) => `${e.from} -> ${e.to}`);

describe('the import graph of src/', () => {
  it('places entries, features and capabilities on their floors', () => {
    expect(floorOf('run.ts')).toBe('entry');
    expect(floorOf('cli/program.ts')).toBe('entry');
    expect(floorOf('backup/index.ts')).toBe('feature');
    expect(floorOf('postgres/toc.ts')).toBe('capability');
    expect(floorOf('errors.ts')).toBe('capability');
  });

  it('has no import from a capability up into a feature or an entry', () => {
    expect(edges(report.upward)).toEqual([]);
  });

  it('has no import reaching into a feature past its index.ts', () => {
    expect(edges(report.crossFeature)).toEqual([]);
  });

  it('has no import loop', () => {
    expect(report.loops).toEqual([]);
  });

  it('has no file over 300 lines', () => {
    expect(report.long).toEqual([]);
  });

  it('has no file name in two folders (index.ts aside)', () => {
    expect(report.duplicateNames).toEqual([]);
  });

  it('reads GITHUB_*, RUNNER_* and LIFEBOAT_* in settings/environment.ts only', () => {
    expect(report.envReads).toEqual([]);
  });

  it('leaves the benchmarks free of test helpers (what they share with tests lives in scripts/)', () => {
    const bench = path.resolve(import.meta.dirname, '../../bench');
    const importing = readdirSync(bench)
      .filter((file) => file.endsWith('.ts'))
      .filter((file) => /from '\.\.\/test\//.test(readFileSync(path.join(bench, file), 'utf8')));
    expect(importing).toEqual([]);
  });
});
