import { LifeboatError } from '../errors.js';
import { childEnv } from '../process.js';
import { caFileFor } from './ca-file.js';
import type { PgTarget } from './target.js';
import { checkTlsParams, defaultSslMode, sslAttempts, type SslOption } from './tls.js';

export type { PgTarget } from './target.js';

const PASSED_PARAMS: Record<string, string> = {
  sslmode: 'PGSSLMODE',
  sslrootcert: 'PGSSLROOTCERT',
  sslcert: 'PGSSLCERT',
  sslkey: 'PGSSLKEY',
  connect_timeout: 'PGCONNECT_TIMEOUT',
  application_name: 'PGAPPNAME',
  options: 'PGOPTIONS',
  target_session_attrs: 'PGTARGETSESSIONATTRS',
};

export function parseConnectionUrl(url: string, inputName: string, options: { ca?: string } = {}): PgTarget {
  const text = url.trim();
  const invalid = (why: string) =>
    new LifeboatError('input', `Input \`${inputName}\` is not a usable PostgreSQL URL: ${why}.`, {
      hint: 'Use the form postgresql://USER:PASSWORD@HOST:PORT/DATABASE (for Supabase, the session pooler URL from Project Settings → Database).',
    });
  if (!/^postgres(ql)?:\/\//i.test(text)) throw invalid('it must start with postgresql:// or postgres://');
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw invalid('it could not be parsed (is a special character in the password not percent-encoded?)');
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw invalid('it has no host');
  const port = parsed.port ? Number(parsed.port) : 5432;
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || 'postgres';
  const user = decodeURIComponent(parsed.username);
  if (!user) throw invalid('it has no user name');
  const password = parsed.password ? decodeURIComponent(parsed.password) : undefined;
  const params: Record<string, string> = {};
  for (const [key, value] of parsed.searchParams) {
    if (key in PASSED_PARAMS) params[key] = value;
  }
  checkTlsParams(params, inputName, options.ca !== undefined);
  const mode = params.sslmode ?? defaultSslMode(params, options.ca !== undefined);
  if (mode) params.sslmode = mode;
  return { host, port, database, user, password, params, ...(options.ca ? { ca: options.ca } : {}) };
}

/** host:port/database, for logs and summaries. */
export function describeTarget(target: PgTarget): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  return `${host}:${target.port}/${target.database}`;
}

/** The same server, another database (drills create throwaway databases). */
export function withDatabase(target: PgTarget, database: string): PgTarget {
  return { ...target, database };
}

/**
 * The environment a libpq child process (pg_dump, pg_restore, psql) gets: the minimal one
 * of `childEnv` and the PG* of its one connection. Passwords go through PGPASSWORD, never
 * argv, where any user on the machine could read them; a `database-ca` through a private file.
 */
export function libpqEnv(target: PgTarget, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const pg: NodeJS.ProcessEnv = {
    PGHOST: target.host,
    PGPORT: String(target.port),
    PGDATABASE: target.database,
    PGUSER: target.user,
    PGAPPNAME: target.params.application_name ?? 'lifeboat',
    PGCONNECT_TIMEOUT: target.params.connect_timeout ?? '15',
  };
  // A URL without a password: libpq's own PGPASSWORD, which node-postgres reads too.
  const password = target.password ?? base.PGPASSWORD;
  if (password !== undefined) pg.PGPASSWORD = password;
  for (const [key, value] of Object.entries(target.params)) {
    const name = PASSED_PARAMS[key];
    if (name && key !== 'application_name' && key !== 'connect_timeout') pg[name] = value;
  }
  if (target.ca) pg.PGSSLROOTCERT = caFileFor(target.ca, base);
  // childEnv drops every PG* of `base`: a stray PGSERVICE or PGPASSFILE must not redirect us.
  return childEnv(pg, base);
}

/**
 * Options for `pg.Client`, password passed apart from any string that might be logged.
 * `ssl` is one of `sslAttempts`; by default the first, which is what connectClient tries first.
 */
export function pgClientConfig(target: PgTarget, ssl: SslOption = sslAttempts(target)[0]!) {
  return {
    host: target.host,
    port: target.port,
    database: target.database,
    user: target.user,
    password: target.password,
    ssl,
    application_name: 'lifeboat',
    connectionTimeoutMillis: Number(target.params.connect_timeout ?? 15) * 1000,
  };
}

/** Supabase's transaction pooler (port 6543) breaks pg_dump; the session pooler (5432) works. */
export function isTransactionPooler(target: PgTarget): boolean {
  return target.port === 6543 || (/\.pooler\.supabase\.com$/i.test(target.host) && target.port !== 5432);
}
