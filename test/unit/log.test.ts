import { describe, expect, it } from 'vitest';
import { SecretMask } from '../../src/log.js';

describe('secret masking', () => {
  it('masks raw and URL-encoded forms, longest first', () => {
    const mask = new SecretMask();
    mask.add('p@ss');
    mask.add('postgresql://u:p%40ss@h/d');
    expect(mask.mask('url postgresql://u:p%40ss@h/d and p@ss and p%40ss')).toBe('url *** and *** and ***');
  });
});
