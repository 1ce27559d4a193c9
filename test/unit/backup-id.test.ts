import { describe, expect, it } from 'vitest';
import { backupIdTime, isBackupId, newBackupId } from '../../src/archive/backup-id.js';

describe('backup ids', () => {
  it('sort by time, never collide within a millisecond, and carry their time', () => {
    const at = new Date('2026-11-24T00:03:12.345Z');
    const ids = Array.from({ length: 1000 }, () => newBackupId(at));
    expect(new Set(ids).size).toBe(1000);
    expect(ids[0]).toMatch(/^20261124_000312_345_[0-9a-f]{8}$/);
    expect(isBackupId(ids[0]!)).toBe(true);
    expect(backupIdTime(ids[0]!)?.toISOString()).toBe(at.toISOString());
    expect(newBackupId(new Date('2026-11-24T00:03:12.346Z')) > ids[0]!).toBe(true);
  });
});
