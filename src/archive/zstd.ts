import type { Readable, Writable } from 'node:stream';
import { startChild, type Child } from '../process.js';

/**
 * zstd runs as the `zstd` CLI: native speed, and the same tool a person
 * uses to recover by hand. Node 20 has no zstd in zlib. Frames carry a content checksum
 * (`--check`), so decompression proves every byte.
 *
 * Level 2: on application-like data (npm run bench) it compresses as well as
 * `pg_dump --compress=9` and within 2% of level 3, for about two thirds of level 3's CPU,
 * which a 2-core runner shares with pg_dump (docs/performance.md).
 */
export const ZSTD_LEVEL = 2;

const HINT = 'Install zstd (apt-get install zstd, brew install zstd); GitHub-hosted runners have it.';

/**
 * One compression thread (`-T1`, with zstd's I/O on a thread of its own): level 2 compresses
 * about 320 MB/s on one core, faster than one pg_dump hands data over (160-190 MB/s), so more
 * threads gain nothing and cost memory per thread (30 MB instead of 22 on two cores, more on
 * bigger runners). A parallel dump (`dump-jobs`) runs one zstd per part.
 */
export function startCompressor(stdin: Readable | 'pipe', level = ZSTD_LEVEL): Child {
  return startChild('zstd', ['-q', '-c', `-${level}`, '-T1', '--check'], {
    label: 'zstd (compress)',
    code: 'internal',
    stdio: [stdin, 'pipe', 'pipe'],
    hint: HINT,
  });
}

const DECOMPRESS_HINT =
  'The archive decrypted but did not decompress: it was damaged before it was encrypted, or written by another tool.';

/** `zstd -d` writing to `stdout`: a file descriptor, another process's stdin, or a pipe the caller reads. */
export function startDecompressor(stdout: Writable | number | 'pipe' | 'ignore'): Child {
  return startChild('zstd', ['-q', '-d', '-c'], {
    label: 'zstd (decompress)',
    code: 'integrity',
    stdio: ['pipe', stdout, 'pipe'],
    hint: DECOMPRESS_HINT,
  });
}

/** `zstd -t -v`: decompresses everything, keeps nothing, and says how many bytes it made. */
export function startDecompressionTest(): Child {
  return startChild('zstd', ['-t', '-v'], {
    label: 'zstd (decompress)',
    code: 'integrity',
    stdio: ['pipe', 'ignore', 'pipe'],
    hint: DECOMPRESS_HINT,
    // -v also prints zstd's banner, which says nothing about the archive.
    mask: (text) => text.replace(/^\*\*\*.*\*\*\*\s*$/gm, '').trim(),
  });
}

/**
 * The size of the decompressed data, from the line `zstd -t -v` ends with:
 * `/*stdin*\            : 806354944 bytes`. Null when a zstd words it otherwise: the size is
 * informative, the test itself is the exit status.
 */
export function testedBytes(stderr: string): number | null {
  const match = /:\s*(\d+) bytes\s*$/.exec(stderr.trim());
  return match ? Number(match[1]) : null;
}
