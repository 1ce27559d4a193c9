import { describe, expect, it } from 'vitest';
import {
  formatVersionFor,
  storedArchives,
  totalDumpBytes,
  totalStoredBytes,
} from '../../src/archive/manifest.js';
import {
  dataPartArgs,
  exactTablePattern,
  mainPartArgs,
  MAX_TABLES_PER_PART,
  splitTables,
  type TableSize,
} from '../../src/postgres/dump-split.js';
import { pool } from '../../src/pool.js';
import { pgRestoreArgs } from '../../src/postgres/pg-restore.js';
import { parseDumpJobs } from '../../src/settings/values.js';
import { manualRestore } from '../../src/backup/backup-summary.js';
import { cleanRestoreRuns } from '../../src/restore/clean-restore.js';
import { partKey } from '../../src/archive/store-keys.js';
import { makeManifest } from '../helpers/manifest.js';

const t = (name: string, mb: number, schema = 'public'): TableSize => ({ schema, name, bytes: mb * 1e6 });

describe('sharing the rows out between parts', () => {
  it('gives the largest tables to the lightest part, the main part starting with what stays in it', () => {
    const split = splitTables([t('a', 100), t('b', 60), t('c', 50), t('d', 10), t('e', 5)], 40e6, 3);
    // a and b go to the empty parts; c to the main part (40); d and e to the lighter part of b.
    expect(split.parts.map((p) => p.map((x) => x.name))).toEqual([['a'], ['b', 'd', 'e']]);
    expect(split.bytes).toEqual([90e6, 100e6, 75e6]);
  });

  it('leaves out parts that get nothing, and is one part for one job', () => {
    expect(splitTables([t('a', 1)], 5e6, 4)).toEqual({ parts: [[t('a', 1)]], bytes: [5e6, 1e6] });
    expect(splitTables([t('a', 1), t('b', 1)], 0, 1)).toEqual({ parts: [], bytes: [2e6] });
    expect(splitTables([], 5, 3)).toEqual({ parts: [], bytes: [5] });
  });

  it('names at most MAX_TABLES_PER_PART tables per part, the largest; the rest stay in the main part', () => {
    const many = Array.from({ length: MAX_TABLES_PER_PART * 5 }, (_, i) => t(`t${i}`, 1000 - i));
    const split = splitTables(many, 0, 2);
    expect(split.parts).toHaveLength(1);
    expect(split.parts[0]!.length).toBeLessThanOrEqual(MAX_TABLES_PER_PART);
    expect(split.parts[0]!.every((x) => Number(x.name.slice(1)) < MAX_TABLES_PER_PART)).toBe(true);
    const total = many.reduce((n, x) => n + x.bytes, 0);
    expect(split.bytes[0]! + split.bytes[1]!).toBe(total);
  });

  it('matches each table exactly, whatever characters its name holds', () => {
    expect(exactTablePattern('Mixed Case', 'big "quoted".*name')).toBe('"Mixed Case"."big ""quoted"".*name"');
    const split = { parts: [[t('x', 1)], [t('y?', 1, 's.p')]], bytes: [] };
    expect(mainPartArgs(split)).toEqual([
      '--exclude-table-data="public"."x"',
      '--exclude-table-data="s.p"."y?"',
    ]);
    expect(dataPartArgs(split.parts[1]!)).toEqual(['--data-only', '--table="s.p"."y?"']);
  });
});

describe('dump-jobs', () => {
  it('takes 1 to 16, 1 when empty, and names the input otherwise', () => {
    expect(parseDumpJobs('', 'dump-jobs')).toBe(1);
    expect(parseDumpJobs('4', 'dump-jobs')).toBe(4);
    for (const bad of ['0', '17', '2.5', 'many', '-3', ' 3x']) {
      expect(() => parseDumpJobs(bad, 'dump-jobs')).toThrow(
        /`dump-jobs` is ".*"; accepted values: a whole number from 1 to 16\./,
      );
    }
  });
});

