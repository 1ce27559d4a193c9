import { createHash, createHmac, randomBytes } from 'node:crypto';

/**
 * The HMAC key of a refresh, as the inner and outer pads RFC 2104 derives from it, so the
 * server computes HMAC-SHA256 with its built-in sha256 (no pgcrypto needed) and the result
 * equals Node's createHmac('sha256', key). Without `mask-key`, a random key of this run:
 * masks are then consistent across the tables of one refresh, and differ from the last one.
 */
export interface KeyPads {
  ipad: Buffer;
  opad: Buffer;
  /**
   * A 128-bit key derived from it (hex) for the masks of emails, names, phones and text:
   * md5(prefix || value), several times cheaper per row than HMAC-SHA256 and, with a
   * secret prefix, as unguessable for values nobody can enumerate without the key.
   */
  prefix: string;
}

const BLOCK = 64;

export function keyPads(key: string | undefined): KeyPads {
  const raw = key === undefined ? randomBytes(32) : Buffer.from(key, 'utf8');
  let k = raw;
  if (k.length > BLOCK) k = createHash('sha256').update(k).digest();
  const padded = Buffer.alloc(BLOCK);
  k.copy(padded);
  return {
    ipad: Buffer.from(padded.map((b) => b ^ 0x36)),
    opad: Buffer.from(padded.map((b) => b ^ 0x5c)),
    prefix: createHmac('sha256', raw).update('lifeboat mask prefix').digest('hex').slice(0, 32),
  };
}
