import { quoteIdent, quoteLiteral, tableRef, type CatalogSnapshot } from '../postgres/catalog.js';
import type { MaskKind } from './mask-rules.js';
import type { MaskedColumn, MaskPlan } from './mask-plan.js';
import type { KeyPads } from './mask-key.js';

/**
 * The SQL that masks a restored database inside the restore's own transaction: set-based
 * statements the server runs over whole tables, never a row through Node. Pure: plan in,
 * SQL text out.
 *
 * `maskingSql` runs once every row is in and before the post-data section: no index,
 * constraint or trigger exists yet, so one UPDATE per table rewrites its rows without
 * index upkeep, no trigger copies an original anywhere, and the unique and foreign keys
 * created afterwards check the masked values. Each masked value is compared with the
 * original in the same UPDATE (a value that masks to itself stops the refresh).
 * `rowCountSql` runs last, before COMMIT: every table has the rows the backup recorded.
 *
 * The key is not in the statements: it arrives as COPY data, which neither psql's error
 * echo nor the server's statement log prints.
 */

/** A message RAISEd by these checks starts with this; the refresh explains it as its own. */
export const CHECK_MARK = 'lifeboat-mask:';

/**
 * HMAC-SHA256 from the built-in sha256 and the key's precomputed pads (no extension needed),
 * for `hash`; and the failure raised by a check.
 */
const PRELUDE = `SET LOCAL row_security = off;
SET LOCAL work_mem = '256MB';
CREATE TEMP TABLE lifeboat_mask_key (ipad bytea NOT NULL, opad bytea NOT NULL, prefix text NOT NULL) ON COMMIT DROP;
CREATE FUNCTION pg_temp.lifeboat_hmac(v text, ipad bytea, opad bytea) RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $f$ SELECT pg_catalog.encode(pg_catalog.sha256(opad OPERATOR(pg_catalog.||) pg_catalog.sha256(ipad OPERATOR(pg_catalog.||) pg_catalog.convert_to(v, 'UTF8'))), 'hex') $f$;
CREATE FUNCTION pg_temp.lifeboat_unmasked(what text) RETURNS text LANGUAGE plpgsql VOLATILE
  AS $f$ BEGIN RAISE EXCEPTION '${CHECK_MARK} a value of % equals its original after masking', what; END $f$;
CREATE FUNCTION pg_temp.lifeboat_rows(what text, n bigint, want bigint) RETURNS void LANGUAGE plpgsql VOLATILE
  AS $f$ BEGIN IF n <> want THEN RAISE EXCEPTION '${CHECK_MARK} % has % rows after masking; the backup has %', what, n, want; END IF; END $f$;
`;

/** A part of the key: a sub-select the server evaluates once per statement, not once per row. */
const KEY = (part: 'prefix' | 'ipad' | 'opad') => `(SELECT ${part} FROM pg_temp.lifeboat_mask_key)`;

/** The key as COPY rows: data psql sends without echoing it. */
export function keyLoadSql(pads: KeyPads): string {
  return `COPY pg_temp.lifeboat_mask_key FROM STDIN;\n\\\\x${pads.ipad.toString('hex')}\t\\\\x${pads.opad.toString('hex')}\t${pads.prefix}\n\\.\n`;
}

/** The masked value of text `v` (an SQL expression) for a kind that hashes. */
export function maskExpression(kind: MaskKind, v: string, fixed?: string): string {
  const h = `md5(${KEY('prefix')} || ${v})`;
  switch (kind) {
    case 'email':
      return `'user_' || left(${h}, 24) || '@example.invalid'`;
    case 'name':
      return `'Person ' || upper(left(${h}, 12))`;
    case 'phone':
      // The hex letters as digits (a→0 … f→5): six replace() calls on eleven characters
      // cost less per row than one translate().
      return `'+999' || ${[...'abcdef'].reduce((acc, c, i) => `replace(${acc}, '${c}', '${i}')`, `left(${h}, 11)`)}`;
    case 'text':
      return `CASE WHEN ${v} = '' THEN ${v} ELSE left(repeat(${h}, (length(${v}) + 31) / 32), length(${v})) END`;
    case 'hash':
      return `pg_temp.lifeboat_hmac(${v}, ${KEY('ipad')}, ${KEY('opad')})`;
    case 'null':
      return 'NULL';
    case 'fixed':
      return quoteLiteral(fixed ?? '');
    case 'keep':
      return v;
  }
}

/**
 * A mask that stops the refresh where it would leave the original. Only a value already in
 * the mask's own shape can mask to itself, so the second computation runs for those alone.
 * Values under four characters are exempt: a same-length mask of them may repeat one. A
 * column that limits length gets the mask cut to fit, and the cut mask is what is compared.
 */
