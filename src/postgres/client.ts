import pg from 'pg';
import { describeTarget, pgClientConfig, type PgTarget } from './connection.js';
import { describeTlsFailure, mayFallBack, rememberAttempt, sslAttempts } from './tls.js';

/**
 * What every session of Lifeboat's own starts with, as pg_dump and pg_restore start theirs: a
 * `statement_timeout` set on the database or role (Supabase sets them on its API roles; teams
 * set them on whole databases) would cut a count of a large table short, and a drill database
 * gets the backup's own settings replayed onto it. An idle-in-transaction timeout would end
 * the session that holds pg_dump's snapshot while the archive is read back.
 */
export const SESSION_SETUP = 'SET statement_timeout = 0; SET idle_in_transaction_session_timeout = 0';

/**
 * For a session that writes what the operator asked for (a restore they confirmed): a
 * database set read-only by default, as one is to stop an application's writes during an
 * incident, still takes it. Only this session's default changes.
 */
export const WRITABLE_SESSION = 'SET default_transaction_read_only = off';

/**
 * Every client of Lifeboat's, alone or in a `pg.Pool` (its `Client` option): connected, it has
 * run SESSION_SETUP. A pool's 'connect' event would send it beside the first query instead,
 * which pg warns about on stderr.
 */
export class SetUpClient extends pg.Client {
  override connect(): Promise<pg.Client>;
  override connect(callback: (err: Error | null, client?: pg.Client) => void): void;
  override connect(callback?: (err: Error | null, client?: pg.Client) => void): Promise<pg.Client> | void {
    const ready = super.connect().then(async () => {
      await this.query(SESSION_SETUP);
      return this as pg.Client;
    });
    if (!callback) return ready;
    ready.then((client) => callback(null, client), callback);
  }
}

/**
 * A connected `pg.Client`, reached the way libpq would: each of the target's sslmode
 * attempts in turn (prefer: TLS, then plain), the next only after a refusal. A certificate
 * check that fails is told as such; the password is sent only over the connection that
 * passed it.
 */
export async function connectClient(target: PgTarget): Promise<pg.Client> {
  const attempts = sslAttempts(target);
  let failure: unknown;
  for (const [i, ssl] of attempts.entries()) {
    const client = new SetUpClient(pgClientConfig(target, ssl));
    // An idle-connection error after a failure must not crash the process; queries report their own.
    client.on('error', () => undefined);
    try {
      await client.connect();
      rememberAttempt(target, ssl);
      return client;
    } catch (error) {
      await client.end().catch(() => undefined);
      failure = error;
      if (i === attempts.length - 1 || !mayFallBack(error)) break;
    }
  }
  throw describeTlsFailure(failure, target, describeTarget(target)) ?? failure;
}
