import { count, merge, type CheckKind, type CheckValue, type Comparison, type Severity } from './checks.js';
import type { CatalogSnapshot } from '../catalog.js';
import { comparePrivileges } from './privileges.js';

/**
 * Compares the catalog snapshot a backup recorded with the one taken of its restored copy.
 * Pure: two snapshots in, every difference out, each named by object so a person can go
 * and look. Only differences are listed; `compared` says how much was checked.
 */
export interface CompareOptions {
  /** Extensions the profile deliberately left out (platform-only): their absence is a warning. */
  skippedExtensions?: string[];
  /** Objects the drill created itself before the restore; never reported as extra. */
  prepared?: { schemas?: string[]; functions?: string[] };
}

export function compareSnapshots(
  expected: CatalogSnapshot,
  actual: CatalogSnapshot,
  options: CompareOptions = {},
): Comparison {
  const out: Comparison = { checks: [], compared: {} };
  for (const rule of rules(expected.serverMajor === actual.serverMajor, options)) {
    compareSet(out, rule as Rule<unknown>, rule.items(expected), rule.items(actual));
  }
  if (expected.migration) {
    const table = expected.migration.table;
    const [e, a] = [expected.migration.latestVersion, actual.migration?.latestVersion ?? null];
    count(out, 'migration');
    if (e !== a) {
      const message = `Latest migration in ${table} is ${a ?? 'missing'}, expected ${e ?? 'none'}.`;
      add(out, 'migration', table, e, a, 'error', message);
    }
  }
  count(out, 'large-objects');
  const [e, a] = [expected.largeObjects, actual.largeObjects];
  if (e !== a)
    add(out, 'large-objects', 'large objects', e, a, 'error', `${a} large objects restored, ${e} expected.`);
  return merge(out, comparePrivileges(expected, actual, { preparedSchemas: options.prepared?.schemas }));
}

/** One difference worth reporting when expected and actual disagree. */
interface Field {
  what: string;
  expected: CheckValue;
  actual: CheckValue;
  severity: Severity;
  kind?: CheckKind;
  /** The object named in the check, when it is not the rule's name (row counts name the bare table). */
  object?: string;
  message?: string;
}

interface Rule<T> {
  kind: CheckKind;
  items: (snapshot: CatalogSnapshot) => T[];
  name: (item: T) => string;
  fields: (e: T, a: T, name: string) => Field[];
  missing?: (item: T) => Severity;
  extra?: Severity;
  /** Names never reported as extra: what the drill itself created. */
  ignore?: Set<string>;
}

const rule = <T>(r: Rule<T>): Rule<T> => r;
const f = (what: string, expected: CheckValue, actual: CheckValue, severity: Severity): Field => ({
  what,
  expected,
  actual,
  severity,
});

function rules(sameMajor: boolean, options: CompareOptions) {
  // Another server major prints view, policy, index and trigger definitions its own way.
  const def: Severity = sameMajor ? 'error' : 'warning';
  const preparedFunctions = new Set((options.prepared?.functions ?? []).map((f) => `function ${f}`));
  const preparedSchemas = new Set((options.prepared?.schemas ?? []).map((s) => `schema ${s}`));
  const skipped = new Set(options.skippedExtensions ?? []);
  return [
    rule({
      kind: 'table',
      items: (s) => s.tables,
      name: (t) => `table ${t.schema}.${t.name}`,
      fields: (e, a) => {
        const table = `${e.schema}.${e.name}`;
        const fields: Field[] = [
          { ...f('row-level security enabled', e.rlsEnabled, a.rlsEnabled, 'error'), kind: 'rls' },
          { ...f('row-level security forced', e.rlsForced, a.rlsForced, 'error'), kind: 'rls' },
          f('owner', e.owner, a.owner, 'error'),
        ];
        if (e.rows !== null && a.rows !== null) {
          const diff = a.rows - e.rows;
          const message = `${table}: ${a.rows} rows restored, ${e.rows} expected (${Math.abs(diff)} ${diff < 0 ? 'missing' : 'extra'}).`;
          fields.unshift({ ...f('rows', e.rows, a.rows, 'error'), kind: 'rows', object: table, message });
        }
        // Same rows, other values: only a content fingerprint taken on both sides can tell.
        if (e.fingerprint !== undefined && a.fingerprint !== undefined && e.rows === a.rows) {
          const message = `${table}: the restored rows differ from the backup's in content, though all ${e.rows ?? 0} are there (content fingerprint mismatch).`;
          fields.push({ ...f('content', e.fingerprint, a.fingerprint, 'error'), kind: 'content', message });
        }
        return fields.map((field) => ({ ...field, object: field.object ?? table }));
      },
    }),
    rule({
      kind: 'policy',
      items: (s) => s.policies,
      name: (p) => `policy "${p.name}" on ${p.schema}.${p.table}`,
      fields: (e, a) => [
        f('command', e.command, a.command, 'error'),
        f('permissive', e.permissive, a.permissive, 'error'),
        f('roles', [...e.roles].sort().join(', '), [...a.roles].sort().join(', '), 'error'),
        f('USING expression', norm(e.using), norm(a.using), def),
        f('WITH CHECK expression', norm(e.check), norm(a.check), def),
      ],
    }),
    rule({
      kind: 'function',
      items: (s) => s.functions,
      name: (fn) => `function ${fn.schema}.${fn.name}(${fn.args})`,
      fields: (e, a, name) => [
        // A stub the profile created stands in for the real function on purpose.
        f('body', e.bodyHash, a.bodyHash, preparedFunctions.has(name) ? 'warning' : 'error'),
        f('language', e.language, a.language, 'error'),
        f('kind', e.kind, a.kind, 'error'),
        f('SECURITY DEFINER', e.securityDefiner, a.securityDefiner, 'error'),
      ],
      ignore: preparedFunctions,
    }),
    rule({
      kind: 'trigger',
      items: (s) => s.triggers,
      name: (t) => `trigger ${t.name} on ${t.schema}.${t.table}`,
      fields: (e, a) => [
        f('enabled state', e.enabled, a.enabled, 'error'),
        f('definition', norm(e.definition), norm(a.definition), def),
      ],
    }),
    rule({
      kind: 'view',
      items: (s) => s.views,
      name: (v) => `${v.kind === 'm' ? 'materialized view' : 'view'} ${v.schema}.${v.name}`,
      fields: (e, a) => [
        f('definition', norm(e.definition), norm(a.definition), def),
        f('populated', e.populated, a.populated, 'error'),
      ],
    }),
    rule({
      kind: 'index',
      items: (s) => s.indexes,
      name: (i) => `index ${i.schema}.${i.name} on ${i.table}`,
      fields: (e, a) => [f('definition', norm(e.definition), norm(a.definition), def)],
    }),
    rule({
      kind: 'constraint',
      items: (s) => s.constraints,
      name: (k) => `constraint ${k.name} on ${k.schema}.${k.table}`,
      fields: (e, a) => [
        f('type', e.type, a.type, 'error'),
        f('definition', norm(e.definition), norm(a.definition), def),
        f('validated', e.validated, a.validated, 'error'),
      ],
    }),
    rule({
      kind: 'sequence',
      items: (s) => s.sequences,
      name: (q) => `sequence ${q.schema}.${q.name}`,
      // Sequences are not transactional, so the snapshot may have read a later value than the
      // dump did: worth a look, not a failure. The live check against the column's max decides.
      fields: (e, a) => [f('last value', sequenceValue(e), sequenceValue(a), 'warning')],
    }),
    rule({
      kind: 'extension',
      // plpgsql ships in every database; its presence says nothing about the backup.
      items: (s) => s.extensions.filter((x) => x.name !== 'plpgsql'),
      name: (x) => `extension ${x.name}`,
      fields: (e, a) => [f('version', e.version, a.version, 'warning')],
      missing: (x) => (skipped.has(x.name) ? 'warning' : 'error'),
      extra: 'warning',
    }),
    rule({
      kind: 'setting',
      items: (s) => s.databaseSettings,
      name: (d) => settingName(d.role, d.setting),
      fields: (e, a) => [f('value', settingValue(e.setting), settingValue(a.setting), 'error')],
      extra: 'warning',
    }),
    rule({
      kind: 'schema',
      items: (s) => s.schemas.map((name) => ({ name })),
      name: (s) => `schema ${s.name}`,
      fields: () => [],
      extra: 'warning',
      ignore: preparedSchemas,
    }),
  ];
}

