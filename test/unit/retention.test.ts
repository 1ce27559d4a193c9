import { describe, expect, it } from 'vitest';
import { newBackupId } from '../../src/archive/backup-id.js';
import { doomedBy, isoWeek, planRetention, type RetentionCandidate } from '../../src/backup/retention.js';
import { parseRetention, parseTierCount } from '../../src/settings/keep.js';

const day = 86_400_000;

/** A backup taken at `iso`, verified (level readable) unless said otherwise. */
function backup(iso: string, verified = true): RetentionCandidate {
  const createdAt = new Date(iso);
  return { backupId: newBackupId(createdAt), createdAt, verified };
}

/** One backup a day at 02:00 UTC through 2025: a year of nightly backups. */
const year = Array.from({ length: 365 }, (_, i) =>
  backup(new Date(Date.UTC(2025, 0, 1, 2) + i * day).toISOString()),
);
const now = new Date('2026-01-01T00:00:00Z');
const dateOf = (id: string, all: RetentionCandidate[]) =>
  all
    .find((b) => b.backupId === id)!
    .createdAt.toISOString()
    .slice(0, 10);
const keptDates = (plan: ReturnType<typeof planRetention>, all: RetentionCandidate[]) =>
  plan
    .filter((p) => p.keptBy.length > 0)
    .map((p) => dateOf(p.backupId, all))
    .sort();
const idOn = (date: string, all = year) =>
  all.find((b) => b.createdAt.toISOString().startsWith(date))!.backupId;

