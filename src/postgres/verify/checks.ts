/**
 * What every drill verification produces: a list of checks, each naming one object
 * and what was expected of it. Only differences become checks; `compared` counts how
 * much was looked at, so a summary can say "9 tables, all match".
 */
export type Severity = 'error' | 'warning';

export type CheckKind =
  | 'table'
  | 'rows'
  | 'content'
  | 'rls'
  | 'policy'
  | 'privilege'
  | 'membership'
  | 'function'
  | 'trigger'
  | 'view'
  | 'index'
  | 'constraint'
  | 'sequence'
  | 'extension'
  | 'setting'
  | 'migration'
  | 'schema'
  | 'large-objects'
  | 'fk-orphans'
  | 'sequence-max'
  | 'verify-sql'
  | 'restore'
  | 'skipped'
  | 'rto'
  | 'rpo'
  | 'storage';

export type CheckValue = string | number | boolean | null;

export interface Check {
  kind: CheckKind;
  object: string;
  expected: CheckValue;
  actual: CheckValue;
  severity: Severity;
  message: string;
  hint?: string;
}

export interface Comparison {
  checks: Check[];
  /** How many objects of each kind were compared, differences or not. */
  compared: Partial<Record<CheckKind, number>>;
}

export function emptyComparison(): Comparison {
  return { checks: [], compared: {} };
}

export function count(out: Comparison, kind: CheckKind, n = 1): void {
  out.compared[kind] = (out.compared[kind] ?? 0) + n;
}

export function merge(into: Comparison, from: Comparison): Comparison {
  into.checks.push(...from.checks);
  for (const [kind, n] of Object.entries(from.compared)) count(into, kind as CheckKind, n);
  return into;
}

export function errorsOf(checks: Check[]): Check[] {
  return checks.filter((c) => c.severity === 'error');
}

export function warningsOf(checks: Check[]): Check[] {
  return checks.filter((c) => c.severity === 'warning');
}
