/**
 * The age v1 header: a version line, one stanza per recipient (each wraps the 16-byte file
 * key), and an HMAC over all of it, so no stanza can be added, dropped or altered unnoticed.
 * Text layout and checks follow https://age-encryption.org/v1.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  scrypt,
  timingSafeEqual,
} from 'node:crypto';
import { LifeboatError } from '../../errors.js';
import { ephemeralKey, sharedSecret, x25519Identities, x25519Recipients } from './keys.js';
import type { DecryptKeys, EncryptKeys, X25519Identity } from './keys.js';

export const VERSION_LINE = 'age-encryption.org/v1';
export const FILE_KEY_SIZE = 16;
// A header carries one short stanza per recipient; anything this large is not one.
export const MAX_HEADER_SIZE = 1024 * 1024;
const MAC_SIZE = 32;
const LINE_WIDTH = 64;

export interface Stanza {
  type: string;
  args: string[];
  body: Buffer;
}

export interface ParsedHeader {
  stanzas: Stanza[];
  /** The bytes the MAC covers: everything up to and including the `---`. */
  macInput: Buffer;
  mac: Buffer;
}

export function hkdf(ikm: Uint8Array, salt: Uint8Array, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, salt, info, 32));
}

export function headerMac(fileKey: Uint8Array, macInput: Uint8Array): Buffer {
  return createHmac('sha256', hkdf(fileKey, Buffer.alloc(0), 'header'))
    .update(macInput)
    .digest();
}

/** age uses unpadded standard base64. */
export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64').replace(/=+$/, '');
}

/** Strict decoding: Node's own decoder skips junk and would accept many spellings of one value. */
export function decodeBase64(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]*$/.test(text) || text.length % 4 === 1) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return encodeBase64(bytes) === text ? bytes : undefined;
}

function formatError(message: string): LifeboatError {
  return new LifeboatError('format', `Not a valid age archive: ${message}.`, {
    hint: 'The file is not an age-encrypted Lifeboat archive, or its header is damaged.',
  });
}

function formatStanza(stanza: Stanza): string {
  const encoded = encodeBase64(stanza.body);
  const lines: string[] = [];
  for (let at = 0; at < encoded.length; at += LINE_WIDTH) lines.push(encoded.slice(at, at + LINE_WIDTH));
  // The body ends with its first short line, so a full last line needs an empty one after it.
  if (encoded.length % LINE_WIDTH === 0) lines.push('');
  return `-> ${[stanza.type, ...stanza.args].join(' ')}\n${lines.join('\n')}\n`;
}

/** Serialises and MACs a header; the result ends with the newline before the payload. */
export function formatHeader(stanzas: Stanza[], fileKey: Uint8Array): Buffer {
  const macInput = Buffer.from(`${VERSION_LINE}\n${stanzas.map(formatStanza).join('')}---`, 'latin1');
  const mac = headerMac(fileKey, macInput);
  return Buffer.concat([macInput, Buffer.from(` ${encodeBase64(mac)}\n`, 'latin1')]);
}

/**
 * Where the header ends (the index just past the MAC line's newline), or -1 when `bytes`
 * does not hold all of it yet. Base64 bodies never contain `-`, so `\n--- ` only starts the MAC line.
 */
export function findHeaderEnd(bytes: Buffer): number {
  const macLine = bytes.indexOf('\n--- ');
  if (macLine < 0) return -1;
  const end = bytes.indexOf('\n', macLine + 1);
  return end < 0 ? -1 : end + 1;
}

const ARG = /^[\x21-\x7e]+$/;

function parseStanza(lines: string[], at: number): { stanza: Stanza; next: number } {
  const args = (lines[at] ?? '').slice(3).split(' ');
  if (!args.every((arg) => ARG.test(arg))) throw formatError(`malformed stanza on header line ${at + 1}`);
  const parts: string[] = [];
  for (let index = at + 1; ; index++) {
    const line = lines[index];
    if (line === undefined || line.length > LINE_WIDTH || line.startsWith('-')) {
      throw formatError(`stanza on header line ${at + 1} has a malformed body`);
    }
    parts.push(line);
    if (line.length < LINE_WIDTH) {
      const body = decodeBase64(parts.join(''));
      if (!body) throw formatError(`stanza on header line ${at + 1} has a body that is not base64`);
      const [type = '', ...rest] = args;
      return { stanza: { type, args: rest, body }, next: index + 1 };
    }
  }
}

