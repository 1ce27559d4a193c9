import type { Retention } from '../settings/keep.js';

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
