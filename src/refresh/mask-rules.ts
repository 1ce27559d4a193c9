import { LifeboatError } from '../errors.js';

/**
 * The masking rules file (`mask-config`): which column gets which mask, which tables are
 * emptied. Pure: text in, rules out, every mistake named with its place in the file.
 *
 * ```yaml
 * columns:
 *   public.profiles.email: email
 *   public.profiles.full_name: name
 *   auth.users.raw_user_meta_data.full_name: name   # a jsonb path after the column
 *   public.profiles.country: { fixed: NL }
 * tables:
 *   public.audit_log: truncate
 *   auth.audit_log_entries: keep                    # overrides a Supabase default
 * supabase-defaults: true
 * ```
 */
export const MaskKinds = ['email', 'name', 'phone', 'text', 'hash', 'null', 'fixed', 'keep'] as const;
export type MaskKind = (typeof MaskKinds)[number];

export const TableActions = ['truncate', 'keep'] as const;
export type TableAction = (typeof TableActions)[number];

export interface ColumnRule {
  schema: string;
  table: string;
  column: string;
  /** Keys into a jsonb column; empty for the whole column. */
  path: string[];
  kind: MaskKind;
  /** The value of a `fixed` rule. */
  value?: string;
  /** Written by the user, or one of the Supabase defaults (which apply only where the column exists). */
  origin: 'config' | 'default';
}

export interface TableRule {
  schema: string;
  table: string;
  action: TableAction;
  origin: 'config' | 'default';
}

export interface MaskConfig {
  columns: ColumnRule[];
  tables: TableRule[];
  /** Apply the Supabase defaults: true, false, or undefined (when the profile is Supabase). */
  supabaseDefaults?: boolean;
}

const TOP_LEVEL = ['columns', 'tables', 'truncate', 'supabase-defaults'];

/**
 * `parseYaml` is the yaml package's parse, loaded by the caller when a refresh needs it: its
 * code stays out of the memory of every other run.
 */
export function parseMaskConfig(
  text: string,
  file: string,
  parseYaml: (text: string) => unknown,
): MaskConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    throw bad(file, `is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return { columns: [], tables: [] };
  if (!isRecord(doc)) throw bad(file, 'must be a mapping with `columns` and `tables`');
  const unknown = Object.keys(doc).filter((k) => !TOP_LEVEL.includes(k));
  if (unknown.length)
    throw bad(file, `has unknown keys ${unknown.join(', ')}; accepted: ${TOP_LEVEL.join(', ')}`);
  const columns = Object.entries(mapping(doc.columns, 'columns', file)).map(([name, rule]) =>
    columnRule(name, rule, file),
  );
  const tables = Object.entries(mapping(doc.tables, 'tables', file)).map(([name, action]) => {
    if (typeof action !== 'string' || !(TableActions as readonly string[]).includes(action))
      throw bad(file, `tables.${name} is ${JSON.stringify(action)}; accepted: ${TableActions.join(', ')}`);
    return { ...tableName(name, file), action: action as TableAction, origin: 'config' as const };
  });
  const truncate = doc.truncate ?? [];
  if (!Array.isArray(truncate) || !truncate.every((t) => typeof t === 'string'))
    throw bad(file, '`truncate` must be a list of schema.table names');
  for (const name of truncate as string[])
    tables.push({ ...tableName(name, file), action: 'truncate', origin: 'config' });
  const defaults = doc['supabase-defaults'];
  if (defaults !== undefined && typeof defaults !== 'boolean')
    throw bad(file, '`supabase-defaults` must be true or false');
  return { columns, tables, supabaseDefaults: defaults };
}

function columnRule(name: string, rule: unknown, file: string): ColumnRule {
  const parts = splitName(name, file);
  if (parts.length < 3)
    throw bad(file, `columns.${name} must name schema.table.column (and a jsonb path after it)`);
  const [schema, table, column, ...path] = parts as [string, string, string, ...string[]];
  const base = { schema, table, column, path, origin: 'config' as const };
  if (isRecord(rule) && Object.keys(rule).length === 1 && 'fixed' in rule) {
    const value = rule.fixed;
    if (value === null || isRecord(value) || Array.isArray(value))
      throw bad(file, `columns.${name}: fixed needs a text, number or boolean value`);
    return { ...base, kind: 'fixed', value: String(value) };
  }
  // YAML reads a bare `null` as null: the rule that sets the column to NULL.
  const kind = rule === null ? 'null' : rule;
  if (typeof kind !== 'string' || !(MaskKinds as readonly string[]).includes(kind) || kind === 'fixed') {
    throw bad(
      file,
      `columns.${name} is ${JSON.stringify(rule)}; accepted: ${MaskKinds.filter((k) => k !== 'fixed').join(', ')}, or { fixed: <value> }`,
    );
  }
  return { ...base, kind: kind as MaskKind };
}

function tableName(name: string, file: string): { schema: string; table: string } {
  const parts = splitName(name, file);
  if (parts.length !== 2) throw bad(file, `"${name}" must name a table as schema.table`);
  return { schema: parts[0]!, table: parts[1]! };
}

/** `public."odd.name".col` → public, odd.name, col: dots split, double quotes keep a name whole. */
export function splitName(text: string, file = 'the rules'): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      if (quoted && text[i + 1] === '"') {
        current += '"';
        i++;
      } else quoted = !quoted;
    } else if (c === '.' && !quoted) {
      parts.push(current);
      current = '';
    } else current += c;
  }
  parts.push(current);
  if (quoted || parts.some((p) => p === '')) throw bad(file, `"${text}" is not a valid dotted name`);
  return parts;
}

function mapping(value: unknown, key: string, file: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) throw bad(file, `\`${key}\` must be a mapping of names to rules`);
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function bad(file: string, what: string): LifeboatError {
  return new LifeboatError('input', `The masking rules file ${file} ${what}. Nothing was changed.`, {
    hint: 'See "Staging refresh" in the README for the format of input `mask-config`.',
  });
}

/** Rules as `schema.table.column[.path]` for messages. */
export function ruleName(r: Pick<ColumnRule, 'schema' | 'table' | 'column' | 'path'>): string {
  return [r.schema, r.table, r.column, ...r.path].join('.');
}
