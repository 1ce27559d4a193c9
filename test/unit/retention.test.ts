import { describe, expect, it } from 'vitest';
import { newBackupId } from '../../src/archive/backup-id.js';
import { planRetention } from '../../src/backup/retention.js';
import { parseRetention } from '../../src/settings/keep.js';

describe('retention', () => {
  const day = 86_400_000;
  const now = new Date('2026-11-24T00:00:00Z');
  const backups = [0, 1, 2, 3, 4].map((d) => ({
    backupId: newBackupId(new Date(now.getTime() - d * day)),
    createdAt: new Date(now.getTime() - d * day),
    verified: d !== 0,
  }));

  it('keeps the newest N by count', () => {
    expect(planRetention(backups, parseRetention('2'), backups[0]!.backupId, now)).toEqual(
      backups.slice(2).map((b) => b.backupId),
    );
  });

  it('keeps backups younger than an age, and always the newest verified one', () => {
    expect(planRetention(backups, parseRetention('36h'), backups[0]!.backupId, now)).toEqual(
      backups.slice(2).map((b) => b.backupId),
    );
    expect(planRetention(backups, parseRetention('1h'), backups[0]!.backupId, now)).toEqual(
      backups.slice(2).map((b) => b.backupId),
    );
  });

  it('deletes nothing when the backup just taken is not among them (it failed)', () => {
    expect(planRetention(backups, parseRetention('1'), 'not-there', now)).toEqual([]);
  });

  it('rejects keeping zero', () => expect(() => parseRetention('0')).toThrow(/at least one/));
  it('rejects an age of zero as too short, not as a bad value', () => {
    expect(() => parseRetention('0d')).toThrow(/`keep` must be longer than zero: "0d"/);
    expect(() => parseRetention('0h0m')).toThrow(/must be longer than zero/);
  });
});
