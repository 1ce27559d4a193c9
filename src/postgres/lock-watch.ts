import type pg from 'pg';
import type { Log } from '../log.js';

/**
 * A restore over a live database drops tables, which needs exclusive locks. Waiting for one
 * behind a busy application is worse than failing: every query that comes after the waiting
 * DROP queues behind it, and the application stops. pg_restore sets lock_timeout to 0 in its
 * own session, so the wait is watched from outside: once the restore has waited longer than
 * the limit, its statement is cancelled, and the single transaction rolls everything back.
 */
export interface LockWatch {
  /** Who held the lock, when the watch cancelled the restore. */
  readonly blockedBy: string | undefined;
  stop(): void;
}

const SAMPLE = `SELECT a.pid,
    (SELECT string_agg(format('pid %s (%s, %s)', b.pid, coalesce(nullif(b.application_name, ''), 'no application name'),
        coalesce(b.state, 'unknown state')), '; ')
       FROM pg_stat_activity b WHERE b.pid = ANY (pg_blocking_pids(a.pid))) AS blockers
  FROM pg_stat_activity a WHERE a.application_name = $1`;

export function watchLocks(
  admin: pg.ClientBase,
  applicationName: string,
  options: { limitSeconds: number; intervalMs?: number; log: Log },
): LockWatch {
  let waitingSince: number | undefined;
  let blockedBy: string | undefined;
  let busy = false;
  const sample = async () => {
    if (busy || blockedBy) return;
    busy = true;
    try {
      const { rows } = await admin.query(SAMPLE, [applicationName]);
      const row = rows.find((r: { blockers: string | null }) => r.blockers) as
        { pid: number; blockers: string } | undefined;
      if (!row) {
        waitingSince = undefined;
        return;
      }
      waitingSince ??= Date.now();
      const waited = (Date.now() - waitingSince) / 1000;
      options.log.progress(
        `The restore is waiting for a lock held by ${row.blockers} (${Math.round(waited)}s)`,
      );
      if (waited < options.limitSeconds) return;
      blockedBy = row.blockers;
      await admin.query('SELECT pg_cancel_backend($1)', [row.pid]);
    } catch {
      // A missed sample must not disturb the restore; the next one tries again.
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void sample(), options.intervalMs ?? 2000);
  timer.unref();
  return {
    get blockedBy() {
      return blockedBy;
    },
    stop: () => clearInterval(timer),
  };
}
