import { randomBytes } from 'node:crypto';
import { Readable, Writable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { LifeboatError, type ErrorCode } from '../../src/errors.js';
import {
  createDecryptStream,
  createEncryptStream,
  decryptBytes,
  encryptBytes,
  generateIdentity,
  parseIdentities,
  parseRecipients,
  recipientOf,
} from '../../src/archive/age/index.js';
import {
  encodeBase64,
  findHeaderEnd,
  formatHeader,
  parseHeader,
  verifyHeaderMac,
  type Stanza,
} from '../../src/archive/age/header.js';

const CHUNK = 64 * 1024;
const SEALED = CHUNK + 16;
const alice = generateIdentity();
const bob = generateIdentity();
const toAlice = { recipients: [alice.recipient] };
const asAlice = { identities: [alice.identity] };

/** Runs `input` through `stream` in pieces of `pieceSize`, keeping what came out before any failure. */
async function run(
  stream: Transform,
  input: Buffer,
  pieceSize = CHUNK,
): Promise<{ output: Buffer; error?: unknown }> {
  const parts: Buffer[] = [];
  const pieces = function* () {
    for (let at = 0; at < input.length; at += pieceSize) yield input.subarray(at, at + pieceSize);
  };
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      parts.push(chunk);
      callback();
    },
  });
  try {
    await pipeline(Readable.from(pieces()), stream, sink);
    return { output: Buffer.concat(parts) };
  } catch (error) {
    return { output: Buffer.concat(parts), error };
  }
}

function expectLifeboatError(error: unknown, code: ErrorCode, message: RegExp): void {
  expect(error).toBeInstanceOf(LifeboatError);
  expect((error as LifeboatError).code).toBe(code);
  expect((error as LifeboatError).message).toMatch(message);
}

async function decryptFailure(
  data: Buffer,
  keys: Parameters<typeof decryptBytes>[1] = asAlice,
): Promise<unknown> {
  return decryptBytes(data, keys).then(
    () => expect.fail('decryption should have failed'),
    (error: unknown) => error,
  );
}

function payloadStart(file: Buffer): number {
  return findHeaderEnd(file) + 16;
}

function flipped(file: Buffer, at: number): Buffer {
  const copy = Buffer.from(file);
  copy[at] = (copy[at] ?? 0) ^ 0x01;
  return copy;
}

describe('age keys', () => {
  it('generates an identity whose recipient recipientOf derives again', () => {
    expect(alice.identity).toMatch(/^AGE-SECRET-KEY-1[0-9A-Z]{58}$/);
    expect(alice.recipient).toMatch(/^age1[0-9a-z]{58}$/);
    expect(recipientOf(alice.identity)).toBe(alice.recipient);
    expect(alice.identity).not.toBe(bob.identity);
  });

  it('splits recipients on commas, spaces and newlines and drops duplicates', () => {
    const text = ` ${alice.recipient},${bob.recipient}\n\n${alice.recipient}\t`;
    expect(parseRecipients(text, 'encryption-recipient')).toEqual([alice.recipient, bob.recipient]);
  });

  it('names the input and the accepted form when a recipient is malformed', () => {
    const mistyped = alice.recipient.slice(0, -1) + (alice.recipient.endsWith('q') ? 'p' : 'q');
    expect(() => parseRecipients(`${bob.recipient} ${mistyped}`, 'encryption-recipient')).toThrow(
      /Entry 2 of encryption-recipient .*checksum.*accepts age public keys \(age1…\)/,
    );
    expect(() => parseRecipients('ssh-ed25519 AAAAC3Nza', 'encryption-recipient')).toThrow(/SSH public key/);
    expect(() => parseRecipients('AGE1' + alice.recipient.slice(4).toUpperCase(), 'r')).toThrow(/upper-case/);
  });

  it('refuses a secret key given as a recipient without repeating it', () => {
    const error = (() => {
      try {
        parseRecipients(alice.identity, 'encryption-recipient');
      } catch (caught) {
        return caught;
      }
    })();
    expectLifeboatError(error, 'key', /encryption-recipient.*secret identity/);
    expect(String((error as Error).message)).not.toContain(alice.identity.slice(16, 40));
  });

  it('refuses an empty recipient list', () => {
    expect(() => parseRecipients(' ,\n', 'encryption-recipient')).toThrow(/encryption-recipient is empty/);
  });

  it('reads identities from a key file, skipping comments and blank lines (CRLF too)', () => {
    const file = `# created: 2024-01-01T00:00:00Z\r\n# public key: ${alice.recipient}\r\n${alice.identity}\r\n\r\n${bob.identity}\n`;
    expect(parseIdentities(file, 'encryption-identity')).toEqual([alice.identity, bob.identity]);
  });

  it('never puts identity text into its errors', () => {
    const broken = alice.identity.slice(0, -2);
    const cases: [string, RegExp][] = [
      [`# key\n${broken}`, /Line 2 of encryption-identity is mistyped or truncated/],
      [alice.identity.toLowerCase(), /lower-case/],
      [alice.recipient, /is a public key/],
      ['', /holds no age identity/],
    ];
    for (const [text, message] of cases) {
      let error: unknown;
      try {
        parseIdentities(text, 'encryption-identity');
      } catch (caught) {
        error = caught;
      }
      expectLifeboatError(error, 'key', message);
      expect((error as Error).message.toUpperCase()).not.toContain(alice.identity.slice(16, 40));
    }
    expect(() => recipientOf(broken)).toThrow(/not an age identity/);
  });
});

