/**
 * Throughput of the age streams on 512 MiB held in memory, next to SHA-256 over the same bytes
 * as a yardstick for what the machine does natively. Each is run three times and the best run
 * is printed, because other work on a shared runner easily halves a single run. Not part of the
 * tests:  npx tsx bench/age-throughput.ts
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createDecryptStream, createEncryptStream, generateIdentity } from '../src/archive/age/index.js';

const TOTAL = 512 * 1024 * 1024;
// Pieces the size a pipe or file stream delivers, so the streams see realistic writes.
const PIECE = 64 * 1024;
const ROUNDS = 3;

function* pieces(source: Buffer, total: number): Generator<Buffer> {
  for (let at = 0; at < total; at += PIECE) {
    const offset = at % source.length;
    yield source.subarray(offset, Math.min(offset + PIECE, source.length));
  }
}

function sink(onChunk: (chunk: Buffer) => void): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      onChunk(chunk);
      callback();
    },
  });
}

async function measure(label: string, run: () => Promise<void>): Promise<void> {
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const started = process.hrtime.bigint();
    await run();
    best = Math.min(best, Number(process.hrtime.bigint() - started) / 1e9);
  }
  console.log(
    `${label.padEnd(8)} ${(TOTAL / 1e6 / best).toFixed(0).padStart(6)} MB/s  (best of ${ROUNDS}: ${best.toFixed(2)} s)`,
  );
}

const pattern = randomBytes(16 * 1024 * 1024);
const { identity, recipient } = generateIdentity();
// One buffer touched in advance, as a file's page cache would be: fresh memory or thousands of
// retained small buffers would measure page faults and the garbage collector, not the cipher.
const ciphertext = Buffer.alloc(TOTAL + TOTAL / 1024 + 4096).fill(1);
let written = 0;

await measure('sha256', async () => {
  const hash = createHash('sha256');
  await pipeline(Readable.from(pieces(pattern, TOTAL)), hash);
  hash.read();
});
await measure('encrypt', async () => {
  written = 0;
  const encrypt = createEncryptStream({ recipients: [recipient] });
  await pipeline(
    Readable.from(pieces(pattern, TOTAL)),
    encrypt,
    sink((chunk) => (written += chunk.copy(ciphertext, written))),
  );
});
await measure('decrypt', async () => {
  let decrypted = 0;
  const decrypt = createDecryptStream({ identities: [identity] });
  const encrypted = ciphertext.subarray(0, written);
  await pipeline(
    Readable.from(pieces(encrypted, written)),
    decrypt,
    sink((chunk) => (decrypted += chunk.length)),
  );
  if (decrypted !== TOTAL) throw new Error(`decrypted ${decrypted} bytes, expected ${TOTAL}`);
});
