import { describe, expect, it } from 'vitest';
import {
  archiveKey,
  archiveKeyOf,
  backupKeys,
  checkManifestKeys,
  drillRecordKey,
  manifestKey,
  parseSetKey,
  storageKey,
  partKey,
  pinKey,
  parseManifestKey,
  parseObjectKey,
  setObjects,
} from '../../src/archive/store-keys.js';
import type { Manifest } from '../../src/archive/manifest.js';
import { isLifeboatError, type LifeboatError } from '../../src/errors.js';
import { makeManifest } from '../helpers/manifest.js';

const ID = '20260301_120000_000_0a1b2c3d';
const OLDER = '20260201_120000_000_99aa88bb';

function refusal(run: () => unknown): LifeboatError {
  try {
    run();
  } catch (error) {
    if (isLifeboatError(error)) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

/** A genuine manifest of `production/ID` with two data parts. */
function withParts(): Manifest {
  const m = makeManifest({ backupId: ID });
  const part = (k: number) => ({ ...m.archive, key: partKey('production', ID, k), tables: 2 });
  return { ...m, formatVersion: 2, archive: { ...m.archive, parts: [part(2), part(3)] } };
}

describe('store keys of a backup set', () => {
  it('derives every key from the set name, backup id and part number', () => {
    expect(archiveKey('production', ID)).toBe(`production/${ID}.dump.zst.age`);
    expect(partKey('production', ID, 3)).toBe(`production/${ID}.part-3.dump.zst.age`);
    expect(manifestKey('production', ID)).toBe(`production/${ID}.manifest.json`);
    expect(archiveKeyOf('production', ID, 1)).toBe(archiveKey('production', ID));
    expect(backupKeys('production', ID, 2)).toEqual([
      `production/${ID}.manifest.json`,
      `production/${ID}.dump.zst.age`,
      `production/${ID}.part-2.dump.zst.age`,
    ]);
  });

  it.each([
    ['..', ID],
    ['../other', ID],
    ['prod/eu', ID],
    ['a..b', ID],
    ['', ID],
    ['.hidden', ID],
    ['production', '../other/20260301_120000_000_0a1b2c3d'],
    ['production', `${ID}/x`],
    ['production', 'latest'],
    ['production', '2026'],
  ])('refuses to derive keys for set %j and id %j', (name, id) => {
    expect(refusal(() => manifestKey(name, id)).code).toBe('integrity');
    expect(refusal(() => archiveKey(name, id)).code).toBe('integrity');
  });

  it('has no key of its own for part 1 or a part that is not a whole number', () => {
    expect(refusal(() => partKey('production', ID, 1)).code).toBe('internal');
    expect(refusal(() => partKey('production', ID, 2.5)).code).toBe('internal');
  });
});

describe('checkManifestKeys', () => {
  const where = `production/${ID}.manifest.json`;

  it('accepts a manifest whose keys are the derived ones, parts included', () => {
    expect(() => checkManifestKeys(withParts(), where, { name: 'production', backupId: ID })).not.toThrow();
  });

  it('refuses an archive key under another set, naming the manifest, the claim and the expected key', () => {
    const m = makeManifest({ backupId: ID });
    const forged = { ...m, archive: { ...m.archive, key: archiveKey('staging', ID) } };
    const error = refusal(() => checkManifestKeys(forged, where, { name: 'production', backupId: ID }));
    expect(error.code).toBe('integrity');
    expect(error.message).toBe(
      `The manifest ${where} claims its archive is "staging/${ID}.dump.zst.age" (outside the set "production"), but backup production/${ID} keeps it at "production/${ID}.dump.zst.age". Refusing to read or delete anything it names.`,
    );
    expect(error.hint).toMatch(/tampered with.*take a new one/);
  });

  it('refuses an archive key with ".." segments, even one that would resolve inside the set', () => {
    const m = makeManifest({ backupId: ID });
    for (const key of [
      `production/../staging/${ID}.dump.zst.age`,
      `production/../production/${ID}.dump.zst.age`,
    ]) {
      const forged = { ...m, archive: { ...m.archive, key } };
      const error = refusal(() => checkManifestKeys(forged, where));
      expect(error.message).toContain(`"${key}" (a path with ".." segments)`);
    }
  });

  it('refuses a manifest pointing at another backup’s archive in the same set', () => {
    const m = makeManifest({ backupId: ID });
    const forged = { ...m, archive: { ...m.archive, key: archiveKey('production', OLDER) } };
    const error = refusal(() => checkManifestKeys(forged, where));
    expect(error.message).toContain(`claims its archive is "production/${OLDER}.dump.zst.age", but`);
  });

  it('refuses a part key of another backup, and parts out of order', () => {
    const m = withParts();
    const parts = m.archive.parts!;
    const stolen = {
      ...m,
      archive: { ...m.archive, parts: [parts[0]!, { ...parts[1]!, key: partKey('production', OLDER, 3) }] },
    };
    expect(refusal(() => checkManifestKeys(stolen, where)).message).toContain(
      `claims its part 3 is "production/${OLDER}.part-3.dump.zst.age"`,
    );
    const swapped = { ...m, archive: { ...m.archive, parts: [parts[1]!, parts[0]!] } };
    expect(refusal(() => checkManifestKeys(swapped, where)).message).toContain('claims its part 2 is');
  });

  it('refuses a Storage archive key that is not the derived one, and lists the derived one for deletion', () => {
    const m = makeManifest({ backupId: ID });
    const storage = {
      key: storageKey('production', ID),
      sizeBytes: 1,
      sha256: 'a'.repeat(64),
      format: 'tar' as const,
      compression: 'zstd' as const,
      objects: 1,
      buckets: 1,
    };
    expect(() =>
      checkManifestKeys({ ...m, storage }, where, { name: 'production', backupId: ID }),
    ).not.toThrow();
    const forged = { ...m, storage: { ...storage, key: storageKey('staging', ID) } };
    const error = refusal(() => checkManifestKeys(forged, where, { name: 'production', backupId: ID }));
    expect(error.message).toContain(
      `claims its Storage archive is "staging/${ID}.storage.tar.zst.age" (outside the set "production")`,
    );
    expect(backupKeys('production', ID, 1, { storage: true })).toEqual([
      manifestKey('production', ID),
      archiveKey('production', ID),
      `production/${ID}.storage.tar.zst.age`,
    ]);
  });

  it('refuses a manifest read under another backup id or set name than it records', () => {
    const m = makeManifest({ backupId: ID });
    expect(
      refusal(() => checkManifestKeys(m, where, { name: 'production', backupId: OLDER })).message,
    ).toContain(`claims the backup id "${ID}"`);
    expect(refusal(() => checkManifestKeys(m, where, { name: 'staging', backupId: ID })).message).toContain(
      'claims the set name "production"',
    );
  });

  it('refuses a manifest whose own name could climb out of the store', () => {
    const m = makeManifest({ backupId: ID });
    const forged = { ...m, name: '..', archive: { ...m.archive, key: `../${ID}.dump.zst.age` } };
    expect(refusal(() => checkManifestKeys(forged, where)).code).toBe('integrity');
  });
});

describe('which object of a set a key is (what a sweep may remove)', () => {
  it('recognises every derived key and nothing else', () => {
    expect(parseSetKey('production', archiveKey('production', ID))).toEqual({
      backupId: ID,
      kind: 'archive',
      generation: 1,
    });
    expect(parseSetKey('production', partKey('production', ID, 3))).toEqual({
      backupId: ID,
      kind: 'part',
      generation: 1,
      part: 3,
    });
    expect(parseSetKey('production', manifestKey('production', ID))?.kind).toBe('manifest');
    expect(parseSetKey('production', drillRecordKey('production', ID))?.kind).toBe('drill record');
    expect(parseSetKey('production', pinKey('production', ID))?.kind).toBe('pin');
    expect(parseSetKey('production', storageKey('production', ID))?.kind).toBe('storage');
    for (const key of [
      archiveKey('staging', ID),
      `production/${ID}.dump.zst.age.bak`,
      `production/${ID}.part-1.dump.zst.age`,
      `production/${ID}.part-02.dump.zst.age`,
      `production/../staging/${ID}.dump.zst.age`,
      `production/nested/${ID}.dump.zst.age`,
      'production/notes.txt',
      `production/20260301_120000_000_0A1B2C3D.dump.zst.age`,
    ]) {
      expect(parseSetKey('production', key), key).toBeUndefined();
    }
    expect(parseSetKey('..', `../${ID}.dump.zst.age`)).toBeUndefined();
  });
});

describe('key generations of a rekeyed backup', () => {
  it('puts generation 2 and later beside the original keys, and generation 1 where it always was', () => {
    expect(backupKeys('production', ID, 2, { generation: 1 })).toEqual(backupKeys('production', ID, 2));
    expect(backupKeys('production', ID, 2, { generation: 2 })).toEqual([
      `production/${ID}.k2.manifest.json`,
      `production/${ID}.k2.dump.zst.age`,
      `production/${ID}.k2.part-2.dump.zst.age`,
    ]);
    expect(() => archiveKey('production', ID, 0)).toThrow(/generation 0/);
  });

  it('reads the backup id and generation back from a key, and nothing from other keys', () => {
    expect(parseManifestKey('production', manifestKey('production', ID))).toEqual({
      backupId: ID,
      generation: 1,
    });
    expect(parseManifestKey('production', manifestKey('production', ID, 3))).toEqual({
      backupId: ID,
      generation: 3,
    });
    for (const other of [
      `production/${ID}.k1.manifest.json`,
      `production/${ID}.k0.manifest.json`,
      `production/${ID}.kx.manifest.json`,
      `staging/${ID}.manifest.json`,
      `production/not-an-id.manifest.json`,
      `production/${ID}.drill.json`,
    ])
      expect(parseManifestKey('production', other), other).toBeUndefined();
    expect(parseObjectKey('production', partKey('production', ID, 2, 2))).toEqual({
      backupId: ID,
      generation: 2,
      kind: 'archive',
    });
    expect(parseObjectKey('production', archiveKey('production', ID))).toMatchObject({ generation: 1 });
    expect(parseObjectKey('production', `production/${ID}.drill.json`)).toBeUndefined();
  });

  it('refuses a manifest whose key generation is not the one it was read under', () => {
    const m = { ...makeManifest({ backupId: ID }), keyGeneration: 2 };
    m.archive = { ...m.archive, key: archiveKey('production', ID, 2) };
    expect(() =>
      checkManifestKeys(m, 'k2', { name: 'production', backupId: ID, generation: 2 }),
    ).not.toThrow();
    expect(
      refusal(() => checkManifestKeys(m, 'k1', { name: 'production', backupId: ID, generation: 1 })).message,
    ).toMatch(/claims the key generation "2"/);
    expect(setObjects(m).map((o) => o.key)).toEqual([archiveKey('production', ID, 2)]);
  });
});