/** Parses a complete header (as located by `findHeaderEnd`). */
export function parseHeader(header: Buffer): ParsedHeader {
  const text = header.toString('latin1');
  if (!/^[\x20-\x7e\n]*$/.test(text)) throw formatError('the header holds non-text bytes');
  const lines = text.slice(0, -1).split('\n');
  if (lines[0] !== VERSION_LINE) throw formatError(`the first line is not "${VERSION_LINE}"`);
  const stanzas: Stanza[] = [];
  let at = 1;
  while (at < lines.length - 1) {
    if (!(lines[at] ?? '').startsWith('-> ')) throw formatError(`unexpected header line ${at + 1}`);
    const { stanza, next } = parseStanza(lines, at);
    stanzas.push(stanza);
    at = next;
  }
  const macLine = lines[at] ?? '';
  const mac = macLine.startsWith('--- ') ? decodeBase64(macLine.slice(4)) : undefined;
  if (at !== lines.length - 1 || !mac || mac.length !== MAC_SIZE) {
    throw formatError('the header does not end with a valid MAC line');
  }
  if (stanzas.length === 0) throw formatError('the header has no recipient stanza');
  const macInput = header.subarray(0, header.length - macLine.length - 1 + 3);
  return { stanzas, macInput, mac };
}

export function verifyHeaderMac(header: ParsedHeader, fileKey: Uint8Array): boolean {
  return timingSafeEqual(headerMac(fileKey, header.macInput), header.mac);
}

/** ChaCha20-Poly1305 with a 16-byte tag appended, as age uses it for stanzas and payload chunks. */
export function seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array): Buffer {
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  const head = cipher.update(plaintext);
  cipher.final();
  return Buffer.concat([head, cipher.getAuthTag()], plaintext.length + 16);
}

/** The plaintext, or undefined when the tag does not authenticate (nothing unauthenticated leaks). */
export function open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array): Buffer | undefined {
  if (sealed.length < 16) return undefined;
  const decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  const plaintext = decipher.update(sealed.subarray(0, sealed.length - 16));
  try {
    decipher.final();
  } catch {
    return undefined;
  }
  return plaintext;
}

const ZERO_NONCE = Buffer.alloc(12);
const X25519_LABEL = 'age-encryption.org/v1/X25519';
const SCRYPT_LABEL = 'age-encryption.org/v1/scrypt';
/** The age CLI's work factor for new files. */
export const SCRYPT_WORK_FACTOR = 18;
/** 2^22 already needs 4 GiB and seconds of CPU; larger factors are refused, not attempted. */
export const MAX_SCRYPT_WORK_FACTOR = 22;

function wrapX25519(fileKey: Buffer, recipient: Buffer): Stanza {
  const { privateKey, share } = ephemeralKey();
  const shared = sharedSecret(privateKey, recipient);
  if (!shared) throw new LifeboatError('key', 'A recipient is not a usable X25519 public key.');
  const wrapKey = hkdf(shared, Buffer.concat([share, recipient]), X25519_LABEL);
  return { type: 'X25519', args: [encodeBase64(share)], body: seal(wrapKey, ZERO_NONCE, fileKey) };
}

function unwrapX25519(stanza: Stanza, identity: X25519Identity): Buffer | undefined {
  const share = stanza.args.length === 1 ? decodeBase64(stanza.args[0] ?? '') : undefined;
  if (!share || share.length !== 32 || stanza.body.length !== FILE_KEY_SIZE + 16) {
    throw formatError('an X25519 stanza is malformed');
  }
  const shared = sharedSecret(identity.privateKey, share);
  if (!shared) throw formatError('an X25519 stanza has an invalid ephemeral share');
  const wrapKey = hkdf(shared, Buffer.concat([share, identity.publicKey]), X25519_LABEL);
  return open(wrapKey, ZERO_NONCE, stanza.body);
}

function scryptKey(passphrase: string, salt: Buffer, logN: number): Promise<Buffer> {
  const N = 2 ** logN;
  // Node's default memory cap (32 MiB) stops at N = 2^15; age files use 2^18 and more.
  const options = { N, r: 8, p: 1, maxmem: 128 * N * 8 + 32 * 1024 * 1024 };
  const fullSalt = Buffer.concat([Buffer.from(SCRYPT_LABEL, 'latin1'), salt]);
  return new Promise((resolve, reject) => {
    scrypt(Buffer.from(passphrase, 'utf8'), fullSalt, 32, options, (error, key) => {
      if (error) reject(new LifeboatError('crypto', `scrypt (work factor ${logN}) failed: ${error.message}`));
      else resolve(key);
    });
  });
}

