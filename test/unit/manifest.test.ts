import { describe, expect, it } from 'vitest';
import {
  formatVersionFor,
  levelAtLeast,
  parseManifest,
  serializeManifest,
} from '../../src/archive/manifest.js';
import { makeManifest } from '../helpers/manifest.js';

describe('verification levels', () => {
  it('rank stored < readable < restored', () => {
    expect(levelAtLeast('readable', 'stored')).toBe(true);
    expect(levelAtLeast('stored', 'readable')).toBe(false);
    expect(levelAtLeast('restored', 'readable')).toBe(true);
  });
});

describe('format versions', () => {
  it('gives a backup with a Storage archive version 4, and one without it what it had before', () => {
    const m = makeManifest({});
    const storage = {
      key: 'k',
      sizeBytes: 1,
      sha256: 'a'.repeat(64),
      format: 'tar' as const,
      compression: 'zstd' as const,
      objects: 0,
      buckets: 0,
    };
    expect(formatVersionFor(m.archive, { roleDetails: {} }, storage)).toBe(4);
    expect(formatVersionFor(m.archive, { roleDetails: {} })).toBe(3);
    expect(formatVersionFor(m.archive)).toBe(1);
  });

  it('refuses a manifest of a version newer than it knows, rather than restore less', () => {
    const text = serializeManifest(makeManifest({}))
      .toString()
      .replace(/"formatVersion": \d+/, '"formatVersion": 5');
    expect(() => parseManifest(text, 'm.json')).toThrow(
      /format version 5, newer than this Lifeboat understands \(4\)/,
    );
  });
});