describe('age header', () => {
  const fileKey = randomBytes(16);
  const stanzas: Stanza[] = [
    { type: 'X25519', args: [encodeBase64(randomBytes(32))], body: randomBytes(32) },
    // 48 bytes are exactly one full 64-character line, which must be followed by an empty one.
    { type: 'other', args: ['a', 'b'], body: randomBytes(48) },
    { type: 'empty', args: [], body: Buffer.alloc(0) },
    { type: 'long', args: ['x'], body: randomBytes(200) },
  ];

  it('round-trips stanzas and verifies its MAC', () => {
    const header = formatHeader(stanzas, fileKey);
    expect(header.toString('latin1')).toContain('\n\n-> empty\n\n');
    expect(findHeaderEnd(Buffer.concat([header, Buffer.from('payload')]))).toBe(header.length);
    expect(findHeaderEnd(header.subarray(0, header.length - 1))).toBe(-1);
    const parsed = parseHeader(header);
    expect(parsed.stanzas).toEqual(stanzas);
    expect(verifyHeaderMac(parsed, fileKey)).toBe(true);
    expect(verifyHeaderMac(parsed, randomBytes(16))).toBe(false);
  });

  it('rejects malformed headers as format errors', () => {
    const good = formatHeader(stanzas.slice(0, 1), fileKey).toString('latin1');
    const bad = [
      good.replace('age-encryption.org/v1', 'age-encryption.org/v2'),
      good.replace(/\n--- .*\n$/, '\n--- short\n'),
      good.replace('-> X25519 ', '-> X25519  '),
      good.replace(/\n([A-Za-z0-9+/]{43})\n/, (_line, body: string) => `\n${body.slice(0, -1)}B\n`),
      good.replace(/\n([A-Za-z0-9+/]{43})\n/, '\n$1=\n'),
    ];
    for (const text of bad) {
      expect(() => parseHeader(Buffer.from(text, 'latin1'))).toThrow(LifeboatError);
    }
  });
});

