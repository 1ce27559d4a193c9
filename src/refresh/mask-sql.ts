import { quoteLiteral, tableRef, type CatalogSnapshot } from '../postgres/catalog.js';
import type { MaskKind } from './mask-rules.js';
import type { MaskedColumn, MaskPlan } from './mask-plan.js';

/**
 * The SQL that masks a restored database inside the restore's own transaction, before
 * COMMIT: set-based statements the server runs over whole tables, never a row through
 * Node. Pure: plan in, SQL text out. The key is not in this text (keyLoadSql carries it
 * as COPY data, which neither psql's error echo nor the server's statement log prints).
 *
 * Per table, one UPDATE sets every masked column. Around it: user triggers are switched
 * off (an audit trigger would copy the originals elsewhere) and foreign keys on masked
 * columns are dropped and added back afterwards, which checks every row of them again.
 * Checks before COMMIT: no masked column holds a value equal to any of its originals
 * (compared as md5 inside the server), every table has the rows the backup recorded.
 */
/** The dollar-quote tag of Lifeboat's own DO blocks. */
const MARK = 'lifeboat_mask';

/** A message RAISEd by these checks starts with this; the refresh explains it as its own. */
export const CHECK_MARK = 'lifeboat-mask:';

/** HMAC-SHA256 with the key's inner and outer pads precomputed, from built-in sha256 (no extension needed). */
const PRELUDE = `SET LOCAL row_security = off;
CREATE TEMP TABLE lifeboat_mask_key (ipad bytea NOT NULL, opad bytea NOT NULL) ON COMMIT DROP;
CREATE FUNCTION pg_temp.lifeboat_hmac(v text, ipad bytea, opad bytea) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $f$ SELECT pg_catalog.encode(pg_catalog.sha256(opad OPERATOR(pg_catalog.||) pg_catalog.sha256(ipad OPERATOR(pg_catalog.||) pg_catalog.convert_to(v, 'UTF8'))), 'hex') $f$;
`;

/** The key's pads as COPY rows: data psql sends without echoing it. */
export function keyLoadSql(pads: { ipad: Buffer; opad: Buffer }): string {
  return `COPY pg_temp.lifeboat_mask_key FROM STDIN;\n\\\\x${pads.ipad.toString('hex')}\t\\\\x${pads.opad.toString('hex')}\n\\.\n`;
}

/** The masked value of text `v` (an SQL expression) for a kind that hashes. */
export function maskExpression(kind: MaskKind, v: string, fixed?: string): string {
  const h = `pg_temp.lifeboat_hmac(${v}, k.ipad, k.opad)`;
  switch (kind) {
    case 'email':
      return `'user_' || left(${h}, 24) || '@example.invalid'`;
    case 'name':
      return `'Person ' || upper(left(${h}, 12))`;
    case 'phone':
      return `'+999' || translate(left(${h}, 11), 'abcdef', '012345')`;
    case 'text':
      return `CASE WHEN ${v} = '' THEN ${v} ELSE left(repeat(${h}, (length(${v}) + 63) / 64), length(${v})) END`;
    case 'hash':
      return h;
    case 'null':
      return 'NULL';
    case 'fixed':
      return quoteLiteral(fixed ?? '');
    case 'keep':
      return v;
  }
}

const HASHED: MaskKind[] = ['email', 'name', 'phone', 'text', 'hash'];

/** `character varying(40)` → 40: masks are cut to fit a column that limits length. */
function maxLength(type: string): number | undefined {
  const n = /^(?:character varying|varchar|character|char)\((\d+)\)$/.exec(type)?.[1];
  return n ? Number(n) : undefined;
}

function pathLiteral(path: string[]): string {
  return `ARRAY[${path.map(quoteLiteral).join(', ')}]::text[]`;
}

