/**
 * Our age implementation against the reference ones: the age and age-keygen CLIs (Go) and the
 * age-encryption package (TypeScript), in both directions, so a backup stays recoverable by hand.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Decrypter, Encrypter } from 'age-encryption';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDecryptStream,
  createEncryptStream,
  decryptBytes,
  encryptBytes,
  generateIdentity,
  parseIdentities,
  recipientOf,
} from '../../src/archive/age/index.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lifeboat-age-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs a tool without a shell, feeding `input` on stdin; resolves with stdout, rejects on a non-zero exit. */
function tool(command: string, args: string[], input?: Buffer | string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      args,
      { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error)
          reject(new Error(`${command} ${args.join(' ')} failed: ${stderr.toString()}`, { cause: error }));
        else resolve(stdout);
      },
    );
    // A tool that exits without reading stdin fails our write with EPIPE; its exit status tells.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input ?? '');
  });
}

/** The age CLI reads passphrases only from a terminal; `script` gives it one and relays our typing. */
function ageWithTerminal(args: string[], typed: string): Promise<void> {
  const quoted = ['age', ...args].map((arg) => `'${arg.replaceAll("'", "'\\''")}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', quoted, '/dev/null'], { stdio: ['pipe', 'ignore', 'ignore'] });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`age ${args.join(' ')} exited ${code}`)),
    );
    child.stdin.on('error', () => undefined);
    child.stdin.end(typed);
  });
}

async function keygen(): Promise<{ file: string; identity: string; recipient: string; text: string }> {
  const text = (await tool('age-keygen', [])).toString();
  const [identity = ''] = parseIdentities(text, 'age-keygen output');
  const recipient = /# public key: (age1\S+)/.exec(text)?.[1] ?? '';
  const file = join(dir, `key-${randomBytes(4).toString('hex')}.txt`);
  await writeFile(file, text);
  return { file, identity, recipient, text };
}

async function ourKeyFile(): Promise<{ file: string; identity: string; recipient: string; text: string }> {
  const pair = generateIdentity();
  const file = join(dir, `ours-${randomBytes(4).toString('hex')}.txt`);
  const text = `# public key: ${pair.recipient}\n${pair.identity}\n`;
  await writeFile(file, text);
  return { file, text, ...pair };
}

async function tempFile(contents: Buffer): Promise<string> {
  const file = join(dir, `data-${randomBytes(4).toString('hex')}`);
  await writeFile(file, contents);
  return file;
}

const SIZES = [0, 65536, 5 * 1024 * 1024 + 123];

describe('age keys interoperate', () => {
  it('reads age-keygen key files and derives the same public key', async () => {
    const key = await keygen();
    expect(recipientOf(key.identity)).toBe(key.recipient);
    expect((await tool('age-keygen', ['-y', key.file])).toString().trim()).toBe(key.recipient);
  });

  it('writes identities that age-keygen reads', async () => {
    const ours = await ourKeyFile();
    expect((await tool('age-keygen', ['-y', ours.file])).toString().trim()).toBe(ours.recipient);
  });
});

describe('our encryption decrypts with the age CLI', () => {
  it.each(SIZES)('to an age-keygen key and to one of ours (%i bytes)', async (size) => {
    const data = randomBytes(size);
    for (const key of [await keygen(), await ourKeyFile()]) {
      const encrypted = join(dir, `enc-${randomBytes(4).toString('hex')}.age`);
      const encryptor = createEncryptStream({ recipients: [key.recipient] });
      await pipeline(Readable.from([data]), encryptor, createWriteStream(encrypted));
      const decrypted = await tool('age', ['-d', '-i', key.file, encrypted]);
      expect(decrypted.equals(data)).toBe(true);
    }
  });

  it('to several recipients, each of which decrypts', async () => {
    const keys = [await keygen(), await ourKeyFile(), await keygen()];
    const data = randomBytes(300_000);
    const encrypted = await tempFile(
      await encryptBytes(data, { recipients: keys.map((key) => key.recipient) }),
    );
    for (const key of keys) {
      expect((await tool('age', ['-d', '-i', key.file, encrypted])).equals(data)).toBe(true);
    }
  });

  it('and the age CLI rejects what was tampered with', async () => {
    const key = await keygen();
    const encrypted = await encryptBytes(randomBytes(100_000), { recipients: [key.recipient] });
    encrypted[encrypted.length - 20] = (encrypted[encrypted.length - 20] ?? 0) ^ 1;
    await expect(tool('age', ['-d', '-i', key.file, await tempFile(encrypted)])).rejects.toThrow(
      /age: error/,
    );
  });
});

describe('encryption by the age CLI decrypts with ours', () => {
  it.each(SIZES)('from `age -r` to an age-keygen key and to one of ours (%i bytes)', async (size) => {
    const data = randomBytes(size);
    for (const key of [await keygen(), await ourKeyFile()]) {
      const encrypted = await tool('age', ['-r', key.recipient], data);
      const decrypted = await decryptBytes(encrypted, { identities: [key.identity] });
      expect(decrypted.equals(data)).toBe(true);
    }
  });

  it('from `age -R` with several recipients, streamed in odd pieces', async () => {
    const keys = [await keygen(), await ourKeyFile(), await keygen()];
    const recipientsFile = await tempFile(Buffer.from(keys.map((key) => key.recipient).join('\n') + '\n'));
    const data = randomBytes(3 * 1024 * 1024 + 7);
    const encrypted = await tool('age', ['-R', recipientsFile, '-o', '-'], data);
    for (const key of keys) {
      const decryptor = createDecryptStream({ identities: parseIdentities(key.text, 'key file') });
      const parts: Buffer[] = [];
      const pieces = Array.from({ length: Math.ceil(encrypted.length / 10_007) }, (_, index) =>
        encrypted.subarray(index * 10_007, (index + 1) * 10_007),
      );
      await pipeline(Readable.from(pieces), decryptor, async (source: AsyncIterable<Buffer>) => {
        for await (const part of source) parts.push(part);
      });
      expect(Buffer.concat(parts).equals(data)).toBe(true);
    }
  });
});

describe('passphrases interoperate', () => {
  const passphrase = 'lifeboat interop passphrase';

  it('our passphrase encryption decrypts with age-encryption', async () => {
    const data = randomBytes(2 * 1024 * 1024 + 1);
    const encrypted = await encryptBytes(data, { passphrase });
    const decrypter = new Decrypter();
    decrypter.addPassphrase(passphrase);
    expect(Buffer.from(await decrypter.decrypt(encrypted)).equals(data)).toBe(true);
  });

  it('age-encryption passphrase encryption decrypts with ours', async () => {
    const data = randomBytes(2 * 1024 * 1024 + 1);
    const encrypter = new Encrypter();
    encrypter.setPassphrase(passphrase);
    const encrypted = Buffer.from(await encrypter.encrypt(data));
    expect((await decryptBytes(encrypted, { passphrase })).equals(data)).toBe(true);
    await expect(decryptBytes(encrypted, { passphrase: 'not it' })).rejects.toThrow(/Wrong passphrase/);
  });

  it('our passphrase encryption decrypts with the age CLI, and the other way round', async () => {
    const data = randomBytes(1024 * 1024 + 5);
    const ours = await tempFile(await encryptBytes(data, { passphrase }));
    const decrypted = join(dir, 'cli-decrypted');
    await ageWithTerminal(['-d', '-o', decrypted, ours], `${passphrase}\n`);
    expect((await readFile(decrypted)).equals(data)).toBe(true);

    const plain = await tempFile(data);
    const theirs = join(dir, 'cli-encrypted.age');
    await ageWithTerminal(['-p', '-o', theirs, plain], `${passphrase}\n${passphrase}\n`);
    expect((await decryptBytes(await readFile(theirs), { passphrase })).equals(data)).toBe(true);
  });
});

describe('age-encryption (TypeScript) interoperates with X25519 keys', () => {
  it('both ways', async () => {
    const pair = generateIdentity();
    const data = randomBytes(200_000);
    const decrypter = new Decrypter();
    decrypter.addIdentity(pair.identity);
    const ours = await encryptBytes(data, { recipients: [pair.recipient] });
    expect(Buffer.from(await decrypter.decrypt(ours)).equals(data)).toBe(true);

    const encrypter = new Encrypter();
    encrypter.addRecipient(pair.recipient);
    const theirs = Buffer.from(await encrypter.encrypt(data));
    expect((await decryptBytes(theirs, { identities: [pair.identity] })).equals(data)).toBe(true);
  });
});