describe('age streams', () => {
  it.each([0, 1, 65535, 65536, 65537, 3 * 65536])(
    'round-trips %i bytes in the expected number of chunks',
    async (size) => {
      const data = randomBytes(size);
      const file = await encryptBytes(data, toAlice);
      const chunks = Math.max(1, Math.ceil(size / CHUNK));
      expect(file.length - payloadStart(file)).toBe(size + chunks * 16);
      expect((await decryptBytes(file, asAlice)).equals(data)).toBe(true);
    },
  );

  it('gives the same result whatever sizes the input arrives in', async () => {
    const data = randomBytes(3 * CHUNK + 12345);
    const encryptor = createEncryptStream(toAlice);
    const pieces = [
      data.subarray(0, 1),
      data.subarray(1, 70_001),
      data.subarray(70_001, 201_074),
      data.subarray(201_074),
    ];
    const collected: Buffer[] = [];
    encryptor.on('data', (chunk: Buffer) => collected.push(chunk));
    const ended = new Promise((resolve) => encryptor.on('end', resolve));
    for (const piece of pieces) encryptor.write(piece);
    encryptor.end();
    await ended;
    const file = Buffer.concat(collected);
    for (const pieceSize of [1, 7, 1000, SEALED, SEALED + 1, 1 << 20]) {
      const { output, error } = await run(createDecryptStream(asAlice), file, pieceSize);
      expect(error).toBeUndefined();
      expect(output.equals(data)).toBe(true);
    }
  });

  it('encrypts to several recipients, any of whose identities decrypts', async () => {
    const carol = generateIdentity();
    const file = await encryptBytes(Buffer.from('shared'), {
      recipients: [alice.recipient, bob.recipient, carol.recipient],
    });
    expect(parseHeader(file.subarray(0, findHeaderEnd(file))).stanzas).toHaveLength(3);
    for (const who of [alice, bob, carol]) {
      expect((await decryptBytes(file, { identities: [who.identity] })).toString()).toBe('shared');
    }
    expect(
      (await decryptBytes(file, { identities: [generateIdentity().identity, bob.identity] })).toString(),
    ).toBe('shared');
  });

  it('refuses bad keys before any data flows', () => {
    expect(() => createEncryptStream({ recipients: [] })).toThrow(/No recipient/);
    expect(() => createEncryptStream({ recipients: ['age1nope'] })).toThrow(
      /Recipient 1 is not an age public key/,
    );
    expect(() => createEncryptStream({ passphrase: '' })).toThrow(/passphrase is empty/);
    expect(() => createDecryptStream({ identities: [alice.recipient] })).toThrow(
      /Identity 1 is not an age identity/,
    );
  });

  it('reports a wrong identity as a crypto error', async () => {
    const file = await encryptBytes(Buffer.from('secret'), toAlice);
    expectLifeboatError(
      await decryptFailure(file, { identities: [bob.identity] }),
      'crypto',
      /No identity matches/,
    );
  });

  it('reports input that is not age as a format error', async () => {
    expectLifeboatError(await decryptFailure(randomBytes(5000)), 'format', /not an age-encrypted file/);
    expectLifeboatError(await decryptFailure(Buffer.alloc(0)), 'format', /empty or too short/);
    const armored = Buffer.from(
      '-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n-----END AGE ENCRYPTED FILE-----\n',
    );
    expectLifeboatError(await decryptFailure(armored), 'format', /ASCII-armored/);
  });

  it('refuses a low-order X25519 share', async () => {
    const stanza = { type: 'X25519', args: [encodeBase64(Buffer.alloc(32))], body: randomBytes(32) };
    const file = Buffer.concat([formatHeader([stanza], randomBytes(16)), randomBytes(100)]);
    expectLifeboatError(await decryptFailure(file), 'format', /invalid ephemeral share/);
  });
});

