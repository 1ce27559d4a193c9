import { describe, expect, it } from 'vitest';
import { bucketTotals, compareWithRows, someNames } from '../../src/storage/object-catalog.js';

const o = (bucket: string, key: string) => ({ bucket, key });

describe('compareWithRows', () => {
  it('names objects without a row and rows without an object, in the backed-up buckets only', () => {
    const rows = [o('avatars', 'a.png'), o('avatars', 'gone.png'), o('other', 'not backed up')];
    const objects = [o('avatars', 'a.png'), o('avatars', 'new.png')];
    expect(compareWithRows(rows, objects, ['avatars'])).toEqual({
      compared: true,
      onlyInStorage: [o('avatars', 'new.png')],
      onlyInDatabase: [o('avatars', 'gone.png')],
    });
  });

  it('tells keys apart that differ only where a naive join would merge them', () => {
    const rows = [o('a', 'b/c')];
    expect(compareWithRows(rows, [o('a/b', 'c')], ['a', 'a/b']).onlyInStorage).toEqual([o('a/b', 'c')]);
  });

  it('says it could not compare when the database has no storage.objects', () => {
    expect(compareWithRows(null, [o('a', 'x')], ['a'])).toEqual({
      compared: false,
      onlyInStorage: [],
      onlyInDatabase: [],
    });
  });
});

describe('bucketTotals', () => {
  it('keeps empty buckets and sums objects and bytes per bucket', () => {
    expect(
      bucketTotals(
        ['empty', 'avatars'],
        [
          { bucket: 'avatars', sizeBytes: 10 },
          { bucket: 'avatars', sizeBytes: 5 },
        ],
      ),
    ).toEqual([
      { name: 'avatars', objects: 2, bytes: 15 },
      { name: 'empty', objects: 0, bytes: 0 },
    ]);
  });
});

describe('someNames', () => {
  it('shows a few names and counts the rest', () => {
    const list = Array.from({ length: 7 }, (_, i) => o('b', `k${i}`));
    expect(someNames(list, 2)).toBe('"b/k0", "b/k1" and 5 more');
  });
});
