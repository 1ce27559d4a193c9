import { parseDuration } from './duration.js';
import { LifeboatError } from './errors.js';

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

export interface RetentionCandidate {
  backupId: string;
  createdAt: Date;
  verified: boolean;
}

/**
 * Which backups retention removes. Never the one just taken, never the newest verified
 * one, and nothing at all unless the backup just taken is among the candidates (so a
 * failed backup can never trigger deletion).
 */
export function planRetention(
  backups: RetentionCandidate[],
  rule: Retention,
  justTaken: string,
  now: Date = new Date(),
): string[] {
  if (!backups.some((b) => b.backupId === justTaken)) return [];
  const newestFirst = [...backups].sort((a, b) => (a.backupId < b.backupId ? 1 : -1));
  const newestVerified = newestFirst.find((b) => b.verified)?.backupId;
  const keep = new Set([justTaken, newestVerified].filter(Boolean) as string[]);
  return newestFirst
    .filter((b, index) =>
      rule.kind === 'count'
        ? index >= rule.count
        : now.getTime() - b.createdAt.getTime() > rule.seconds * 1000,
    )
    .map((b) => b.backupId)
    .filter((id) => !keep.has(id));
}
