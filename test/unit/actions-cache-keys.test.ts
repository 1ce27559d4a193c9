import { describe, expect, it } from 'vitest';
import { isLifeboatError } from '../../src/errors.js';
import {
  backupIdOf,
  belongsTo,
  latestManifestPrefix,
  newStamp,
  sizeOf,
  slotFor,
  storeKeyOf,
  writeKey,
} from '../../src/stores/actions-cache-keys.js';
import { ARCHIVE_SUFFIX, archiveKey, MANIFEST_SUFFIX, manifestKey } from '../../src/archive/store-keys.js';

const ID = '20261124_000312_345_9f2c41ab';
const LATER = '20261125_000312_345_0a1b2c3d';
const STAMP = '20261124T000400123Z-beef';

describe('actions cache key mapping', () => {
  it('gives a manifest a first-write key apart from its revisions', () => {
    const slot = slotFor(manifestKey('prod', ID));
    expect(slot.firstKey).toBe(`lifeboat/prod/manifest/${ID}.json`);
    expect(slot.revisionPrefix).toBe(`lifeboat/prod/manifest-rev/${ID}/`);
    expect(writeKey(slot, false, STAMP)).toBe(`lifeboat/prod/manifest/${ID}.json`);
    expect(writeKey(slot, true, STAMP)).toBe(`lifeboat/prod/manifest-rev/${ID}/${STAMP}`);
  });

  it('keeps every write of an archive under one prefix, each with a fresh stamp', () => {
    const slot = slotFor(archiveKey('prod', ID));
    expect(slot.firstKey).toBeUndefined();
    expect(writeKey(slot, false, STAMP)).toBe(`lifeboat/prod/archive/${ID}/${STAMP}`);
    expect(writeKey(slot, false)).not.toBe(writeKey(slot, false));
  });

  it('maps every cache key it writes back to its store key', () => {
    for (const key of [
      manifestKey('prod', ID),
      archiveKey('prod', ID),
      'prod/locks/drill.json',
      'a,b/c d%',
    ]) {
      const slot = slotFor(key);
      expect(storeKeyOf(writeKey(slot, false, STAMP))).toBe(key);
      expect(storeKeyOf(writeKey(slot, true, STAMP))).toBe(key);
    }
  });

  it('ignores cache entries that other workflows own', () => {
    expect(storeKeyOf('node-cache-Linux-x64-npm-abc')).toBeUndefined();
    expect(storeKeyOf('lifeboat/prod/manifest/not-an-id.json')).toBeUndefined();
    expect(storeKeyOf('lifeboat/%E0%A4%A/archive/' + ID + '/x')).toBeUndefined();
  });

  it('encodes names so that no name reaches into another and no comma reaches the client', () => {
    const slashed = slotFor(`prod/eu/${ID}${MANIFEST_SUFFIX}`);
    expect(slashed.firstKey).toBe(`lifeboat/prod%2Feu/manifest/${ID}.json`);
    expect(latestManifestPrefix('prod')).toBe('lifeboat/prod/manifest/');
    expect(slashed.firstKey?.startsWith(latestManifestPrefix('prod'))).toBe(false);
    expect(writeKey(slotFor(`a,b/${ID}${ARCHIVE_SUFFIX}`), false, STAMP)).not.toContain(',');
    expect(writeKey(slotFor('x,y'), false, STAMP)).not.toContain(',');
  });

  it('never lets the lookup of one key match an entry of another', () => {
    const keys = [
      manifestKey('prod', ID),
      manifestKey('prod', LATER),
      manifestKey('prod2', ID),
      archiveKey('prod', ID),
      'a',
      'ab',
      'a/b',
    ];
    const written = keys.flatMap((k) => [writeKey(slotFor(k), false), writeKey(slotFor(k), true)]);
    for (const key of keys) {
      // What a read asks for: the revision prefix, then the first write, both as prefixes.
      const { revisionPrefix, firstKey } = slotFor(key);
      const matched = written.filter(
        (w) => w.startsWith(revisionPrefix) || (firstKey && w.startsWith(firstKey)),
      );
      expect(matched.map(storeKeyOf)).toEqual([key, key]);
      expect(matched.every((w) => belongsTo(slotFor(key), w))).toBe(true);
    }
  });

  it('treats keys outside the backup layout as plain objects', () => {
    expect(slotFor('prod/not-an-id.manifest.json').revisionPrefix).toBe(
      'lifeboat/=/prod%2Fnot-an-id.manifest.json/',
    );
  });

  it('reads the backup id of a latest lookup, and only of the set asked about', () => {
    expect(backupIdOf(`lifeboat/prod/manifest/${ID}.json`, 'prod')).toBe(ID);
    expect(backupIdOf(`lifeboat/prod/manifest/${ID}.json`, 'staging')).toBeUndefined();
    expect(backupIdOf(`lifeboat/prod/manifest-rev/${ID}/${STAMP}`, 'prod')).toBeUndefined();
  });

  it('records an object size in each revision key, read back by the lookup alone', () => {
    const slot = slotFor(archiveKey('prod', ID));
    const written = writeKey(slot, false, STAMP, 1234567);
    expect(written).toBe(`lifeboat/prod/archive/${ID}/${STAMP}-s1234567`);
    expect(storeKeyOf(written)).toBe(archiveKey('prod', ID));
    expect(sizeOf(slot, written)).toBe(1234567);
    expect(sizeOf(slot, writeKey(slot, false, STAMP))).toBeUndefined();
    // A manifest's first write has no room for it; its size is never asked.
    expect(sizeOf(slotFor(manifestKey('prod', ID)), `lifeboat/prod/manifest/${ID}.json`)).toBeUndefined();
  });

  it('refuses keys the cache cannot hold, naming the limit', () => {
    let caught: unknown;
    try {
      slotFor(`${'n'.repeat(480)}/${ID}${MANIFEST_SUFFIX}`);
    } catch (error) {
      caught = error;
    }
    expect(isLifeboatError(caught, 'store') && caught.hint).toMatch(/512 characters/);
  });

  it('stamps writes with a sortable time and randomness', () => {
    expect(newStamp(new Date('2026-11-24T00:04:00.123Z'), 'beef')).toBe(STAMP);
  });
});
