import type { RetentionRules } from '../settings/keep.js';

export type { RetentionRules };

export interface RetentionCandidate {
  backupId: string;
  createdAt: Date;
  /** Verified at level `readable` or better (every backup with a manifest is at least `stored`). */
  verified: boolean;
}

/** What keeps a backup, as the plan names it; a backup no rule keeps is deleted. */
export type Keeper =
  | 'newest'
  | 'newest verified'
  | 'pinned'
  | 'keep'
  | 'keep-daily'
  | 'keep-weekly'
  | 'keep-monthly'
  | 'keep-yearly';

export interface PlannedBackup {
  backupId: string;
  createdAt: Date;
  /** Every rule that keeps it, strongest first; empty: delete. */
  keptBy: Keeper[];
}

/** True when at least one rule is set, so that retention has anything to apply. */
export function hasRules(rules: RetentionRules): boolean {
  return Boolean(rules.keep || rules.daily || rules.weekly || rules.monthly || rules.yearly);
}

type Tier = { keeper: Keeper; count: number; period: (d: Date) => string };

/**
 * The retention plan of one store: for every backup, newest first, the rules that keep it.
 * A backup survives if any rule keeps it; the newest backup, the newest verified one and
 * pinned backups are never deleted, whatever the rules say. A tier keeps, in each of its
 * newest N periods that hold a backup, the newest verified backup of the period. Pure: the same backups, pins, rules and clock
 * always give the same plan, so the copy to a second store can plan its own retention.
 */
export function planRetention(
  backups: RetentionCandidate[],
  pins: ReadonlySet<string>,
  rules: RetentionRules,
  now: Date,
): PlannedBackup[] {
  const newestFirst = [...backups].sort((a, b) => (a.backupId < b.backupId ? 1 : -1));
  const kept = new Map<string, Keeper[]>(newestFirst.map((b) => [b.backupId, []]));
  const add = (id: string, keeper: Keeper) => kept.get(id)!.push(keeper);

  const newestVerified = newestFirst.find((b) => b.verified);
  if (newestVerified) add(newestVerified.backupId, 'newest verified');
  // The newest of all, verified or not: as a run that just took it would, retention keeps it.
  if (newestFirst[0] && newestFirst[0] !== newestVerified) add(newestFirst[0].backupId, 'newest');
  for (const b of newestFirst) if (pins.has(b.backupId)) add(b.backupId, 'pinned');

  const { keep } = rules;
  newestFirst.forEach((b, index) => {
    if (!keep) return;
    const young = now.getTime() - b.createdAt.getTime() <= (keep.kind === 'age' ? keep.seconds * 1000 : 0);
    if (keep.kind === 'count' ? index < keep.count : young) add(b.backupId, 'keep');
  });

  const tiers: Tier[] = [
    { keeper: 'keep-daily', count: rules.daily ?? 0, period: (d) => d.toISOString().slice(0, 10) },
    { keeper: 'keep-weekly', count: rules.weekly ?? 0, period: isoWeek },
    { keeper: 'keep-monthly', count: rules.monthly ?? 0, period: (d) => d.toISOString().slice(0, 7) },
    { keeper: 'keep-yearly', count: rules.yearly ?? 0, period: (d) => d.toISOString().slice(0, 4) },
  ];
  for (const tier of tiers) {
    // Newest first, so each period's members are in order and periods come newest first.
    const periods = new Map<string, RetentionCandidate[]>();
    for (const b of newestFirst) {
      const period = tier.period(b.createdAt);
      periods.set(period, [...(periods.get(period) ?? []), b]);
    }
    for (const members of [...periods.values()].slice(0, tier.count)) {
      // A period whose backups were all checked only at level `stored` still keeps its newest.
      add((members.find((b) => b.verified) ?? members[0]!).backupId, tier.keeper);
    }
  }
  return newestFirst.map((b) => ({
    backupId: b.backupId,
    createdAt: b.createdAt,
    keptBy: kept.get(b.backupId)!,
  }));
}

/** The backups a plan deletes, newest first. */
export function doomedBy(plan: PlannedBackup[]): string[] {
  return plan.filter((p) => p.keptBy.length === 0).map((p) => p.backupId);
}

/** `2026-W01`: the ISO 8601 week (Monday first; week 1 holds the year's first Thursday), UTC. */
export function isoWeek(date: Date): string {
  const day = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const weekday = day.getUTCDay() || 7;
  // The Thursday of this week decides the week's year.
  day.setUTCDate(day.getUTCDate() + 4 - weekday);
  const yearStart = Date.UTC(day.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((day.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${day.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}
