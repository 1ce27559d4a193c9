/**
 * age X25519 keys: recipients (`age1…`, public) and identities (`AGE-SECRET-KEY-1…`, secret),
 * bech32-encoded 32-byte values. Errors name the input and the entry's position but never
 * repeat its text, because a secret pasted into the wrong input must not reach a log.
 */
import {
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { bech32 } from '@scure/base';
import { LifeboatError } from '../../errors.js';

export type AgeKeys = { recipients: string[] } | { identities: string[] } | { passphrase: string };
export type EncryptKeys = { recipients: string[] } | { passphrase: string };
export type DecryptKeys = { identities: string[] } | { passphrase: string };

const RECIPIENT_PREFIX = 'age';
const IDENTITY_PREFIX = 'AGE-SECRET-KEY-';
// DER framing around a raw 32-byte X25519 key (RFC 8410), the portable way to hand raw keys to node:crypto.
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');
const KEYGEN_HINT = 'Generate a key pair with `age-keygen -o key.txt`; it prints the public key (age1…).';

/** A parsed identity, ready for Diffie-Hellman. */
export interface X25519Identity {
  privateKey: KeyObject;
  /** The identity's own public key, which salts the wrap key. */
  publicKey: Buffer;
}

/**
 * Decodes bech32 without the BIP-173 90-character limit (age keys have none) and without
 * throwing. Both spellings must be single-case; age fixes which case each kind of key uses.
 */
function decodeKey(text: string, prefix: string): Buffer | undefined {
  const decoded = bech32.decodeUnsafe(text, false);
  if (!decoded || decoded.prefix !== prefix.toLowerCase()) return undefined;
  const bytes = bech32.fromWordsUnsafe(decoded.words);
  return bytes && bytes.length === 32 ? Buffer.from(bytes) : undefined;
}

function encodeKey(prefix: string, bytes: Uint8Array): string {
  return bech32.encode(prefix, bech32.toWords(bytes), false);
}

function x25519PrivateKey(raw: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_X25519, raw]), format: 'der', type: 'pkcs8' });
}

function rawPublicKey(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'spki' }).subarray(SPKI_X25519.length);
}

/**
 * X25519 with a raw 32-byte peer key, or undefined for a low-order peer: OpenSSL refuses an
 * all-zero shared secret, which the age spec requires rejecting.
 */
export function sharedSecret(privateKey: KeyObject, peer: Uint8Array): Buffer | undefined {
  try {
    const publicKey = createPublicKey({
      key: Buffer.concat([SPKI_X25519, peer]),
      format: 'der',
      type: 'spki',
    });
    return diffieHellman({ privateKey, publicKey });
  } catch {
    return undefined;
  }
}

/** A fresh key pair whose public half (the "share") travels in the stanza. */
export function ephemeralKey(): { privateKey: KeyObject; share: Buffer } {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return { privateKey, share: rawPublicKey(publicKey) };
}

/** The 32-byte public key of a recipient string, or undefined when it is not one. */
function recipientBytes(recipient: string): Buffer | undefined {
  return recipient === recipient.toLowerCase() ? decodeKey(recipient, RECIPIENT_PREFIX) : undefined;
}

function identityKey(identity: string): X25519Identity | undefined {
  if (identity !== identity.toUpperCase()) return undefined;
  const raw = decodeKey(identity, IDENTITY_PREFIX);
  if (!raw) return undefined;
  const privateKey = x25519PrivateKey(raw);
  return { privateKey, publicKey: rawPublicKey(createPublicKey(privateKey)) };
}

/** Checks keys handed to the streams directly; inputs get their friendlier errors from the parsers below. */
export function x25519Recipients(recipients: string[]): Buffer[] {
  if (recipients.length === 0)
    throw new LifeboatError('key', 'No recipient given to encrypt to.', { hint: KEYGEN_HINT });
  return recipients.map((recipient, index) => {
    const bytes = recipientBytes(recipient);
    if (bytes) return bytes;
    throw new LifeboatError('key', `Recipient ${index + 1} is not an age public key (age1…).`, {
      hint: KEYGEN_HINT,
    });
  });
}

export function x25519Identities(identities: string[]): X25519Identity[] {
  if (identities.length === 0)
    throw new LifeboatError('key', 'No identity given to decrypt with.', { hint: KEYGEN_HINT });
  return identities.map((text, index) => {
    const identity = identityKey(text.trim());
    if (identity) return identity;
    const message = `Identity ${index + 1} is not an age identity (AGE-SECRET-KEY-1…).`;
    throw new LifeboatError('key', message, { hint: KEYGEN_HINT });
  });
}