function checkedMask(r: MaskedColumn, v: string, limit?: number): string {
  const full = maskExpression(r.kind, v, r.value);
  const mask = limit ? `left(${full}, ${limit})` : full;
  const shape = shapeOf(r.kind, limit);
  if (!shape) return mask;
  const name = quoteLiteral(`${r.schema}.${r.table}.${[r.column, ...r.path].join('.')}`);
  return `CASE WHEN ${v} ${shape} AND length(${v}) >= 4 AND (${mask}) = ${v} THEN pg_temp.lifeboat_unmasked(${name}) ELSE ${mask} END`;
}

/**
 * The masks of fixed length, character by character ('?' is any one character). The LIKE
 * made of one is exact, length included, so the check computes a mask a second time only
 * for a value that could equal it, not for every value that starts alike ('Person Ann').
 */
const TEMPLATES: Partial<Record<MaskKind, string>> = {
  email: `user_${'?'.repeat(24)}@example.invalid`,
  name: `Person ${'?'.repeat(12)}`,
  phone: `+999${'?'.repeat(11)}`,
};

/** The test a value must pass to possibly equal its (cut) mask; undefined where none can. */
function shapeOf(kind: MaskKind, limit?: number): string | undefined {
  const template = TEMPLATES[kind];
  if (template) {
    const like = [...template.slice(0, limit)]
      .map((c) => (c === '?' ? '_' : c.replace(/[\\%_]/, '\\$&')))
      .join('');
    return `LIKE ${quoteLiteral(like)}`;
  }
  // A text mask keeps the value's length; a hash is hex, cut or not.
  return kind === 'text' || kind === 'hash' ? `!~ '[^0-9a-f]'` : undefined;
}

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
  const col = `t.${quoteIdent(rules[0]!.column)}`;
  const whole = rules.find((r) => r.path.length === 0);
  if (whole) {
    const limit = maxLength(whole.info.type);
    if (whole.kind === 'fixed' || whole.kind === 'null') return maskExpression(whole.kind, '', whole.value);
    return checkedMask(whole, `${col}::text`, limit);
  }
  // Any value at the path is masked (an object or number as its text): only JSON null is left.
  return rules.reduce((acc, r) => {
    const path = pathLiteral(r.path);
    const value =
      r.kind === 'null'
        ? `'null'::jsonb`
        : `to_jsonb(${r.kind === 'fixed' ? `${quoteLiteral(r.value ?? '')}::text` : checkedMask(r, `(${col} #>> ${path})`)})`;
    return `CASE WHEN jsonb_typeof(${col} #> ${path}) IS DISTINCT FROM 'null' AND ${col} #> ${path} IS NOT NULL THEN jsonb_set(${acc}, ${path}, ${value}) ELSE ${acc} END`;
  }, col);
}

/** Masked columns per table, in a stable order. */
export function byTable(columns: MaskedColumn[]): Map<string, MaskedColumn[]> {
  const tables = new Map<string, MaskedColumn[]>();
  const sorted = [...columns].sort((a, b) =>
    tableRef(a.schema, a.table) < tableRef(b.schema, b.table) ? -1 : 1,
  );
  for (const c of sorted) {
    const rel = tableRef(c.schema, c.table);
    tables.set(rel, [...(tables.get(rel) ?? []), c]);
  }
  return tables;
}

/** Run before the post-data section: the key, the truncations, one UPDATE per masked table. */
export function maskingSql(plan: MaskPlan, pads: KeyPads): string {
  const out: string[] = [PRELUDE + keyLoadSql(pads)];
  if (plan.truncate.length)
    out.push(`TRUNCATE TABLE ${plan.truncate.map((t) => tableRef(t.schema, t.table)).join(', ')};`);
  for (const [rel, rules] of byTable(plan.columns)) {
    const columns = [...new Set(rules.map((r) => r.column))];
    // A rule for the whole column wins over rules for paths inside it.
    const sets = columns.map((c) => {
      const mine = rules.filter((r) => r.column === c);
      const whole = mine.filter((r) => r.path.length === 0);
      return `${quoteIdent(c)} = ${setExpression(whole.length ? whole : mine)}`;
    });
    out.push(`UPDATE ${rel} AS t SET ${sets.join(', ')};`);
  }
  return `${out.join('\n')}\n`;
}

/**
 * Run last, before COMMIT: every table the backup counted has those rows (an emptied one
 * none). Names from the backup appear only as quoted literals and identifiers, never
 * inside a dollar-quoted body they could close.
 */
export function rowCountSql(plan: MaskPlan, catalog: CatalogSnapshot): string {
  const emptied = new Set(plan.truncate.map((t) => tableRef(t.schema, t.table)));
  return catalog.tables
    .filter((t) => t.kind === 'r' && t.rows !== null)
    .map((t) => {
      const rel = tableRef(t.schema, t.name);
      const want = emptied.has(rel) ? 0 : t.rows!;
      return `SELECT pg_temp.lifeboat_rows(${quoteLiteral(`${t.schema}.${t.name}`)}, (SELECT count(*) FROM ${rel}), ${want});\n`;
    })
    .join('');
}
