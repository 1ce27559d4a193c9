import { describe, expect, it } from 'vitest';
import { SECTION, type ArchiveEntry } from '../../src/postgres/archive-toc.js';
import { shareEntries, useList } from '../../src/postgres/restore-shares.js';

let next = 1;
function entry(desc: string, tag: string, section: number, deps: number[] = []): ArchiveEntry {
  return { id: next++, oid: '0', desc, namespace: 'public', tag, owner: 'o', section, deps, copyStmt: null };
}

/** Three tables: their definitions, rows, indexes and key constraints, then a foreign key. */
function archive() {
  next = 1;
  const [big, mid, small] = ['big', 'mid', 'small'].map((t) => entry('TABLE', t, SECTION.preData));
  const rows = [big, mid, small].map((t) => entry('TABLE DATA', t!.tag, SECTION.data, [t!.id]));
  const seq = entry('SEQUENCE SET', 'big_id_seq', SECTION.data);
  const pkBig = entry('CONSTRAINT', 'big big_pkey', SECTION.postData, [big!.id]);
  const idxBig = entry('INDEX', 'big_name_idx', SECTION.postData, [big!.id]);
  const pkMid = entry('CONSTRAINT', 'mid mid_pkey', SECTION.postData, [mid!.id]);
  const fk = entry('FK CONSTRAINT', 'mid mid_big_fkey', SECTION.postData, [mid!.id, pkBig.id]);
  // Depends on another post-data entry: not safe to build beside it.
  const attach = entry('INDEX', 'mid_on_pk_idx', SECTION.postData, [pkMid.id]);
  const entries = [big!, mid!, small!, ...rows, seq, pkBig, idxBig, pkMid, fk, attach];
  return { entries, big: big!, mid: mid!, small: small!, rows, seq, pkBig, idxBig, pkMid, fk, attach };
}

const rowsOf = (_schema: string | null, table: string) => ({ big: 1000, mid: 600, small: 500 })[table] ?? 0;

describe('sharing a streamed restore between pg_restore processes', () => {
  it('gives the rows out largest first to the lightest process, each share in archive order', () => {
    const a = archive();
    const shares = shareEntries(a.entries, new Set(), 2, rowsOf);
    // big (1000) to one, mid (600) and small (500) to the other, then the sequence (weight 1) to the lighter;
    // each process builds the indexes and key constraints of the tables it filled, after their rows.
    expect(shares.data).toEqual([
      [a.rows[0]!.id, a.seq.id, a.pkBig.id, a.idxBig.id],
      [a.rows[1]!.id, a.rows[2]!.id, a.pkMid.id],
    ]);
    for (const share of shares.data) expect([...share].sort((x, y) => x - y)).toEqual(share);
    expect(shares.indexes).toEqual([]);
  });

  it('leaves for later what depends on other post-data entries, and never splits a table between processes', () => {
    const a = archive();
    const { data, indexes } = shareEntries(a.entries, new Set(), 2, rowsOf);
    const all = [...data.flat(), ...indexes.flat()];
    expect(all).not.toContain(a.fk.id);
    expect(all).not.toContain(a.attach.id);
    expect(data.findIndex((s) => s.includes(a.pkBig.id))).toBe(
      data.findIndex((s) => s.includes(a.idxBig.id)),
    );
  });

  it('builds after every row the indexes of tables whose rows this archive does not hold, shared out apart', () => {
    const a = archive();
    const shares = shareEntries(a.entries, new Set([a.rows[0]!.id, a.rows[1]!.id]), 4, rowsOf, 3);
    expect(shares.data).toEqual([[a.rows[2]!.id], [a.seq.id]]);
    expect(shares.indexes).toEqual([[a.pkBig.id, a.idxBig.id], [a.pkMid.id]]);
    expect(shareEntries(a.entries, new Set(), 1, rowsOf).data).toHaveLength(1);
  });

  it('writes a --use-list file of the wanted entries, one line each, newlines in names flattened', () => {
    next = 1;
    const odd = entry('TABLE', 'two\nlines', SECTION.preData);
    const plain = entry('TABLE', 'plain', SECTION.preData);
    expect(useList([odd, plain], (e) => e.id === odd.id)).toBe('1; TABLE public two lines\n');
    expect(useList([odd, plain], () => true).split('\n')).toHaveLength(3);
  });
});
