import type pg from 'pg';
import type { Log } from '../log.js';
import { connectClient } from './client.js';
import type { PgTarget } from './target.js';

/**
 * Says while a session waits for a lock, and who holds it. A backup's pg_dump waits for
 * the ACCESS SHARE locks it takes (up to its --lock-wait-timeout); without a word it would
 * look hung. A restore over a live database drops tables, which needs exclusive locks. Waiting for one
 * behind a busy application is worse than failing: every query that comes after the waiting
 * DROP queues behind it, and the application stops. pg_restore sets lock_timeout to 0 in its
 * own session, so the wait is watched from outside: once the restore has waited longer than
 * the limit, its statement is cancelled, and the single transaction rolls everything back.
 */
export interface LockWatchOptions {
  /** Cancels the waiting statement after this long; absent, the watch only reports. */
  limitSeconds?: number;
  intervalMs?: number;
  log: Log;
  /** Who waits, as the progress line names it. */
  who?: string;
}

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
  options: LockWatchOptions,
): LockWatch {
  const who = options.who ?? 'The restore';
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
      options.log.progress(`${who} is waiting for a lock held by ${row.blockers} (${Math.round(waited)}s)`);
      if (options.limitSeconds === undefined || waited < options.limitSeconds) return;
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

/**
 * The same watch on a connection of its own, for a caller whose connection is busy with
 * queries that may wait behind the same lock. It connects in the background, so the caller
 * never waits for it; no connection, no watch: it only informs.
 */
export function watchLocksFrom(
  target: PgTarget,
  applicationName: string,
  options: LockWatchOptions,
): LockWatch {
  let stopped = false;
  let client: pg.Client | undefined;
  let watch: LockWatch | undefined;
  connectClient(target).then(
    (connected) => {
      client = connected;
      if (stopped) void connected.end().catch(() => undefined);
      else watch = watchLocks(connected, applicationName, options);
    },
    () => undefined,
  );
  return {
    get blockedBy() {
      return watch?.blockedBy;
    },
    stop: () => {
      if (stopped) return;
      stopped = true;
      watch?.stop();
      void client?.end().catch(() => undefined);
    },
  };
}
