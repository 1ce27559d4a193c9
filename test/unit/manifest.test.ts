import { describe, expect, it } from 'vitest';
import { levelAtLeast } from '../../src/archive/manifest.js';

describe('verification levels', () => {
  it('rank stored < readable < restored', () => {
    expect(levelAtLeast('readable', 'stored')).toBe(true);
    expect(levelAtLeast('stored', 'readable')).toBe(false);
    expect(levelAtLeast('restored', 'readable')).toBe(true);
  });
});