async function unwrapScrypt(stanza: Stanza, passphrase: string): Promise<Buffer | undefined> {
  const [saltText = '', logNText = ''] = stanza.args;
  const salt = decodeBase64(saltText);
  const wellFormed = stanza.args.length === 2 && salt?.length === 16 && /^[1-9][0-9]*$/.test(logNText);
  if (!salt || !wellFormed || stanza.body.length !== FILE_KEY_SIZE + 16) {
    throw formatError('the passphrase (scrypt) stanza is malformed');
  }
  const logN = Number(logNText);
  if (logN > MAX_SCRYPT_WORK_FACTOR) {
    const message = `The archive's passphrase work factor is ${logN}; Lifeboat refuses factors above ${MAX_SCRYPT_WORK_FACTOR}.`;
    const hint = 'Each step doubles memory and time (22 needs 4 GiB); the age CLI writes 18.';
    throw new LifeboatError('unsupported', message, { hint });
  }
  return open(await scryptKey(passphrase, salt, logN), ZERO_NONCE, stanza.body);
}

function cryptoError(message: string, hint: string): LifeboatError {
  return new LifeboatError('crypto', message, { hint });
}

/** Validates the keys now (so a bad key fails before any data flows) and returns the header builder. */
export function headerBuilder(keys: EncryptKeys): (fileKey: Buffer) => Promise<Buffer> {
  if ('passphrase' in keys) {
    const { passphrase } = keys;
    if (passphrase.length === 0)
      throw new LifeboatError('key', 'The passphrase is empty.', { hint: 'Set a long random passphrase.' });
    return async (fileKey) => {
      const salt = randomBytes(16);
      const wrapKey = await scryptKey(passphrase, salt, SCRYPT_WORK_FACTOR);
      const args = [encodeBase64(salt), String(SCRYPT_WORK_FACTOR)];
      return formatHeader([{ type: 'scrypt', args, body: seal(wrapKey, ZERO_NONCE, fileKey) }], fileKey);
    };
  }
  const recipients = x25519Recipients(keys.recipients);
  return async (fileKey) =>
    formatHeader(
      recipients.map((to) => wrapX25519(fileKey, to)),
      fileKey,
    );
}

async function unlockWithPassphrase(stanzas: Stanza[], passphrase: string): Promise<Buffer> {
  const stanza = stanzas.find((candidate) => candidate.type === 'scrypt');
  if (!stanza) {
    const hint = 'Decrypt it with the identity (AGE-SECRET-KEY-1…) that matches its recipient.';
    throw cryptoError('The archive is encrypted to age public keys, not with a passphrase.', hint);
  }
  const fileKey = await unwrapScrypt(stanza, passphrase);
  if (!fileKey)
    throw cryptoError('Wrong passphrase: it does not unlock this archive.', 'Check the passphrase.');
  return fileKey;
}

function unlockWithIdentities(stanzas: Stanza[], identities: X25519Identity[]): Buffer {
  if (stanzas.some((stanza) => stanza.type === 'scrypt')) {
    const hint = 'Decrypt it with the passphrase it was encrypted with.';
    throw cryptoError('The archive is passphrase-encrypted; an identity cannot open it.', hint);
  }
  const x25519 = stanzas.filter((stanza) => stanza.type === 'X25519');
  for (const stanza of x25519) {
    for (const identity of identities) {
      const fileKey = unwrapX25519(stanza, identity);
      if (fileKey) return fileKey;
    }
  }
  throw cryptoError(
    `No identity matches: none of the ${identities.length} given identities is among the archive's ` +
      `${x25519.length} X25519 recipients.`,
    'Use the identity whose public key the backup was encrypted to; `age-keygen -y key.txt` prints it.',
  );
}

/** Validates the keys now and returns the function that recovers (and MAC-checks) a header's file key. */
export function headerUnlocker(keys: DecryptKeys): (header: ParsedHeader) => Promise<Buffer> {
  const identities = 'identities' in keys ? x25519Identities(keys.identities) : [];
  return async (header) => {
    const { stanzas } = header;
    if (stanzas.length > 1 && stanzas.some((stanza) => stanza.type === 'scrypt')) {
      throw formatError('a scrypt stanza must be the only one');
    }
    const fileKey =
      'passphrase' in keys
        ? await unlockWithPassphrase(stanzas, keys.passphrase)
        : unlockWithIdentities(stanzas, identities);
    if (fileKey.length !== FILE_KEY_SIZE || !verifyHeaderMac(header, fileKey)) {
      throw new LifeboatError('integrity', 'The archive header was altered: its MAC does not match.', {
        hint: 'The archive is damaged or was tampered with; use another backup.',
      });
    }
    return fileKey;
  };
}
