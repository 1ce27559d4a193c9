import pg from 'pg';
import { describeTarget, pgClientConfig, type PgTarget } from './connection.js';
import { describeTlsFailure, mayFallBack, rememberAttempt, sslAttempts } from './tls.js';

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
    const client = new pg.Client(pgClientConfig(target, ssl));
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