describe('a manifest with parts', () => {
  it('is format version 2, counts every part, and lists the main archive first', () => {
    const m = makeManifest();
    expect(formatVersionFor(m.archive)).toBe(1);
    const part = { ...m.archive, key: partKey(m.name, m.backupId, 2), sizeBytes: 7, tables: 3 };
    const withParts = { ...m, archive: { ...m.archive, parts: [part] } };
    expect(formatVersionFor(withParts.archive)).toBe(2);
    // A catalog with role records needs a reader that creates the roles: version 3, parts or not.
    expect(formatVersionFor(m.archive, { roleDetails: [] })).toBe(3);
    expect(formatVersionFor(withParts.archive, { roleDetails: [] })).toBe(3);
    expect(storedArchives(withParts).map((a) => a.key)).toEqual([m.archive.key, part.key]);
    expect(totalStoredBytes(withParts)).toBe(m.archive.sizeBytes + 7);
    expect(totalDumpBytes(withParts)).toBe(2 * m.archive.dumpBytes!);
    expect(totalDumpBytes({ ...withParts, archive: { ...withParts.archive, dumpBytes: null } })).toBeNull();
    expect(part.key).toBe(`${m.name}/${m.backupId}.part-2.dump.zst.age`);
  });

  it('restores by hand section by section', () => {
    const lines = manualRestore(['p/id.dump.zst.age', 'p/id.part-2.dump.zst.age']);
    expect(lines).toContain('age -d -i key.txt id.part-2.dump.zst.age | zstd -d > part-2.dump');
    expect(lines.slice(-5)).toEqual([
      'pg_restore --exit-on-error --section=pre-data -d restored backup.dump',
      '# the rows: these may run at the same time',
      'pg_restore --exit-on-error --section=data -d restored backup.dump',
      'pg_restore --exit-on-error --section=data -d restored part-2.dump',
      'pg_restore --exit-on-error --section=post-data -d restored backup.dump',
    ]);
  });
});

describe('restoring parts', () => {
  it('restores over a database as pre-data and data, each part’s rows, then post-data', () => {
    const runs = cleanRestoreRuns({ listFile: 'l', parts: 2 });
    expect(runs.map((r) => [r.part, r.whole, ...r.args.filter((a) => a.startsWith('--section'))])).toEqual([
      [1, true, '--section=pre-data', '--section=data'],
      [2, true, '--section=data'],
      [3, true, '--section=data'],
      // Post-data needs only the main archive's table of contents: its stream is not read to the end.
      [1, false, '--section=post-data'],
    ]);
    // Lifeboat empties the target itself (clear.ts): pg_restore --clean fails on partitions.
    expect(runs.some((r) => r.args.includes('--clean'))).toBe(false);
    expect(runs.every((r) => r.args.includes('--single-transaction') && r.args.includes('--verbose'))).toBe(
      true,
    );
    expect(cleanRestoreRuns({ parts: 0 })).toEqual([
      { args: ['--verbose', '--single-transaction', '--file=-'], part: 1, whole: true },
    ]);
  });

  it('splits a single archive at its post-data for SQL of its own between (a refresh’s masking)', () => {
    const runs = cleanRestoreRuns({ listFile: 'l', parts: 0, splitPostData: true });
    expect(runs.map((r) => [r.part, r.whole, ...r.args.filter((a) => a.startsWith('--'))])).toEqual([
      [
        1,
        true,
        '--verbose',
        '--single-transaction',
        '--file=-',
        '--use-list=l',
        '--section=pre-data',
        '--section=data',
      ],
      [1, false, '--verbose', '--single-transaction', '--file=-', '--use-list=l', '--section=post-data'],
    ]);
  });

  it('passes sections to pg_restore', () => {
    const target = { host: 'h', port: 5432, database: 'd', user: 'u', password: 'p', params: {} };
    expect(pgRestoreArgs({ target, file: 'f', jobs: 2, sections: ['post-data'] })).toContain(
      '--section=post-data',
    );
  });

  it('runs at most `limit` tasks at once and, after a failure, starts no more', async () => {
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const task =
      (i: number, fail = false) =>
      async () => {
        started.push(i);
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 10));
        running--;
        if (fail) throw new Error(`task ${i} failed`);
      };
    await pool(2, [task(1), task(2), task(3), task(4)]);
    expect(peak).toBe(2);
    const slowFirst = [30, 1, 10].map((ms) => () => new Promise<number>((r) => setTimeout(() => r(ms), ms)));
    expect(await pool(3, slowFirst)).toEqual([30, 1, 10]);
    started.length = 0;
    await expect(pool(1, [task(1), task(2, true), task(3)])).rejects.toThrow('task 2 failed');
    expect(started).toEqual([1, 2]);
  });
});