export function generateIdentity(): { identity: string; recipient: string } {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const jwk = privateKey.export({ format: 'jwk' });
  const raw = Buffer.from(jwk.d ?? '', 'base64url');
  return {
    identity: encodeKey(IDENTITY_PREFIX, raw).toUpperCase(),
    recipient: encodeKey(RECIPIENT_PREFIX, rawPublicKey(publicKey)),
  };
}

export function recipientOf(identity: string): string {
  const key = identityKey(identity.trim());
  if (!key) {
    throw new LifeboatError('key', 'The value is not an age identity (expected AGE-SECRET-KEY-1…).', {
      hint: KEYGEN_HINT,
    });
  }
  return encodeKey(RECIPIENT_PREFIX, key.publicKey);
}

/** Says what a wrong entry looks like without quoting it. */
function describeRecipientMistake(entry: string): string {
  if (/^age-secret-key-1/i.test(entry)) {
    return 'is a secret identity (AGE-SECRET-KEY-1…), not a public key; never share it — give its age1… public key instead';
  }
  if (/^ssh-|^ecdsa-/.test(entry)) return 'is an SSH public key, which Lifeboat does not support';
  if (/^age1[a-z0-9]+1/.test(entry)) {
    return 'is a plugin or post-quantum age recipient, which Lifeboat does not support';
  }
  if (/^AGE1/.test(entry)) return 'is upper-case; age public keys are written in lower case';
  if (/^age1/.test(entry))
    return 'starts like an age public key but is mistyped or truncated (checksum fails)';
  return 'is not an age public key';
}

function splitEntries(text: string): string[] {
  return text.split(/[\s,]+/).filter((entry) => entry.length > 0);
}

/** Splits on commas, whitespace and newlines; every entry must be an X25519 recipient (age1…). */
export function parseRecipients(text: string, inputName: string): string[] {
  const entries = splitEntries(text);
  if (entries.length === 0) {
    throw new LifeboatError('key', `${inputName} is empty: give at least one age public key (age1…).`, {
      hint: KEYGEN_HINT,
    });
  }
  entries.forEach((entry, index) => {
    if (recipientBytes(entry)) return;
    throw new LifeboatError(
      'key',
      `Entry ${index + 1} of ${inputName} ${describeRecipientMistake(entry)}. ` +
        `${inputName} accepts age public keys (age1…), separated by commas, spaces or newlines.`,
      { hint: KEYGEN_HINT },
    );
  });
  return [...new Set(entries)];
}

function describeIdentityMistake(entry: string): string {
  if (/^age1/.test(entry)) {
    return 'is a public key (age1…); the identity is the AGE-SECRET-KEY-1… line of the key file';
  }
  if (/^age-secret-key-1/.test(entry)) return 'is lower-case; age identities are written in upper case';
  if (/^-----BEGIN|^ssh-/.test(entry)) return 'looks like an SSH key, which Lifeboat does not support';
  if (entry.startsWith('age-encryption.org/')) {
    return 'is an encrypted identity file, which Lifeboat cannot unlock; give the plain key file';
  }
  if (/^AGE-SECRET-KEY-1/.test(entry)) return 'is mistyped or truncated (checksum fails)';
  if (/^AGE-PLUGIN-/.test(entry)) return 'is an age plugin identity, which Lifeboat does not support';
  return 'is not an age identity';
}

/**
 * Reads identities from a key file's text (as `age-keygen` writes it): comment and blank lines
 * are skipped, every other entry must be an X25519 identity.
 */
export function parseIdentities(text: string, inputName: string): string[] {
  const identities: string[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    for (const entry of splitEntries(trimmed)) {
      if (!identityKey(entry)) {
        throw new LifeboatError(
          'key',
          `Line ${index + 1} of ${inputName} ${describeIdentityMistake(entry)}. ` +
            `${inputName} accepts age identities (AGE-SECRET-KEY-1…), one per line; '#' lines are ignored.`,
          { hint: KEYGEN_HINT },
        );
      }
      identities.push(entry);
    }
  });
  if (identities.length === 0) {
    throw new LifeboatError('key', `${inputName} holds no age identity (AGE-SECRET-KEY-1…).`, {
      hint: 'Paste the whole key file written by `age-keygen`, or just its AGE-SECRET-KEY-1… line.',
    });
  }
  return [...new Set(identities)];
}
