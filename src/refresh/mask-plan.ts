import { LifeboatError } from '../errors.js';
import type { CatalogSnapshot, ColumnInfo } from '../postgres/catalog.js';
import { ruleName, type ColumnRule, type MaskConfig, type TableRule } from './mask-rules.js';
import { supabaseColumnDefaults, supabaseTableDefaults } from './supabase-defaults.js';

/**
 * The rules a refresh applies, checked against the backup's catalog before anything is
 * restored: the user's rules, over the Supabase defaults when they apply; every rule that
 * names a missing table or column, a type it cannot mask or a NOT NULL column it would
 * empty, refused together with its name. Pure.
 */
export interface MaskedColumn extends ColumnRule {
  info: ColumnInfo;
}

export interface MaskPlan {
  /** Rules that change values (`keep` removed), grouped per table by the SQL. */
  columns: MaskedColumn[];
  truncate: { schema: string; table: string }[];
  /** `schema.table.column` of personal-looking columns no rule covers. */
  unmasked: string[];
}

export function planMasking(config: MaskConfig, catalog: CatalogSnapshot, supabase: boolean): MaskPlan {
  const columns = catalog.columns;
  if (!columns) {
    throw new LifeboatError(
      'format',
      'This backup was taken by a Lifeboat that did not record column names, so masking rules cannot be checked before the refresh. Nothing was changed.',
      { hint: 'Take a new backup with this version of Lifeboat and refresh from it.' },
    );
  }
  const useDefaults = config.supabaseDefaults ?? supabase;
  const byColumn = new Map(columns.map((c) => [`${c.schema}.${c.table}.${c.name}`, c]));
  const tables = new Set(catalog.tables.map((t) => `${t.schema}.${t.name}`));
  const errors: string[] = [];

  // The user's rule for a column (or path) replaces a default for the same one.
  const rules = new Map<string, ColumnRule>();
  if (useDefaults) {
    for (const r of supabaseColumnDefaults()) {
      const info = byColumn.get(`${r.schema}.${r.table}.${r.column}`);
      // A default applies where the column exists, is writable and has the shape it expects.
      if (info && !info.generated && fits(r, info) === undefined) rules.set(ruleName(r), r);
    }
  }
  for (const r of config.columns) rules.set(ruleName(r), r);

  const tableRules = new Map<string, TableRule>();
  if (useDefaults) {
    for (const t of supabaseTableDefaults(catalog.tables)) tableRules.set(`${t.schema}.${t.table}`, t);
  }
  for (const t of config.tables) {
    if (!tables.has(`${t.schema}.${t.table}`)) errors.push(`table ${t.schema}.${t.table} does not exist`);
    tableRules.set(`${t.schema}.${t.table}`, t);
  }
  const truncate = [...tableRules.values()]
    .filter((t) => t.action === 'truncate')
    .map(({ schema, table }) => ({ schema, table }));
  const emptied = new Set(truncate.map((t) => `${t.schema}.${t.table}`));

  const masked: MaskedColumn[] = [];
  for (const r of rules.values()) {
    const info = byColumn.get(`${r.schema}.${r.table}.${r.column}`);
    if (!info) {
      errors.push(
        tables.has(`${r.schema}.${r.table}`)
          ? `column ${r.schema}.${r.table}.${r.column} does not exist`
          : `table ${r.schema}.${r.table} (of rule ${ruleName(r)}) does not exist`,
      );
      continue;
    }
    const problem = info.generated ? `is generated from other columns; mask those instead` : fits(r, info);
    if (problem) errors.push(`column ${ruleName(r)} ${problem}`);
    else if (r.kind !== 'keep' && !emptied.has(`${r.schema}.${r.table}`)) masked.push({ ...r, info });
  }
  if (errors.length) {
    throw new LifeboatError(
      'input',
      `The masking rules do not fit the backup: ${errors.join('; ')}. Nothing was changed.`,
      {
        hint: 'Fix the names in input `mask-config` (schema.table.column, as in the backup; `lifeboat show` lists its tables).',
      },
    );
  }
  const covered = new Set([...rules.values()].map((r) => `${r.schema}.${r.table}.${r.column}`));
  const unmasked = columns
    .filter((c) => !emptied.has(`${c.schema}.${c.table}`) && !c.generated)
    .filter((c) => looksPersonal(c.name) && !covered.has(`${c.schema}.${c.table}.${c.name}`))
    .map((c) => `${c.schema}.${c.table}.${c.name}`);
  return { columns: masked, truncate, unmasked };
}

/** Why a rule cannot apply to this column, or undefined when it can. */
export function fits(rule: ColumnRule, info: ColumnInfo): string | undefined {
  if (rule.path.length) {
    if (info.type !== 'jsonb') return `is ${info.type}; a path after the column needs jsonb`;
    return undefined;
  }
  if (rule.kind === 'null' && info.notNull) return 'is NOT NULL; use `fixed: <value>` or another mask';
  if (['email', 'name', 'phone', 'text', 'hash'].includes(rule.kind) && !isText(info))
    return `is ${info.type}; ${rule.kind} masks text columns (use null, fixed or keep)`;
  return undefined;
}

function isText(info: ColumnInfo): boolean {
  return info.category === 'S' || /(^|\.)citext$/.test(info.type);
}

/** Words in column names that usually hold a person's data. */
const PERSONAL = new Set([
  ...['email', 'mail', 'phone', 'mobile', 'telephone', 'tel', 'fax'],
  ...['name', 'firstname', 'lastname', 'fullname', 'surname', 'username', 'nickname'],
  ...['address', 'street', 'city', 'postcode', 'zip', 'zipcode', 'ip', 'dob', 'birthday', 'birthdate'],
  ...['birth', 'ssn', 'passport', 'iban', 'card', 'tax', 'vat', 'national', 'gender'],
]);

/** `billing_email`, `lastName`, `ip_address`: any word of the name personal, camel case split too. */
export function looksPersonal(column: string): boolean {
  const words = column
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/);
  return words.some((w) => PERSONAL.has(w)) || PERSONAL.has(column.toLowerCase().replace(/[^a-z]/g, ''));
}
