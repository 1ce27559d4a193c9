import type { Readable } from 'node:stream';
import { startChild, type Child } from '../process.js';

/**
 * zstd runs as the `zstd` CLI: multi-threaded, native speed, and the same tool a person
 * uses to recover by hand. Node 20 has no zstd in zlib. Frames carry a content checksum
 * (`--check`), so decompression proves every byte.
 */
export const ZSTD_LEVEL = 3;

const HINT = 'Install zstd (apt-get install zstd, brew install zstd); GitHub-hosted runners have it.';

export function startCompressor(stdin: Readable | 'pipe', level = ZSTD_LEVEL): Child {
  return startChild('zstd', ['-q', '-c', `-${level}`, '-T0', '--check'], {
    label: 'zstd (compress)',
    code: 'internal',
    stdio: [stdin, 'pipe', 'pipe'],
    hint: HINT,
  });
}

export function startDecompressor(): Child {
  return startChild('zstd', ['-q', '-d', '-c'], {
    label: 'zstd (decompress)',
    code: 'integrity',
    stdio: ['pipe', 'pipe', 'pipe'],
    hint: 'The archive decrypted but did not decompress: it was damaged before it was encrypted, or written by another tool.',
  });
}
