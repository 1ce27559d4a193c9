import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyPads } from '../../src/refresh/mask-key.js';

describe('the mask key', () => {
  it('gives pads with which sha256(opad || sha256(ipad || m)) is HMAC-SHA256 of the key, short or long', () => {
    for (const key of ['k', 'a key of some length', 'x'.repeat(100)]) {
      const { ipad, opad } = keyPads(key);
      const inner = createHash('sha256')
        .update(Buffer.concat([ipad, Buffer.from('User7@Example.com')]))
        .digest();
      const outer = createHash('sha256')
        .update(Buffer.concat([opad, inner]))
        .digest('hex');
      expect(outer).toBe(createHmac('sha256', key).update('User7@Example.com').digest('hex'));
    }
  });

  it('is random in every run without mask-key', () => {
    expect(keyPads(undefined).ipad.equals(keyPads(undefined).ipad)).toBe(false);
  });
});
