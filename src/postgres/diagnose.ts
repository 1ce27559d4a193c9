import { lookup } from 'node:dns/promises';
import { LifeboatError } from '../errors.js';
import { describeTarget, type PgTarget } from './connection.js';

const SESSION_POOLER_HINT =
  'Use the Supabase session pooler URL (Project Settings → Database → Connection string → Session pooler, port 5432 on the *.pooler.supabase.com host): it is reachable over IPv4 and works with pg_dump.';

/**
 * Turns a connection failure into an error that says what is wrong and how to fix it.
 * The message names host, port and database, never the password.
 */
export async function diagnoseConnectionError(
  error: unknown,
  target: PgTarget,
  role: string,
): Promise<LifeboatError> {
  // Already told plainly (a TLS check, an unreadable sslrootcert).
  if (error instanceof LifeboatError) return error;
  const where = describeTarget(target);
  const err = error as { code?: string; message?: string };
  const code = err?.code ?? '';
  const text = err?.message ?? String(error);
  if (code === '28P01' || /password authentication failed/i.test(text)) {
    return new LifeboatError(
      'auth',
      `Password authentication failed for user "${target.user}" at ${where}.`,
      {
        hint: `Check the password in the ${role} secret; for Supabase the user is "postgres.<project-ref>" on the pooler.`,
        cause: error,
      },
    );
  }
  if (code === '3D000') {
    return new LifeboatError('connection', `Database "${target.database}" does not exist at ${where}.`, {
      hint: `Check the database name at the end of the ${role} URL.`,
      cause: error,
    });
  }
  if (code === '28000' || /no pg_hba.conf entry/i.test(text)) {
    return new LifeboatError(
      'auth',
      `The server at ${where} refused the connection for user "${target.user}".`,
      {
        hint: 'The server does not allow this user from this address (pg_hba.conf), or requires SSL: add `?sslmode=require`.',
        cause: error,
      },
    );
  }
  const ipv6Only = await resolvesOnlyToIpv6(target.host);
  if (ipv6Only && /ENETUNREACH|EHOSTUNREACH|EADDRNOTAVAIL|ETIMEDOUT|timeout/i.test(`${code} ${text}`)) {
    return new LifeboatError(
      'ipv6',
      `Cannot reach ${where}: the host resolves only to IPv6 addresses and this machine has no IPv6 route (GitHub-hosted runners have none).`,
      { hint: SESSION_POOLER_HINT, cause: error },
    );
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new LifeboatError('connection', `Cannot resolve the host name in the ${role} URL (${where}).`, {
      hint: 'Check the host name; for Supabase copy the connection string from the dashboard.',
      cause: error,
    });
  }
  if (
    /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|timeout|terminated unexpectedly/i.test(
      `${code} ${text}`,
    )
  ) {
    return new LifeboatError('connection', `Cannot connect to ${where} (${code || firstLine(text)}).`, {
      hint: 'Check that the server is running and reachable from this machine (host, port, firewall, allowed IPs).',
      cause: error,
    });
  }
  return new LifeboatError('connection', `Cannot connect to ${where}: ${firstLine(text)}`, {
    hint: `Check the ${role} URL.`,
    cause: error,
  });
}

export function transactionPoolerError(target: PgTarget): LifeboatError {
  return new LifeboatError(
    'pooler',
    `${describeTarget(target)} looks like a transaction-mode pooler (port 6543), which breaks pg_dump and pg_restore (they need session state: snapshots, SET, prepared statements).`,
    { hint: SESSION_POOLER_HINT },
  );
}

async function resolvesOnlyToIpv6(host: string): Promise<boolean> {
  if (host.includes(':')) return true;
  try {
    const addresses = await lookup(host, { all: true });
    return addresses.length > 0 && addresses.every((a) => a.family === 6);
  } catch {
    return false;
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