describe('age integrity', () => {
  const data = randomBytes(3 * CHUNK + 100);
  let file: Buffer;
  let start: number;

  beforeAll(async () => {
    file = await encryptBytes(data, toAlice);
    start = payloadStart(file);
  });

  it('detects truncation exactly on a chunk boundary', async () => {
    const error = await decryptFailure(file.subarray(0, start + 3 * SEALED));
    expectLifeboatError(error, 'integrity', /ends early: it stops on a chunk boundary after chunk 3/);
  });

  it('detects a file of whole chunks losing its final chunk', async () => {
    const whole = await encryptBytes(randomBytes(3 * CHUNK), toAlice);
    const error = await decryptFailure(whole.subarray(0, payloadStart(whole) + 2 * SEALED));
    expectLifeboatError(
      error,
      'integrity',
      /ends early: it stops on a chunk boundary after chunk 2 .*not the final chunk/,
    );
  });

  it('detects truncation inside a chunk, the nonce, the header, and an empty payload', async () => {
    expectLifeboatError(await decryptFailure(file.subarray(0, start + SEALED + 500)), 'integrity', /chunk 2/);
    expectLifeboatError(
      await decryptFailure(file.subarray(0, start + SEALED + 5)),
      'integrity',
      /inside chunk 2/,
    );
    expectLifeboatError(await decryptFailure(file.subarray(0, start)), 'integrity', /payload has no chunks/);
    expectLifeboatError(await decryptFailure(file.subarray(0, start - 3)), 'integrity', /before the payload/);
    expectLifeboatError(await decryptFailure(file.subarray(0, 40)), 'integrity', /inside its age header/);
  });

  it('detects data after the final chunk', async () => {
    const full = await encryptBytes(randomBytes(CHUNK), toAlice);
    const error = await decryptFailure(Buffer.concat([full, Buffer.from('extra')]));
    expectLifeboatError(error, 'integrity', /unexpected data after its final chunk, chunk 1/);
    const short = await encryptBytes(Buffer.from('short'), toAlice);
    expectLifeboatError(
      await decryptFailure(Buffer.concat([short, Buffer.from('x')])),
      'integrity',
      /chunk 1/,
    );
  });

  it('never emits the plaintext of a chunk that fails authentication', async () => {
    const { output, error } = await run(createDecryptStream(asAlice), flipped(file, start + SEALED + 10));
    expectLifeboatError(error, 'integrity', /Authentication failed for chunk 2 \(plaintext offset 65536\)/);
    expect(output.equals(data.subarray(0, CHUNK))).toBe(true);
  });

  it('fails the stream instead of ending it cleanly', async () => {
    const stream = createDecryptStream(asAlice);
    let ended = false;
    stream.on('end', () => (ended = true));
    const { error } = await run(stream, file.subarray(0, start + SEALED));
    expect(error).toBeInstanceOf(LifeboatError);
    expect(ended).toBe(false);
    expect(stream.destroyed).toBe(true);
  });

  it('detects a flipped byte in the header MAC, the payload nonce and the last chunk', async () => {
    const macAt = file.indexOf('\n--- ') + 10;
    // Swap in another base64 letter: a flipped bit could leave the alphabet and fail as a format error.
    const altered = Buffer.from(file);
    altered[macAt] = altered[macAt] === 0x41 ? 0x42 : 0x41;
    expectLifeboatError(await decryptFailure(altered), 'integrity', /header was altered/);
    expectLifeboatError(await decryptFailure(flipped(file, start - 1)), 'integrity', /chunk 1/);
    expectLifeboatError(await decryptFailure(flipped(file, file.length - 1)), 'integrity', /chunk 4/);
  });
});

describe('age passphrases', () => {
  const passphrase = 'correct horse battery staple';
  let file: Buffer;

  beforeAll(async () => {
    file = await encryptBytes(Buffer.from('by passphrase'), { passphrase });
  });

  it('encrypts with scrypt at work factor 18 and decrypts with the same passphrase', async () => {
    const header = parseHeader(file.subarray(0, findHeaderEnd(file)));
    expect(header.stanzas).toHaveLength(1);
    expect(header.stanzas[0]?.type).toBe('scrypt');
    expect(header.stanzas[0]?.args[1]).toBe('18');
    expect((await decryptBytes(file, { passphrase })).toString()).toBe('by passphrase');
  });

  it('tells a wrong passphrase and the wrong kind of key apart', async () => {
    expectLifeboatError(await decryptFailure(file, { passphrase: 'wrong' }), 'crypto', /Wrong passphrase/);
    expectLifeboatError(await decryptFailure(file, asAlice), 'crypto', /passphrase-encrypted/);
    const toKey = await encryptBytes(Buffer.from('x'), toAlice);
    expectLifeboatError(await decryptFailure(toKey, { passphrase }), 'crypto', /not with a passphrase/);
  });

  it('refuses a work factor above 22 without attempting it', async () => {
    const stanza = { type: 'scrypt', args: [encodeBase64(randomBytes(16)), '23'], body: randomBytes(32) };
    const forged = Buffer.concat([formatHeader([stanza], randomBytes(16)), randomBytes(100)]);
    const started = Date.now();
    expectLifeboatError(
      await decryptFailure(forged, { passphrase }),
      'unsupported',
      /work factor is 23.*above 22/,
    );
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('rejects a scrypt stanza beside other stanzas', async () => {
    const scrypt = { type: 'scrypt', args: [encodeBase64(randomBytes(16)), '10'], body: randomBytes(32) };
    const other = { type: 'X25519', args: [encodeBase64(randomBytes(32))], body: randomBytes(32) };
    const forged = Buffer.concat([formatHeader([scrypt, other], randomBytes(16)), randomBytes(100)]);
    expectLifeboatError(await decryptFailure(forged, { passphrase }), 'format', /only one/);
  });
});
