import { parseDuration } from '../duration.js';
import { LifeboatError } from '../errors.js';
import { Inputs } from './constants.js';

/** How many backups of a set to keep: the input `keep`. */
export type Retention = { kind: 'count'; count: number } | { kind: 'age'; seconds: number };

/** The rules of one store's retention; a rule left out keeps nothing by itself. */
export interface RetentionRules {
  /** `keep`: the newest N backups, or those younger than an age. */
  keep?: Retention;
  /** The newest verified backup in each of the newest N UTC days (weeks, months, years) that hold one. */
  daily?: number;
  weekly?: number;
  monthly?: number;
  yearly?: number;
}

/** `14` keeps the newest 14 backups; `30d` keeps those younger than 30 days. */
export function parseRetention(value: string): Retention {
  if (/^\d+$/.test(value)) {
    const count = Number(value);
    if (count < 1) {
      throw new LifeboatError('input', 'Input `keep` must keep at least one backup.', {
        hint: 'Use a count such as `14` or an age such as `30d`.',
      });
    }
    return { kind: 'count', count };
  }
  // An age of zero would delete every backup but the one just taken: say so, not "not a duration".
  if (/^(\d+(\.\d+)?\s*[smhdw]\s*)+$/i.test(value.trim()) && !/[1-9]/.test(value)) {
    throw new LifeboatError('input', `Input \`keep\` must be longer than zero: "${value}".`, {
      hint: 'Use an age such as `30d`, or a count such as `14`.',
    });
  }
  try {
    return { kind: 'age', seconds: parseDuration(value, 'keep') };
  } catch {
    throw new LifeboatError(
      'input',
      `Input \`keep\` is "${value}"; accepted values: a count (\`14\`) or an age (\`30d\`, \`12h\`).`,
      {
        hint: 'Leave it empty to keep every backup.',
      },
    );
  }
}

/** `keep-daily: 7` and its kin: a whole number of periods, at least 1. */
export function parseTierCount(value: string, name: string): number | undefined {
  if (!value) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new LifeboatError(
      'input',
      `Input \`${name}\` is "${value}"; accepted values: a whole number of at least 1.`,
      {
        hint: `Leave \`${name}\` empty for no such rule, or give how many to keep, such as 7.`,
      },
    );
  }
  return n;
}

/** Every retention input: the rules, and the grace period that protects a backup still running. */
export function parseRetentionInputs(
  raw: (name: string) => string,
  value: (name: string) => string,
): { retention: RetentionRules; orphanGraceSeconds: number } {
  const keep = raw(Inputs.Keep);
  const retention: RetentionRules = {
    ...(keep ? { keep: parseRetention(keep) } : {}),
    daily: parseTierCount(raw(Inputs.KeepDaily), Inputs.KeepDaily),
    weekly: parseTierCount(raw(Inputs.KeepWeekly), Inputs.KeepWeekly),
    monthly: parseTierCount(raw(Inputs.KeepMonthly), Inputs.KeepMonthly),
    yearly: parseTierCount(raw(Inputs.KeepYearly), Inputs.KeepYearly),
  };
  return {
    retention,
    orphanGraceSeconds: parseDuration(value(Inputs.OrphanGrace), Inputs.OrphanGrace),
  };
}
