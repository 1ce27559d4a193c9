import { describe, expect, it } from 'vitest';
import { SECTION, type ArchiveEntry } from '../../src/postgres/archive-toc.js';
import {
  foreignKeyTasks,
  pipeLanes,
  shareEntries,
  tableKey,
  useList,
  useListOf,
} from '../../src/postgres/restore-shares.js';

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
    // each process builds the indexes and key constraints of a table right after its rows, so the
    // table is complete before the process reads on.
    expect(shares.data).toEqual([
      [a.rows[0]!.id, a.pkBig.id, a.idxBig.id, a.seq.id],
      [a.rows[1]!.id, a.pkMid.id, a.rows[2]!.id],
    ]);
    // Rows stay in archive order: a pipe is read forward only.
    const position = new Map(a.entries.map((e, i) => [e.id, i]));
    for (const share of shares.data) {
      const rows = share.filter((id) => a.rows.some((r) => r.id === id) || id === a.seq.id);
      expect(rows.map((id) => position.get(id)!)).toEqual(
        rows.map((id) => position.get(id)!).sort((x, y) => x - y),
      );
    }
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
    // pg_restore follows the list's order: the given one, not the archive's.
    expect(useListOf([odd, plain], [plain.id, odd.id])).toBe(
      '2; TABLE public plain\n1; TABLE public two lines\n',
    );
  });
});

describe('foreign keys added side by side', () => {
  /** Two large tables and one tiny, a key between the large ones, one to the tiny one, and a partition family. */
  function keyed() {
    next = 1;
    const [orders, users, tiny] = ['orders', 'users', 'tiny'].map((t) => entry('TABLE', t, SECTION.preData));
    const parent = entry('TABLE', 'events', SECTION.preData);
    const part = entry('TABLE', 'events_2026', SECTION.preData);
    const attach = entry('TABLE ATTACH', 'events_2026', SECTION.preData, [parent.id, part.id]);
    const pkUsers = entry('CONSTRAINT', 'users users_pkey', SECTION.postData, [users!.id]);
    const pkTiny = entry('CONSTRAINT', 'tiny tiny_pkey', SECTION.postData, [tiny!.id]);
    const big = entry('FK CONSTRAINT', 'orders orders_user_fkey', SECTION.postData, [orders!.id, pkUsers.id]);
    const small = entry('FK CONSTRAINT', 'tiny tiny_user_fkey', SECTION.postData, [tiny!.id, pkTiny.id]);
    const family = entry('FK CONSTRAINT', 'events events_user_fkey', SECTION.postData, [
      parent.id,
      pkUsers.id,
    ]);
    const entries = [orders!, users!, tiny!, parent, part, attach, pkUsers, pkTiny, big, small, family];
    return { entries, orders: orders!, users: users!, pkUsers, pkTiny, big, small, family };
  }
  const sizes = (_s: string | null, t: string) =>
    ({ orders: 5000, users: 3000, tiny: 10, events: 2000, events_2026: 2000 })[t] ?? 0;

  it('gives the keys between large tables a process each, largest first, with the tables they lock', () => {
    const k = keyed();
    const tasks = foreignKeyTasks(
      k.entries,
      () => true,
      () => true,
      sizes,
    );
    expect(tasks.map((t) => t.id)).toEqual([k.big.id, k.family.id]);
    expect(tasks[0]).toEqual({
      id: k.big.id,
      tables: [tableKey('public', 'orders'), tableKey('public', 'users')],
      needs: [k.pkUsers.id],
      alone: false,
    });
    // The key on a partitioned table also locks its partitions, which it does not name: alone.
    expect(tasks[1]!.alone).toBe(true);
  });

  it('leaves to the last step the keys on small tables, unwanted ones, and those needing what is built last', () => {
    const k = keyed();
    expect(
      foreignKeyTasks(
        k.entries,
        (e) => e.id !== k.big.id,
        () => true,
        sizes,
      ).map((t) => t.id),
    ).toEqual([k.family.id]);
    expect(
      foreignKeyTasks(
        k.entries,
        () => true,
        (id) => id !== k.pkUsers.id,
        sizes,
      ),
    ).toEqual([]);
    expect(
      foreignKeyTasks(
        k.entries,
        () => true,
        () => true,
        () => 0,
      ),
    ).toEqual([]);
  });
});

describe('lanes of a restore through named pipes', () => {
  it('gives the rows out largest first to the lane with least, each lane in archive order', () => {
    const a = archive();
    const ids = a.rows.map((r) => r.id);
    // big (1000) alone; mid (600) then small (500) to the other lane, in archive order.
    expect(pipeLanes(a.entries, ids, 2, rowsOf)).toEqual([[a.rows[0]!.id], [a.rows[1]!.id, a.rows[2]!.id]]);
    expect(pipeLanes(a.entries, ids, 1, rowsOf)).toEqual([ids]);
    // More lanes than tables: one table each, no empty lane.
    expect(pipeLanes(a.entries, ids, 8, rowsOf)).toEqual(ids.map((id) => [id]));
    expect(pipeLanes(a.entries, [], 2, rowsOf)).toEqual([]);
  });

  it('spreads tables of unknown size round the lanes instead of piling them on one', () => {
    const a = archive();
    const ids = a.rows.map((r) => r.id);
    expect(pipeLanes(a.entries, ids, 2, () => 0)).toEqual([[ids[0], ids[2]], [ids[1]]]);
  });
});
