import type pg from 'pg';
import { LifeboatError } from '../errors.js';
import type { Log } from '../log.js';
import { startChild, type Child } from '../process.js';
import { libpqEnv, type PgTarget } from './connection.js';
import type { PgTool } from './tools.js';
import { lockWaitOverrideMs } from '../settings/environment.js';

/** How long pg_dump waits for a lock before failing rather than hanging behind a DDL. */
export const LOCK_WAIT_TIMEOUT_MS = 120_000;

/** The lock wait in milliseconds; LIFEBOAT_LOCK_WAIT_TIMEOUT_MS overrides it (tests use seconds). */
export function lockWaitTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  return lockWaitOverrideMs(env) ?? LOCK_WAIT_TIMEOUT_MS;
}

/**
 * A read-only repeatable-read transaction whose snapshot pg_dump imports, so the catalog
 * snapshot (row counts, policies, …) describes exactly the rows the dump holds. It must
 * stay open until pg_dump has finished.
 */
export interface SnapshotSession {
  client: pg.Client;
  /** Exported snapshot id, or undefined when the server cannot export one (then counts are taken just before). */
  snapshotId: string | undefined;
  close(): Promise<void>;
}

export async function openSnapshotSession(client: pg.Client, log: Log): Promise<SnapshotSession> {
  const begin = async () => {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    // The catalog snapshot reads every table too: behind a DDL lock it must give up as pg_dump does.
    await client.query(`SET LOCAL lock_timeout = ${lockWaitTimeoutMs()}`);
  };
  await begin();
  let snapshotId: string | undefined;
  try {
    const { rows } = await client.query('SELECT pg_export_snapshot() AS id');
    snapshotId = String(rows[0]?.id);
  } catch (error) {
    // Standbys and some poolers cannot export snapshots: fall back to a snapshot of our own.
    await client.query('ROLLBACK');
    await begin();
    log.warning(
      `The server cannot export a snapshot (${(error as Error).message}); the catalog snapshot is taken immediately before the dump instead.`,
    );
  }
  return {
    client,
    snapshotId,
    close: async () => {
      await client.query('COMMIT').catch(() => undefined);
    },
  };
}

export function pgDumpArgs(snapshotId: string | undefined, selection: string[] = []): string[] {
  const args = [
    '--format=custom',
    // Compression happens downstream in zstd: far faster than pg_dump's zlib.
    '--compress=0',
    '--no-password',
    `--lock-wait-timeout=${lockWaitTimeoutMs()}`,
  ];
  if (snapshotId) args.push(`--snapshot=${snapshotId}`);
  args.push(...selection);
  // Never --enable-row-security: with a role lacking BYPASSRLS it dumps zero rows and exits 0.
  return args;
}

export function startPgDump(
  tool: PgTool,
  target: PgTarget,
  snapshotId: string | undefined,
  mask: (text: string) => string,
  /** Which objects and rows this pg_dump takes, for one part of a parallel backup. */
  selection: { args: string[]; label?: string } = { args: [] },
): Child {
  return startChild(tool.path, pgDumpArgs(snapshotId, selection.args), {
    label: `pg_dump ${tool.version}${selection.label ? ` (${selection.label})` : ''}`,
    code: 'dump',
    env: libpqEnv(target),
    stdio: ['ignore', 'pipe', 'pipe'],
    mask,
    hint: 'Nothing was stored. Fix the cause above and run the backup again.',
  });
}

/** Reclassifies a pg_dump failure whose stderr shows a known cause. */
export function explainDumpFailure(error: unknown): unknown {
  const lockHint = `A long-running transaction or migration holds an exclusive lock. Lifeboat waits at most ${lockWaitTimeoutMs() / 1000}s; run the backup when it has finished.`;
  // lock_not_available: the catalog snapshot's own read gave up behind the lock.
  if ((error as { code?: unknown } | undefined)?.code === '55P03') {
    return new LifeboatError(
      'lock',
      `Gave up waiting for a lock while reading the catalog: ${(error as Error).message}`,
      {
        hint: lockHint,
        cause: error,
      },
    );
  }
  // The lock table is full: pg_dump (and the catalog snapshot beside it) lock every table.
  const sqlState = (error as { code?: unknown } | undefined)?.code;
  const fromDump = error instanceof LifeboatError && error.code === 'dump';
  if ((sqlState === '53200' || fromDump) && /out of shared memory/i.test((error as Error).message)) {
    return new LifeboatError(
      'lock',
      `The server ran out of room in its lock table (out of shared memory) ${fromDump ? 'during pg_dump' : 'while reading the catalog'}: ${(error as Error).message}`,
      {
        hint: 'pg_dump holds a lock on every table and sequence it dumps until it finishes (pg_dump alone needs them all at once), and the lock table holds max_locks_per_transaction x max_connections locks for all sessions together (default 64 x 100). Raise max_locks_per_transaction until that product exceeds the number of tables and sequences, with room for the other sessions, and restart the server.',
        cause: error,
      },
    );
  }
  if (!fromDump) return error;
  // pg_dump bounds its LOCK TABLE with statement_timeout, so the server says "statement timeout".
  if (/could not obtain lock|lock timeout|statement timeout[\s\S]*LOCK TABLE/i.test(error.message)) {
    return new LifeboatError('lock', `pg_dump gave up waiting for a lock: ${error.message}`, {
      hint: lockHint,
    });
  }
  if (/row-level security|row security/i.test(error.message)) {
    return new LifeboatError('permission', error.message, {
      hint: 'Use a role with BYPASSRLS (Supabase: the postgres role) so every row is dumped.',
    });
  }
  if (/server version|aborting because of server version mismatch/i.test(error.message)) {
    return new LifeboatError('tools', error.message, {
      hint: 'Install a pg_dump at least as new as the server, or set pg-bin-dir.',
    });
  }
  return error;
}
