import { LifeboatError } from '../errors.js';

/** A parsed connection string. The password travels separately and is never printed. */
export interface PgTarget {
  host: string;
  port: number;
  database: string;
  user: string;
  password?: string;
  /** libpq parameters from the query string that child processes understand (sslmode, …). */
  params: Record<string, string>;
}

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

export function parseConnectionUrl(url: string, inputName: string): PgTarget {
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
  return { host, port, database, user, password, params };
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
 * The environment a libpq child process (pg_dump, pg_restore, psql) needs. Passwords go
 * through PGPASSWORD, never argv, where any user on the machine could read them.
 */
export function libpqEnv(target: PgTarget, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const key of Object.keys(env)) {
    // A stray PGSERVICE or PGPASSFILE in the caller's environment must not redirect us.
    if (/^PG[A-Z]+$/.test(key)) delete env[key];
  }
  env.PGHOST = target.host;
  env.PGPORT = String(target.port);
  env.PGDATABASE = target.database;
  env.PGUSER = target.user;
  if (target.password !== undefined) env.PGPASSWORD = target.password;
  env.PGAPPNAME = target.params.application_name ?? 'lifeboat';
  env.PGCONNECT_TIMEOUT = target.params.connect_timeout ?? '15';
  for (const [key, value] of Object.entries(target.params)) {
    const name = PASSED_PARAMS[key];
    if (name && key !== 'application_name' && key !== 'connect_timeout') env[name] = value;
  }
  return env;
}

/** Options for `pg.Client`, password passed apart from any string that might be logged. */
export function pgClientConfig(target: PgTarget) {
  const ssl = sslFor(target.params.sslmode, target.host);
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

function sslFor(mode: string | undefined, host: string): false | { rejectUnauthorized: boolean } {
  switch (mode) {
    case 'disable':
    case 'allow':
      return false;
    case 'verify-ca':
    case 'verify-full':
      return { rejectUnauthorized: true };
    case 'require':
    case 'prefer':
      return { rejectUnauthorized: false };
    default:
      // libpq defaults to `prefer`; `pg` has no prefer. Hosted services need TLS, local ones rarely have it.
      return isLocalHost(host) ? false : { rejectUnauthorized: false };
  }
}

export function isLocalHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.') || host.startsWith('/');
}

/** Supabase's transaction pooler (port 6543) breaks pg_dump; the session pooler (5432) works. */
export function isTransactionPooler(target: PgTarget): boolean {
  return target.port === 6543 || (/\.pooler\.supabase\.com$/i.test(target.host) && target.port !== 5432);
}
