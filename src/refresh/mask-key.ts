import { createHash, randomBytes } from 'node:crypto';

/**
 * The HMAC key of a refresh, as the inner and outer pads RFC 2104 derives from it, so the
 * server computes HMAC-SHA256 with its built-in sha256 (no pgcrypto needed) and the result
 * equals Node's createHmac('sha256', key). Without `mask-key`, a random key of this run:
 * masks are then consistent across the tables of one refresh, and differ from the last one.
 */
export interface KeyPads {
  ipad: Buffer;
  opad: Buffer;
}

const BLOCK = 64;

export function keyPads(key: string | undefined): KeyPads {
  let k = key === undefined ? randomBytes(32) : Buffer.from(key, 'utf8');
  if (k.length > BLOCK) k = createHash('sha256').update(k).digest();
  const padded = Buffer.alloc(BLOCK);
  k.copy(padded);
  return {
    ipad: Buffer.from(padded.map((b) => b ^ 0x36)),
    opad: Buffer.from(padded.map((b) => b ^ 0x5c)),
  };
}
