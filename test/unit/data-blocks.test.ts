import { describe, expect, it } from 'vitest';
import { DataBlockScanner } from '../../src/postgres/data-blocks.js';

/** An archive int: a sign byte, then `size` little-endian bytes. */
function int(value: number, size = 4): Buffer {
  const out = Buffer.alloc(1 + size);
  out[0] = value < 0 ? 1 : 0;
  let n = Math.abs(value);
  for (let b = 1; b <= size; b++, n = Math.floor(n / 256)) out[b] = n % 256;
  return out;
}

/** A custom-format data section after a head of `head` bytes: blocks of rows, as pg_dump writes them. */
function archive(head: number, blocks: [number, string[]][], size = 4): Buffer {
  const parts: Buffer[] = [Buffer.alloc(head, 7)];
  for (const [id, rows] of blocks) {
    parts.push(Buffer.from([1]), int(id, size));
    for (const row of rows) parts.push(int(Buffer.byteLength(row), size), Buffer.from(row));
    parts.push(int(0, size));
  }
  return Buffer.concat(parts);
}

/** Scans `chunks`, keeping the blocks `keep` names; what each kept block's rows came to, and the events. */
function scan(chunks: Buffer[], head: number, keep: Set<number>, size = 4) {
  const scanner = new DataBlockScanner(size, head);
  const kept = new Map<number, string>();
  const events: string[] = [];
  let current: number | undefined;
  for (const original of chunks) {
    const chunk = Buffer.from(original); // the scanner may move rows within its chunk
    for (let at = 0; ;) {
      const { at: next, event } = scanner.scan(chunk, at);
      at = next;
      const rows = scanner.take();
      if (rows) kept.set(current!, (kept.get(current!) ?? '') + rows.toString());
      if (event.kind === 'more') break;
      events.push(`${event.kind} ${event.id}`);
      if (event.kind === 'start') {
        current = event.id;
        scanner.keep = keep.has(event.id);
        if (scanner.keep) kept.set(event.id, '');
      }
    }
  }
  return { kept, events, between: scanner.betweenBlocks };
}

const BLOCKS: [number, string[]][] = [
  [11, ['1\tone\n', '2\ttwo\n']],
  [12, []],
  [13, ['3\t' + 'x'.repeat(300) + '\n', '4\t\\.\n', '5\tCOPY t FROM stdin;\n']],
  [14, ['6\tsix\n']],
];

describe('scanning the data blocks of a custom-format archive', () => {
  it('gives each kept block its rows without the chunk lengths, and skips the others', () => {
    const bytes = archive(40, BLOCKS);
    const { kept, events, between } = scan([bytes], 40, new Set([11, 12, 13]));
    expect(events).toEqual([
      'start 11',
      'end 11',
      'start 12',
      'end 12',
      'start 13',
      'end 13',
      'start 14',
      'end 14',
    ]);
    expect(kept).toEqual(
      new Map([
        [11, BLOCKS[0]![1].join('')],
        [12, ''],
        [13, BLOCKS[2]![1].join('')],
      ]),
    );
    expect(between).toBe(true);
  });

  it('reads the same whatever the chunk boundaries: every split point, and one byte at a time', () => {
    const bytes = archive(9, BLOCKS);
    const whole = scan([bytes], 9, new Set([11, 13, 14]));
    for (let cut = 1; cut < bytes.length; cut++) {
      expect(
        scan([bytes.subarray(0, cut), bytes.subarray(cut)], 9, new Set([11, 13, 14])),
        `cut at ${cut}`,
      ).toEqual(whole);
    }
    const bytewise = [...bytes].map((b) => Buffer.from([b]));
    expect(scan(bytewise, 9, new Set([11, 13, 14]))).toEqual(whole);
  });

  it('reads archives written with 8-byte ints', () => {
    const bytes = archive(3, BLOCKS, 8);
    const { kept } = scan([bytes.subarray(0, 50), bytes.subarray(50)], 3, new Set([13]), 8);
    expect(kept.get(13)).toBe(BLOCKS[2]![1].join(''));
  });

  it('says when a stream stops inside a block', () => {
    const bytes = archive(0, BLOCKS);
    expect(scan([bytes.subarray(0, 30)], 0, new Set()).between).toBe(false);
  });

  it('refuses a block of another kind than rows (large objects) and a negative length, by what it found', () => {
    const blobs = Buffer.concat([Buffer.from([3]), int(5)]);
    expect(() => scan([blobs], 0, new Set())).toThrow('a data block of unexpected type 3');
    const negative = Buffer.concat([Buffer.from([1]), int(5), int(-4)]);
    expect(() => scan([negative], 0, new Set())).toThrow('a negative chunk length in the data of entry 5');
  });
});