describe('retention over a year of daily backups', () => {
  it('keep-daily keeps the newest verified backup of each of the newest N days', () => {
    const plan = planRetention(year, new Set(), { daily: 7 }, now);
    expect(keptDates(plan, year)).toEqual([25, 26, 27, 28, 29, 30, 31].map((d) => `2025-12-${d}`));
    expect(plan.find((p) => p.backupId === idOn('2025-12-31'))!.keptBy).toEqual([
      'newest verified',
      'keep-daily',
    ]);
  });

  it('keep-weekly keeps the newest of each ISO week (Monday first), UTC', () => {
    // 2025-12-31 is a Wednesday in ISO week 2026-W01; the weeks before end on Sundays.
    expect(keptDates(planRetention(year, new Set(), { weekly: 4 }, now), year)).toEqual([
      '2025-12-14',
      '2025-12-21',
      '2025-12-28',
      '2025-12-31',
    ]);
  });

  it('keep-monthly keeps the last backup of each month, keep-yearly of each year', () => {
    const months = ['01-31', '02-28', '03-31', '04-30', '05-31', '06-30'];
    const second = ['07-31', '08-31', '09-30', '10-31', '11-30', '12-31'];
    expect(keptDates(planRetention(year, new Set(), { monthly: 12 }, now), year)).toEqual(
      [...months, ...second].map((d) => `2025-${d}`),
    );
    expect(keptDates(planRetention(year, new Set(), { yearly: 3 }, now), year)).toEqual(['2025-12-31']);
  });

  it('combines the rules: a backup survives if any rule keeps it, and names every rule', () => {
    const rules = { keep: parseRetention('3'), daily: 7, weekly: 4, monthly: 12, yearly: 2 };
    const plan = planRetention(year, new Set(), rules, now);
    const monthEnds = ['01-31', '02-28', '03-31', '04-30', '05-31', '06-30', '07-31', '08-31'];
    expect(keptDates(plan, year)).toEqual([
      ...[...monthEnds, '09-30', '10-31', '11-30', '12-14', '12-21'].map((d) => `2025-${d}`),
      ...[25, 26, 27, 28, 29, 30, 31].map((d) => `2025-12-${d}`),
    ]);
    expect(doomedBy(plan)).toHaveLength(365 - 20);
    const keptBy = (date: string) => plan.find((p) => p.backupId === idOn(date))!.keptBy;
    expect(keptBy('2025-12-31')).toEqual([
      'newest verified',
      'keep',
      'keep-daily',
      'keep-weekly',
      'keep-monthly',
      'keep-yearly',
    ]);
    expect(keptBy('2025-12-28')).toEqual(['keep-daily', 'keep-weekly']);
    expect(keptBy('2025-12-21')).toEqual(['keep-weekly']);
    expect(keptBy('2025-03-31')).toEqual(['keep-monthly']);
    expect(keptBy('2025-03-30')).toEqual([]);
  });

  it('keeps pinned backups and the newest verified one whatever the rules say', () => {
    const pinned = new Set([idOn('2025-02-14'), idOn('2025-07-04')]);
    // The two newest were stored but never decrypted (no identity): not verified.
    const mixed = year.map((b, i) => (i >= 363 ? { ...b, verified: false } : b));
    for (const rules of [{ keep: parseRetention('1') }, { daily: 1 }, { weekly: 1, yearly: 1 }]) {
      const plan = planRetention(mixed, pinned, rules, now);
      const kept = keptDates(plan, mixed);
      expect(kept).toEqual(expect.arrayContaining(['2025-02-14', '2025-07-04', '2025-12-29', '2025-12-31']));
      expect(plan.find((p) => p.backupId === idOn('2025-12-29'))!.keptBy).toContain('newest verified');
      expect(plan.find((p) => p.backupId === idOn('2025-07-04'))!.keptBy).toContain('pinned');
    }
  });

  it('a tier prefers the newest verified backup of a period over a newer unverified one', () => {
    const day1 = [backup('2025-06-01T10:00:00Z'), backup('2025-06-01T20:00:00Z', false)];
    const plan = planRetention(day1, new Set(), { daily: 1 }, now);
    expect(plan.find((p) => p.backupId === day1[0]!.backupId)!.keptBy).toContain('keep-daily');
    // A period of unverified backups alone still keeps its newest.
    const stored = [backup('2025-06-02T10:00:00Z', false), backup('2025-06-01T10:00:00Z', false)];
    const keptBy = planRetention(stored, new Set(), { daily: 2 }, now).map((p) => p.keptBy);
    expect(keptBy).toEqual([['newest', 'keep-daily'], ['keep-daily']]);
  });

  it('keeps backups younger than an age', () => {
    const plan = planRetention(year, new Set(), { keep: parseRetention('47h') }, now);
    expect(keptDates(plan, year)).toEqual(['2025-12-30', '2025-12-31']);
  });

  it('with no rule the plan keeps nothing but the newest, pinned and newest verified', () => {
    expect(doomedBy(planRetention(year, new Set(), {}, now))).toHaveLength(364);
  });
});

describe('retention inputs', () => {
  it('rejects keeping zero', () => expect(() => parseRetention('0')).toThrow(/at least one/));
  it('rejects an age of zero as too short, not as a bad value', () => {
    expect(() => parseRetention('0d')).toThrow(/`keep` must be longer than zero: "0d"/);
    expect(() => parseRetention('0h0m')).toThrow(/must be longer than zero/);
  });
  it('rejects a tier count that is not a whole number of at least 1, naming the input', () => {
    for (const bad of ['0', '-1', '1.5', 'seven', '7d'])
      expect(() => parseTierCount(bad, 'keep-weekly')).toThrow(
        /Input `keep-weekly` is ".*"; accepted values/,
      );
    expect(parseTierCount('', 'keep-daily')).toBeUndefined();
    expect(parseTierCount('30', 'keep-daily')).toBe(30);
  });
  it('names ISO weeks as ISO 8601 does across year ends', () => {
    expect(isoWeek(new Date('2024-12-30T00:00:00Z'))).toBe('2025-W01');
    expect(isoWeek(new Date('2021-01-03T23:59:59Z'))).toBe('2020-W53');
    expect(isoWeek(new Date('2026-06-15T12:00:00Z'))).toBe('2026-W25');
  });
});
