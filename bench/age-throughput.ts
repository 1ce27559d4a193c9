/**
 * Throughput of the age streams and SHA-256 on bytes held in memory, alone and chained as
 * the backup (encrypt → hash) and the read-back (hash → decrypt) chain them. Each is run
 * five times, each time once the machine is quiet, and the best run is kept, because other
 * work on a shared runner easily halves a single run. Rates are per second of CPU (what one
 * core does) and per second of wall time. `npm run bench` runs it in a child process; alone:
 *
 *   npx tsx bench/age-throughput.ts [--json]
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { Readable, Transform, Writable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { createDecryptStream, createEncryptStream, generateIdentity } from '../src/archive/age/index.js';
import { waitForQuiet } from './measure.js';

const run = promisify(execFile);

// Pieces the size a pipe or file stream delivers, so the streams see realistic writes.
const PIECE = 64 * 1024;

/**
 * Plaintext bytes per second, best of `rounds`: per second of CPU this process used (what one
 * core does, however busy the machine), and per second of wall time.
 */
export interface Rate {
  perCpuSecond: number;
  wall: number;
}

export interface CryptoThroughput {
  sha256: Rate;
  encrypt: Rate;
  decrypt: Rate;
  /** encrypt then SHA-256 of the ciphertext in one stream, as the backup writes. */
  encryptAndHash: Rate;
  /** SHA-256 then decrypt, as the read-back and the drill read. */
  hashAndDecrypt: Rate;
  totalBytes: number;
  rounds: number;
}

function* pieces(source: Buffer, total: number): Generator<Buffer> {
  for (let at = 0; at < total; at += PIECE) {
    const offset = at % source.length;
    yield source.subarray(offset, Math.min(offset + PIECE, source.length, offset + total - at));
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

/** A pass-through SHA-256, like the pipeline's HashCounter. */
function hasher(): Transform {
  const hash = createHash('sha256');
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      hash.update(chunk);
      callback(null, chunk);
    },
    flush(callback) {
      hash.digest();
      callback();
    },
  });
}

async function best(
  rounds: number,
  total: number,
  run: () => Promise<void>,
  beforeRound: () => Promise<unknown>,
): Promise<Rate> {
  let wall = Infinity;
  let cpu = Infinity;
  for (let round = 0; round < rounds; round++) {
    await beforeRound();
    const started = process.hrtime.bigint();
    const usage = process.cpuUsage();
    await run();
    const used = process.cpuUsage(usage);
    wall = Math.min(wall, Number(process.hrtime.bigint() - started) / 1e9);
    cpu = Math.min(cpu, (used.user + used.system) / 1e6);
  }
  return { perCpuSecond: total / cpu, wall: total / wall };
}

export async function measureCryptoThroughput(
  options: {
    totalBytes?: number;
    rounds?: number;
    /** Awaited before every round (the benchmark waits for the machine to go quiet). */
    beforeRound?: () => Promise<unknown>;
  } = {},
): Promise<CryptoThroughput> {
  const total = options.totalBytes ?? 512 * 1024 * 1024;
  const rounds = options.rounds ?? 5;
  const before = options.beforeRound ?? (() => Promise.resolve());
  const pattern = randomBytes(16 * 1024 * 1024);
  const { identity, recipient } = generateIdentity();
  // One buffer touched in advance, as a file's page cache would be: fresh memory or thousands of
  // retained small buffers would measure page faults and the garbage collector, not the cipher.
  const ciphertext = Buffer.alloc(total + total / 1024 + 4096).fill(1);
  let written = 0;
  const source = () => Readable.from(pieces(pattern, total));
  const encrypted = () => Readable.from(pieces(ciphertext.subarray(0, written), written));
  const counting = () => {
    let seen = 0;
    return {
      sink: sink((chunk) => (seen += chunk.length)),
      check: () => {
        if (seen !== total) throw new Error(`decrypted ${seen} bytes, expected ${total}`);
      },
    };
  };

  const sha256 = await best(
    rounds,
    total,
    async () => {
      const hash = createHash('sha256');
      await pipeline(source(), hash);
      hash.read();
    },
    before,
  );
  const encrypt = await best(
    rounds,
    total,
    async () => {
      written = 0;
      await pipeline(
        source(),
        createEncryptStream({ recipients: [recipient] }),
        sink((chunk) => (written += chunk.copy(ciphertext, written))),
      );
    },
    before,
  );
  const decrypt = await best(
    rounds,
    total,
    async () => {
      const out = counting();
      await pipeline(encrypted(), createDecryptStream({ identities: [identity] }), out.sink);
      out.check();
    },
    before,
  );
  const encryptAndHash = await best(
    rounds,
    total,
    async () => {
      await pipeline(
        source(),
        createEncryptStream({ recipients: [recipient] }),
        hasher(),
        sink(() => undefined),
      );
    },
    before,
  );
  const hashAndDecrypt = await best(
    rounds,
    total,
    async () => {
      const out = counting();
      await pipeline(encrypted(), hasher(), createDecryptStream({ identities: [identity] }), out.sink);
      out.check();
    },
    before,
  );
  return { sha256, encrypt, decrypt, encryptAndHash, hashAndDecrypt, totalBytes: total, rounds };
}

/**
 * Runs the measurement in a fresh process, as `npm run bench` does: a long-lived process that
 * has done other work measures its own allocator and garbage collector as much as the cipher.
 */
export async function measureInChildProcess(): Promise<CryptoThroughput> {
  const self = fileURLToPath(import.meta.url);
  const { stdout } = await run(process.execPath, ['--import', 'tsx', self, '--json'], {
    cwd: path.resolve(path.dirname(self), '..'),
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout) as CryptoThroughput;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await measureCryptoThroughput({ beforeRound: () => waitForQuiet(20) });
  if (process.argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    for (const [label, rate] of Object.entries(result)) {
      if (typeof rate === 'number') continue;
      const mb = (n: number) => (n / 1e6).toFixed(0).padStart(6);
      console.log(`${label.padEnd(16)} ${mb(rate.perCpuSecond)} MB per CPU second ${mb(rate.wall)} MB/s`);
    }
    console.log(`(${result.totalBytes / 2 ** 20} MiB in memory, best of ${result.rounds})`);
  }
}
