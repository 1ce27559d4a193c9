// Its own module so connection.ts and tls.ts, which both speak of it, need not import each other.
/** A parsed connection string. The password travels separately and is never printed. */
export interface PgTarget {
  host: string;
  port: number;
  database: string;
  user: string;
  password?: string;
  /** libpq parameters from the query string that child processes understand (sslmode, …). */
  params: Record<string, string>;
  /** The CA certificate(s) from `database-ca`, PEM text: the root a TLS connection is checked against. */
  ca?: string;
}