/** Matches two lists by name: what is missing, what is extra, then each pair field by field. */
function compareSet<T>(out: Comparison, rule: Rule<T>, expected: T[], actual: T[]): void {
  const restored = new Map(actual.map((item) => [rule.name(item), item]));
  count(out, rule.kind, expected.length);
  for (const e of expected) {
    const name = rule.name(e);
    const a = restored.get(name);
    restored.delete(name);
    if (!a) {
      const severity = rule.missing?.(e) ?? 'error';
      add(
        out,
        rule.kind,
        name,
        'present',
        'missing',
        severity,
        `${capital(name)} is missing from the restored database.`,
      );
      continue;
    }
    const fields = rule.fields(e, a, name);
    for (const kind of new Set(fields.map((field) => field.kind ?? rule.kind))) {
      if (kind !== rule.kind) count(out, kind);
    }
    for (const field of fields) {
      const kind = field.kind ?? rule.kind;
      if (field.expected === field.actual) continue;
      const object = field.object ?? name;
      const message =
        field.message ??
        `${capital(object)}: ${field.what} is ${show(field.actual)}, expected ${show(field.expected)}.`;
      add(out, kind, object, field.expected, field.actual, field.severity, message);
    }
  }
  for (const name of restored.keys()) {
    if (rule.ignore?.has(name)) continue;
    add(
      out,
      rule.kind,
      name,
      'absent',
      'present',
      rule.extra ?? 'error',
      `${capital(name)} is in the restored database but not in the backup's catalog.`,
    );
  }
}

function add(
  out: Comparison,
  kind: CheckKind,
  object: string,
  expected: CheckValue,
  actual: CheckValue,
  severity: Severity,
  message: string,
): void {
  out.checks.push({ kind, object, expected, actual, severity, message });
}

/** Whitespace-insensitive text for definitions that servers pretty-print differently. */
export function norm(text: string | null): string | null {
  return text == null
    ? null
    : text
        .replace(/\s+/g, ' ')
        .replace(/\s*;\s*$/, '')
        .trim();
}

function sequenceValue(s: { lastValue: string | null; isCalled: boolean }): string {
  return `${s.lastValue ?? 'none'}${s.isCalled ? '' : ' (not yet called)'}`;
}

function settingName(role: string, setting: string): string {
  const name = setting.split('=')[0] ?? setting;
  return role ? `setting ${name} for role ${role}` : `setting ${name}`;
}

function settingValue(setting: string): string {
  const at = setting.indexOf('=');
  return at < 0 ? '' : setting.slice(at + 1);
}

function capital(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function show(value: CheckValue): string {
  if (value === null) return 'none';
  if (typeof value !== 'string') return String(value);
  return `"${value.length > 200 ? `${value.slice(0, 200)}…` : value}"`;
}
