import type pg from 'pg';
import { count, emptyComparison, type Comparison } from './checks.js';
import { tableRef } from '../catalog.js';

/**
 * Checks that need the restored data itself, not just its catalog: foreign keys without
 * orphans, sequences ahead of the columns they feed, and the team's own SQL checks.
 */
type Queryable = pg.ClientBase | pg.Pool;
type Row = Record<string, unknown>;

const USER_SCHEMA = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'`;

const FOREIGN_KEYS = `SELECT con.conname AS name, n.nspname AS schema, c.relname AS table,
    fn.nspname AS ref_schema, f.relname AS ref_table, con.convalidated AS validated,
    ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
      JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i)::text[] AS cols,
    ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
      JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i)::text[] AS ref_cols
  FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_class f ON f.oid = con.confrelid JOIN pg_namespace fn ON fn.oid = f.relnamespace
  WHERE con.contype = 'f' AND con.conparentid = 0 AND ${USER_SCHEMA}
  ORDER BY 2, 3, 1`;

/**
 * pg_restore adds every foreign key with ALTER TABLE … ADD CONSTRAINT, which checks every
 * row, and --exit-on-error makes one orphan fail the restore: a validated key is proven by
 * the time we get here, and scanning it again would double the verification time of a large
 * database. A NOT VALID key is restored unchecked, so those are scanned for orphans.
 */
export async function checkForeignKeys(db: Queryable): Promise<Comparison> {
  const out = emptyComparison();
  const keys = (await db.query(FOREIGN_KEYS)).rows as Row[];
  count(out, 'fk-orphans', keys.length);
  await Promise.all(
    keys
      .filter((k) => !k.validated)
      .map(async (k) => {
        const cols = k.cols as string[];
        const refCols = k.ref_cols as string[];
        const child = tableRef(String(k.schema), String(k.table));
        const parent = tableRef(String(k.ref_schema), String(k.ref_table));
        const q = (c: string) => `"${c.replace(/"/g, '""')}"`;
        const sql = `SELECT count(*)::bigint AS n FROM ${child} c
          WHERE ${cols.map((c) => `c.${q(c)} IS NOT NULL`).join(' AND ')}
          AND NOT EXISTS (SELECT 1 FROM ${parent} p WHERE ${cols.map((c, i) => `p.${q(refCols[i]!)} = c.${q(c)}`).join(' AND ')})`;
        const orphans = Number(((await db.query(sql)).rows[0] as Row | undefined)?.n ?? 0);
        if (orphans === 0) return;
        const object = `constraint ${String(k.name)} on ${String(k.schema)}.${String(k.table)}`;
        out.checks.push({
          kind: 'fk-orphans',
          object,
          expected: 0,
          actual: orphans,
          severity: 'error',
          message: `${orphans} rows of ${String(k.schema)}.${String(k.table)} reference missing rows of ${String(k.ref_schema)}.${String(k.ref_table)} (${object}, NOT VALID).`,
          hint: 'The source holds these orphans too; clean them up and run ALTER TABLE … VALIDATE CONSTRAINT there.',
        });
      }),
  );
  return out;
}

const OWNED_SEQUENCES = `SELECT n.nspname AS seq_schema, s.relname AS seq_name, tn.nspname AS schema,
    t.relname AS table, a.attname AS column, q.seqincrement::text AS increment
  FROM pg_class s JOIN pg_namespace n ON n.oid = s.relnamespace JOIN pg_sequence q ON q.seqrelid = s.oid
  JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid
    AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
  JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = t.relnamespace
  JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
  WHERE s.relkind = 'S' AND ${USER_SCHEMA}
    AND a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype, 'numeric'::regtype)
  ORDER BY 1, 2`;

/** A sequence behind its column's largest value makes the next insert fail with a duplicate key. */
export async function checkSequences(db: Queryable): Promise<Comparison> {
  const out = emptyComparison();
  const owned = (await db.query(OWNED_SEQUENCES)).rows as Row[];
  count(out, 'sequence-max', owned.length);
  if (owned.length === 0) return out;
  // One round trip for all of them; max() of an indexed key column reads one index page.
  const union = owned
    .map((s, i) => {
      const col = `"${String(s.column).replace(/"/g, '""')}"`;
      const agg = BigInt(String(s.increment)) < 0n ? 'min' : 'max';
      return `SELECT ${i} AS i, (SELECT ${agg}(${col})::text FROM ${tableRef(String(s.schema), String(s.table))}) AS edge,
        last_value::text AS last, is_called FROM ${tableRef(String(s.seq_schema), String(s.seq_name))}`;
    })
    .join('\nUNION ALL ');
  for (const r of (await db.query(union)).rows as Row[]) {
    const s = owned[Number(r.i)]!;
    if (r.edge == null || !/^-?\d+$/.test(String(r.edge))) continue;
    const step = BigInt(String(s.increment));
    const next = r.is_called ? BigInt(String(r.last)) + step : BigInt(String(r.last));
    const edge = BigInt(String(r.edge));
    if (step > 0n ? next > edge : next < edge) continue;
    const seq = `${String(s.seq_schema)}.${String(s.seq_name)}`;
    const column = `${String(s.schema)}.${String(s.table)}.${String(s.column)}`;
    out.checks.push({
      kind: 'sequence-max',
      object: `sequence ${seq}`,
      expected: `${step > 0n ? '>' : '<'} ${edge}`,
      actual: String(next),
      severity: 'error',
      message: `Sequence ${seq} would hand out ${next} next, but ${column} already holds ${edge}: the next insert would fail with a duplicate key.`,
      hint: `The backup recorded the sequence behind its data. After a real restore run SELECT setval('${seq}', (SELECT max(${String(s.column)}) FROM ${String(s.schema)}.${String(s.table)}));`,
    });
  }
  return out;
}