/** The column's new value: one mask, or jsonb paths set one after another. */
function setExpression(rules: MaskedColumn[]): string {
  const col = `t.${quoteIdentifier(rules[0]!.column)}`;
  const whole = rules.find((r) => r.path.length === 0);
  if (whole) {
    const expr = maskExpression(whole.kind, `${col}::text`, whole.value);
    const limit = maxLength(whole.info.type);
    return limit && HASHED.includes(whole.kind) ? `left(${expr}, ${limit})` : expr;
  }
  return rules.reduce((acc, r) => {
    const path = pathLiteral(r.path);
    const value =
      r.kind === 'null'
        ? `'null'::jsonb`
        : `to_jsonb(${r.kind === 'fixed' ? `${quoteLiteral(r.value ?? '')}::text` : maskExpression(r.kind, `(${col} #>> ${path})`)})`;
    return `CASE WHEN jsonb_typeof(${col} #> ${path}) IN ('string', 'number') THEN jsonb_set(${acc}, ${path}, ${value}) ELSE ${acc} END`;
  }, col);
}

/** The text a verification compares: the column, or the value at a jsonb path. */
function valueExpression(r: MaskedColumn): string {
  const col = quoteIdentifier(r.column);
  return r.path.length ? `(${col} #>> ${pathLiteral(r.path)})` : `${col}::text`;
}

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Masked columns per table, in a stable order. */
export function byTable(columns: MaskedColumn[]): Map<string, MaskedColumn[]> {
  const tables = new Map<string, MaskedColumn[]>();
  for (const c of [...columns].sort((a, b) =>
    tableRef(a.schema, a.table) < tableRef(b.schema, b.table) ? -1 : 1,
  ))
    tables.set(tableRef(c.schema, c.table), [...(tables.get(tableRef(c.schema, c.table)) ?? []), c]);
  return tables;
}

/** The whole epilogue: the key, truncations, masking, checks. */
export function maskingSql(
  plan: MaskPlan,
  catalog: CatalogSnapshot,
  pads: { ipad: Buffer; opad: Buffer },
): string {
  const out: string[] = [PRELUDE + keyLoadSql(pads)];
  if (plan.truncate.length)
    out.push(`TRUNCATE TABLE ${plan.truncate.map((t) => tableRef(t.schema, t.table)).join(', ')};`);
  const tables = byTable(plan.columns);
  if (tables.size) {
    const columns = [...tables].flatMap(([rel, rules]) =>
      [...new Set(rules.map((r) => r.column))].map(
        (c) => `(${quoteLiteral(rel)}::regclass, ${quoteLiteral(c)})`,
      ),
    );
    out.push(`CREATE TEMP TABLE lifeboat_masked (rel regclass, col name) ON COMMIT DROP;
INSERT INTO pg_temp.lifeboat_masked VALUES ${columns.join(', ')};
CREATE TEMP TABLE lifeboat_fks ON COMMIT DROP AS
  SELECT c.conrelid::regclass::text AS rel, c.conname, pg_catalog.pg_get_constraintdef(c.oid) AS def
  FROM pg_catalog.pg_constraint c WHERE c.contype = 'f' AND EXISTS (
    SELECT 1 FROM pg_temp.lifeboat_masked m JOIN pg_catalog.pg_attribute a ON a.attrelid = m.rel AND a.attname = m.col
    WHERE (c.conrelid = m.rel AND a.attnum = ANY (c.conkey)) OR (c.confrelid = m.rel AND a.attnum = ANY (c.confkey)));
CREATE TEMP TABLE lifeboat_triggers ON COMMIT DROP AS
  SELECT t.tgrelid::regclass::text AS rel, t.tgname, t.tgenabled FROM pg_catalog.pg_trigger t
  WHERE NOT t.tgisinternal AND t.tgenabled <> 'D' AND t.tgrelid IN (SELECT rel FROM pg_temp.lifeboat_masked);
DO $${MARK}$ DECLARE r record; BEGIN
  FOR r IN SELECT * FROM pg_temp.lifeboat_fks LOOP EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.rel, r.conname); END LOOP;
  FOR r IN SELECT * FROM pg_temp.lifeboat_triggers LOOP EXECUTE format('ALTER TABLE %s DISABLE TRIGGER %I', r.rel, r.tgname); END LOOP;
END $${MARK}$;`);
  }
  for (const [i, [rel, rules]] of [...tables].entries()) out.push(...tableSql(rel, rules, i + 1));
  if (tables.size) {
    out.push(`DO $${MARK}$ DECLARE r record; BEGIN
  FOR r IN SELECT * FROM pg_temp.lifeboat_fks LOOP EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', r.rel, r.conname, r.def); END LOOP;
  FOR r IN SELECT * FROM pg_temp.lifeboat_triggers LOOP
    EXECUTE format('ALTER TABLE %s %s TRIGGER %I', r.rel, CASE r.tgenabled WHEN 'A' THEN 'ENABLE ALWAYS' WHEN 'R' THEN 'ENABLE REPLICA' ELSE 'ENABLE' END, r.tgname);
  END LOOP;
END $${MARK}$;`);
  }
  out.push(rowCountSql(plan, catalog));
  return `${out.join('\n')}\n`;
}

/** Originals kept (as md5, in a temporary table), the UPDATE, then the comparison. */
function tableSql(rel: string, rules: MaskedColumn[], index: number): string[] {
  const columns = [...new Set(rules.map((r) => r.column))];
  const sets = columns.map(
    (c) =>
      `${quoteIdentifier(c)} = ${setExpression(rules.filter((r) => r.column === c && (r.path.length === 0 || !rules.some((w) => w.column === c && w.path.length === 0))))}`,
  );
  const hashed = rules.filter((r) => HASHED.includes(r.kind));
  const emptied = rules.filter((r) => r.kind === 'null');
  // Values under four characters carry no identity, and a same-length mask of them may repeat one.
  const values = hashed.map(
    (r, i) =>
      `(${i}, CASE WHEN length(${valueExpression(r)}) >= 4 THEN md5(${valueExpression(r)})::uuid END)`,
  );
  const orig = `pg_temp.lifeboat_orig_${index}`;
  const sql: string[] = [];
  if (hashed.length)
    sql.push(`CREATE TEMP TABLE lifeboat_orig_${index} ON COMMIT DROP AS
  SELECT DISTINCT x.i, x.h FROM ${rel} CROSS JOIN LATERAL (VALUES ${values.join(', ')}) AS x(i, h) WHERE x.h IS NOT NULL;`);
  sql.push(`UPDATE ${rel} AS t SET ${sets.join(', ')} FROM pg_temp.lifeboat_mask_key AS k;`);
  const names = hashed.map((r) => `${r.schema}.${r.table}.${[r.column, ...r.path].join('.')}`);
  if (hashed.length)
    sql.push(`DO $${MARK}$ DECLARE r record; BEGIN
  FOR r IN SELECT x.i, count(*) AS n FROM ${rel} CROSS JOIN LATERAL (VALUES ${values.join(', ')}) AS x(i, h)
    JOIN ${orig} AS o ON o.i = x.i AND o.h = x.h GROUP BY x.i LOOP
    RAISE EXCEPTION '${CHECK_MARK} % rows of % still hold an original value after masking', r.n, (ARRAY[${names.map(quoteLiteral).join(', ')}])[r.i + 1];
  END LOOP;
END $${MARK}$;`);
  for (const r of emptied) {
    const test = r.path.length
      ? `jsonb_typeof(${quoteIdentifier(r.column)} #> ${pathLiteral(r.path)}) IN ('string', 'number')`
      : `${quoteIdentifier(r.column)} IS NOT NULL`;
    const name = quoteLiteral(`${r.schema}.${r.table}.${[r.column, ...r.path].join('.')}`);
    sql.push(`DO $${MARK}$ BEGIN IF EXISTS (SELECT 1 FROM ${rel} WHERE ${test}) THEN
  RAISE EXCEPTION '${CHECK_MARK} % still holds values after masking to null', ${name}; END IF; END $${MARK}$;`);
  }
  return sql;
}

/** Every table the backup counted has those rows still (the emptied ones none). */
function rowCountSql(plan: MaskPlan, catalog: CatalogSnapshot): string {
  const emptied = new Set(plan.truncate.map((t) => tableRef(t.schema, t.table)));
  const checks = catalog.tables
    .filter((t) => t.kind === 'r' && t.rows !== null)
    .map((t) => {
      const rel = tableRef(t.schema, t.name);
      const want = emptied.has(rel) ? 0 : t.rows!;
      return `  SELECT count(*) INTO n FROM ${rel};
  IF n <> ${want} THEN RAISE EXCEPTION '${CHECK_MARK} % has % rows after masking; expected %', ${quoteLiteral(`${t.schema}.${t.name}`)}, n, ${want}; END IF;`;
    });
  if (!checks.length) return '';
  return `DO $${MARK}$ DECLARE n bigint; BEGIN\n${checks.join('\n')}\nEND $${MARK}$;`;
}
