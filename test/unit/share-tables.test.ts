import { describe, expect, it } from 'vitest';
import { SECTION, type ArchiveEntry } from '../../src/postgres/archive-toc.js';
import { MAX_TABLES_PER_SHARE, tablesInShares } from '../../src/postgres/share-tables.js';

let next = 1;
function entry(desc: string, tag: string, section: number, deps: number[] = []): ArchiveEntry {
  return { id: next++, oid: '0', desc, namespace: 'public', tag, owner: 'o', section, deps, copyStmt: null };
}
const table = (tag: string, deps: number[] = []) => entry('TABLE', tag, SECTION.preData, deps);
const rows = (t: ArchiveEntry) => entry('TABLE DATA', t.tag, SECTION.data, [t.id]);
const sizes: Record<string, number> = {};
const sizeOf = (_schema: string | null, tag: string) => sizes[tag] ?? 0;
/** The lock table of a server with PostgreSQL's defaults: 64 x 100 connections. */
const SLOTS = 6400;

describe('tables a share creates in its own transaction', () => {
  it('moves a table with its rows, and holds back the views, defaults and comments on it', () => {
    next = 1;
    const fn = entry('FUNCTION', 'f()', SECTION.preData);
    const orders = table('orders', [fn.id]);
    // A serial column's sequence, as pg_dump has it: depending on its table, owned apart.
    const seq = entry('SEQUENCE', 'orders_id_seq', SECTION.preData, [orders.id]);
    const users = table('users');
    const view = entry('VIEW', 'order_totals', SECTION.preData, [orders.id, users.id]);
    const viewOfView = entry('VIEW', 'big_orders', SECTION.preData, [view.id]);
    const owned = entry('SEQUENCE OWNED BY', 'orders_id_seq', SECTION.preData, [seq.id]);
    const fallback = entry('DEFAULT', 'orders id', SECTION.preData, [orders.id, seq.id]);
    const comment = entry('COMMENT', 'COLUMN orders.id', SECTION.none, [orders.id]);
    const [ordersRows, usersRows] = [rows(orders), rows(users)];
    const index = entry('INDEX', 'orders_idx', SECTION.postData, [orders.id]);
    const entries = [
      fn,
      seq,
      orders,
      users,
      view,
      viewOfView,
      owned,
      fallback,
      comment,
      ordersRows,
      usersRows,
      index,
    ];
    const moved = tablesInShares(
      entries,
      new Set(),
      [[ordersRows.id, index.id], [usersRows.id]],
      sizeOf,
      SLOTS,
    );
    expect(moved.tables).toEqual([[orders.id], [users.id]]);
    // In archive order; what depends on the view waits too; the index is the share's own;
    // the sequence is made with the schema (its value is set among the rows), its OWNED BY waits.
    expect(moved.later).toEqual([view.id, viewOfView.id, owned.id, fallback.id, comment.id]);
  });

  it('keeps in the schema step what something else of the schema needs before the rows', () => {
    next = 1;
    const parent = table('measurements');
    const partition = table('measurements_2026', [parent.id]);
    const typed = table('holder');
    const usesRowType = table('history', [typed.id]);
    const identity = table('events');
    const identitySeq = entry('SEQUENCE', 'events_id_seq', SECTION.preData, [identity.id]);
    const withFunction = table('accounts');
    const atomic = entry('FUNCTION', 'account_count()', SECTION.preData, [withFunction.id]);
    const skipped = table('auth_users');
    const all = [parent, partition, typed, usesRowType, identity, withFunction, skipped];
    const data = all.map(rows);
    const entries = [...all, identitySeq, atomic, ...data];
    const moved = tablesInShares(entries, new Set([skipped.id]), [data.map((d) => d.id)], sizeOf, SLOTS);
    // The parent of a partition, the table another uses as a type, a table with an identity
    // sequence or a function on it, a child and a skipped table: none moves.
    expect(moved.tables).toEqual([[]]);
    expect(moved.later).toEqual([]);
  });

  it('moves the largest tables of a share only, so one transaction takes few locks', () => {
    next = 1;
    const all = Array.from({ length: MAX_TABLES_PER_SHARE + 5 }, (_, i) => table(`t${i}`));
    all.forEach((t, i) => (sizes[t.tag] = i));
    const data = all.map(rows);
    const moved = tablesInShares([...all, ...data], new Set(), [data.map((d) => d.id)], sizeOf, SLOTS);
    expect(moved.tables[0]).toEqual(all.slice(5).map((t) => t.id));
  });

  it('runs a share as one transaction only while its locks fit in its part of the lock table', () => {
    next = 1;
    const all = Array.from({ length: 100 }, (_, i) => table(`many${i}`));
    const data = all.map(rows);
    const shares = [data.slice(0, 50).map((d) => d.id), data.slice(50).map((d) => d.id)];
    // 50 entries and a table created: 2 x 50 + 3 = 103 locks per share.
    expect(
      tablesInShares([...all, ...data], new Set(), shares, sizeOf, 103 * 4 * 2).tables.map((t) => t.length),
    ).toEqual([1, 1]);
    // Too few slots (a server with max_locks_per_transaction 16 and 50 connections): nothing moves.
    expect(tablesInShares([...all, ...data], new Set(), shares, sizeOf, 800).tables).toEqual([[], []]);
    // 2 x 50 + 3 x 5 = 115 locks: five tables each, not the sixteen a larger table would allow.
    expect(
      tablesInShares([...all, ...data], new Set(), shares, sizeOf, 115 * 8).tables.map((t) => t.length),
    ).toEqual([5, 5]);
  });
});