/**
 * Runs the team's checks one by one, each in a transaction rolled back afterwards, so a
 * check may call a function that writes without changing what the next check sees.
 */
export async function runSqlChecks(client: pg.ClientBase, checks: SqlCheck[]): Promise<Comparison> {
  const out = emptyComparison();
  count(out, 'verify-sql', checks.length);
  for (const check of checks) {
    const problem = await runOne(client, check);
    if (!problem) continue;
    out.checks.push({
      kind: 'verify-sql',
      object: check.label,
      expected: true,
      actual: problem.actual,
      severity: 'error',
      message: `verify-sql check "${check.label}" (line ${check.line}) ${problem.message}`,
    });
  }
  return out;
}

async function runOne(
  client: pg.ClientBase,
  check: SqlCheck,
): Promise<{ actual: string | boolean | null; message: string } | undefined> {
  await client.query('BEGIN');
  try {
    await client.query(`SET LOCAL statement_timeout = '5min'`);
    const result = (await client.query(check.sql)) as pg.QueryResult | pg.QueryResult[];
    if (Array.isArray(result)) return { actual: 'error', message: 'holds more than one statement.' };
    if (result.fields.length !== 1 || result.fields[0]!.dataTypeID !== 16) {
      return { actual: 'error', message: 'must return exactly one boolean column.' };
    }
    const values = result.rows.map((row: Row) => Object.values(row)[0]);
    if (values.length === 0) return { actual: null, message: 'returned no rows.' };
    const bad = values.filter((v) => v !== true);
    if (bad.length === 0) return undefined;
    const what = bad.includes(false) ? false : null;
    const rows = values.length > 1 ? ` in ${bad.length} of ${values.length} rows` : '';
    return { actual: what, message: `returned ${what === false ? 'false' : 'null'}${rows}.` };
  } catch (error) {
    return { actual: 'error', message: `failed: ${(error as Error).message}.` };
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
  }
}

export interface SqlCheck {
  label: string;
  sql: string;
  /** 1-based line where the statement starts, for messages. */
  line: number;
}

/**
 * Splits a file of checks at top-level semicolons, minding quotes, dollar quotes and
 * comments. A `-- name: …` comment before a statement labels it; otherwise its text does.
 */
export function splitSqlChecks(text: string): SqlCheck[] {
  const checks: SqlCheck[] = [];
  let code = -1;
  let label: string | undefined;
  const flush = (end: number) => {
    if (code >= 0) {
      const sql = text.slice(code, end).trim();
      const line = text.slice(0, code).split('\n').length;
      const short = sql.replace(/\s+/g, ' ');
      checks.push({ label: label ?? (short.length > 80 ? `${short.slice(0, 79)}…` : short), sql, line });
    }
    code = -1;
    label = undefined;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    const rest = text.slice(i, i + 2);
    if (rest === '--') {
      const end = text.indexOf('\n', i);
      const comment = text.slice(i, end < 0 ? text.length : end);
      const name = /^--\s*name:\s*(.+?)\s*$/i.exec(comment)?.[1];
      if (name && code < 0) label = name;
      i = end < 0 ? text.length : end;
      continue;
    }
    if (rest === '/*') {
      i = skipBlockComment(text, i);
      continue;
    }
    if (/\s/.test(ch)) continue;
    if (ch === ';') {
      flush(i);
      continue;
    }
    if (code < 0) code = i;
    if (ch === "'" || ch === '"') {
      const escapes = ch === "'" && /[eE]/.test(text[i - 1] ?? '') && !/\w/.test(text[i - 2] ?? '');
      i = skipQuoted(text, i, ch, escapes);
    } else if (ch === '$' && !/[\w$]/.test(text[i - 1] ?? '')) {
      const tag = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i))?.[0];
      if (tag) {
        const close = text.indexOf(tag, i + tag.length);
        i = close < 0 ? text.length : close + tag.length - 1;
      }
    }
  }
  flush(text.length);
  return checks;
}

function skipQuoted(text: string, at: number, quote: string, backslashEscapes: boolean): number {
  for (let i = at + 1; i < text.length; i++) {
    if (backslashEscapes && text[i] === '\\') i++;
    else if (text[i] === quote) {
      if (text[i + 1] === quote) i++;
      else return i;
    }
  }
  return text.length;
}

function skipBlockComment(text: string, at: number): number {
  let depth = 0;
  for (let i = at; i < text.length - 1; i++) {
    const pair = text.slice(i, i + 2);
    if (pair === '/*') {
      depth++;
      i++;
    } else if (pair === '*/') {
      depth--;
      i++;
      if (depth === 0) return i;
    }
  }
  return text.length;
}
