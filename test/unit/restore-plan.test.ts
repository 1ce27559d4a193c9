import { describe, expect, it } from 'vitest';
import { changedBuckets, describeBucketPlan, planStorageRestore } from '../../src/storage/restore-plan.js';

const entry = (key: string, sizeBytes: number, sha256: string) => ({
  bucket: 'avatars',
  key,
  sizeBytes,
  sha256,
  metadata: {},
});
const now = (key: string, sizeBytes: number) => ({ bucket: 'avatars', key, sizeBytes });

describe('planStorageRestore', () => {
  const backup = [
    entry('same', 3, 'h1'),
    entry('changed', 3, 'h2'),
    entry('resized', 3, 'h3'),
    entry('gone', 4, 'h4'),
  ];
  const current = [now('same', 3), now('changed', 3), now('resized', 9), now('extra', 5)];
  const currentHashes = new Map([
    ['avatars/same', 'h1'],
    ['avatars/changed', 'other'],
  ]);

  it('puts back what is missing, replaces what differs by size or hash, and skips identical objects', () => {
    const plan = planStorageRestore({
      buckets: ['avatars', 'docs'],
      backup,
      current,
      currentHashes,
      deleteExtra: false,
    });
    expect(plan.buckets).toEqual([
      {
        bucket: 'avatars',
        put: 1,
        putBytes: 4,
        replace: 2,
        replaceBytes: 6,
        identical: 1,
        extra: 1,
        extraBytes: 5,
      },
      {
        bucket: 'docs',
        put: 0,
        putBytes: 0,
        replace: 0,
        replaceBytes: 0,
        identical: 0,
        extra: 0,
        extraBytes: 0,
      },
    ]);
    expect([...plan.writes].sort()).toEqual(['avatars/changed', 'avatars/gone', 'avatars/resized']);
    expect(plan.deletes).toEqual([]);
    expect(changedBuckets(plan)).toEqual(['avatars']);
  });

  it('deletes objects the backup lacks only when asked', () => {
    const plan = planStorageRestore({
      buckets: ['avatars'],
      backup,
      current,
      currentHashes,
      deleteExtra: true,
    });
    expect(plan.deletes).toEqual([{ bucket: 'avatars', key: 'extra' }]);
    expect(describeBucketPlan(plan.buckets[0]!, true)).toBe(
      'avatars: 1 to put back (4 B); 2 to replace (6 B); 1 identical, left alone; 1 not in the backup (5 B), deleted',
    );
  });

  it('changes no bucket when everything matches and extras are kept', () => {
    const plan = planStorageRestore({
      buckets: ['avatars'],
      backup: [entry('same', 3, 'h1')],
      current: [now('same', 3), now('extra', 1)],
      currentHashes,
      deleteExtra: false,
    });
    expect(changedBuckets(plan)).toEqual([]);
  });
});
