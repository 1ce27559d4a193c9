import { parseDuration } from '../duration.js';
import { LifeboatError } from '../errors.js';

/** How many backups of a set to keep: the input `keep`. */
export type Retention = { kind: 'count'; count: number } | { kind: 'age'; seconds: number };

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
