import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { LifeboatError } from '../errors.js';
import type { PgTarget } from './target.js';

/**
 * TLS for Lifeboat's own connections (node-postgres) with libpq's meanings, so the
 * client and the tools (pg_dump, pg_restore, psql, which get the same sslmode and
 * sslrootcert) accept and refuse the same servers:
 * - disable: plain only; allow: plain, TLS if the server refuses plain;
 * - prefer (the default): TLS, plain if TLS cannot be had; require: TLS;
 *   none of these three checks the certificate unless a root CA is at hand, and then
 *   only its chain (libpq's rule: "if a root CA file exists, require behaves as verify-ca");
 * - verify-ca: TLS, the certificate chains to the root CA;
 * - verify-full: that, and the certificate names the host connected to.
 * The root CA is `database-ca`, else `sslrootcert` in the URL (a file, or `system` for
 * the platform's trusted roots), else ~/.postgresql/root.crt, as libpq looks for it.
 */

export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

/** node-postgres's `ssl` option: false for plain, else node:tls options. */
export type SslOption = false | ConnectionOptions;

export function sslModeOf(target: PgTarget): SslMode {
  return (target.params.sslmode as SslMode | undefined) ?? 'prefer';
}

/** Checks what libpq would refuse at connect time, before any work starts. */
export function checkTlsParams(params: Record<string, string>, inputName: string, hasCa: boolean): void {
  const mode = params.sslmode;
  if (mode !== undefined && !(SSL_MODES as readonly string[]).includes(mode)) {
    throw new LifeboatError(
      'input',
      `Input \`${inputName}\` has sslmode=${mode}, which libpq does not know.`,
      {
        hint: `Use one of ${SSL_MODES.join(', ')}; verify-full is the one that stops an impostor.`,
      },
    );
  }
  if (hasCa && params.sslrootcert !== undefined) {
    throw new LifeboatError(
      'input',
      `Input \`${inputName}\` names sslrootcert, and \`database-ca\` gives a CA too: which one to trust is unclear.`,
      { hint: 'Keep one: database-ca (the CA certificate as text) or sslrootcert in the URL.' },
    );
  }
  if (params.sslrootcert === 'system' && mode !== undefined && mode !== 'verify-full') {
    throw new LifeboatError(
      'input',
      `Input \`${inputName}\` has sslrootcert=system with sslmode=${mode}; libpq allows it only with verify-full.`,
      { hint: 'Use sslmode=verify-full (the default with sslrootcert=system), or drop sslrootcert.' },
    );
  }
}

/** The sslmode a target gets when its URL names none. */
export function defaultSslMode(params: Record<string, string>, hasCa: boolean): SslMode | undefined {
  // A CA given is a wish to verify; libpq itself defaults to verify-full with sslrootcert=system.
  if (hasCa || params.sslrootcert === 'system') return 'verify-full';
  return undefined;
}

interface Roots {
  /** PEM text; undefined with `system`, which keeps Node's trusted roots. */
  ca?: string;
  where: string;
}

/** The root CA a connection checks against, or undefined when there is none. */
function rootsOf(target: PgTarget, env: NodeJS.ProcessEnv): Roots | undefined {
  if (target.ca) return { ca: target.ca, where: '`database-ca`' };
  const file = target.params.sslrootcert;
  if (file === 'system') return { where: "the system's trusted roots (sslrootcert=system)" };
  if (file) return { ca: readPem(file, 'sslrootcert'), where: `sslrootcert ${file}` };
  const home = env.HOME || os.homedir();
  const fallback = home ? path.join(home, '.postgresql', 'root.crt') : '';
  if (fallback && existsSync(fallback)) return { ca: readPem(fallback, 'root.crt'), where: fallback };
  return undefined;
}

function readPem(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new LifeboatError(
      'input',
      `The ${what} file ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}).`,
      { hint: 'Give the CA certificate as text in `database-ca` instead, or fix the path in the URL.' },
    );
  }
}

/** The TLS options of one connection attempt that uses TLS. */
export function tlsOptions(target: PgTarget, env: NodeJS.ProcessEnv = process.env): ConnectionOptions {
  const mode = sslModeOf(target);
  const roots = rootsOf(target, env);
  const options: ConnectionOptions = {};
  if (target.params.sslcert) options.cert = readPem(target.params.sslcert, 'sslcert');
  if (target.params.sslkey) options.key = readPem(target.params.sslkey, 'sslkey');
  if (mode === 'verify-ca' || mode === 'verify-full') {
    if (!roots) {
      throw new LifeboatError(
        'input',
        `sslmode=${mode} needs a root CA to check the server's certificate against, and none was given.`,
        {
          hint: "Set `database-ca` (LIFEBOAT_DATABASE_CA, --database-ca-file) to the CA certificate, or add sslrootcert=system to the URL to trust the system's roots.",
        },
      );
    }
  } else if (!roots) {
    // libpq: without a root CA, prefer/require encrypt but check nothing.
    return { ...options, rejectUnauthorized: false };
  }
  options.rejectUnauthorized = true;
  if (roots!.ca !== undefined) options.ca = roots!.ca;
  // Below verify-full only the chain is checked; the host name is verify-full's alone.
  if (mode !== 'verify-full') options.checkServerIdentity = () => undefined;
  return options;
}

/** Where the root CA of a connection comes from, for error messages. */
export function rootsDescription(target: PgTarget, env: NodeJS.ProcessEnv = process.env): string {
  try {
    return rootsOf(target, env)?.where ?? 'no root CA';
  } catch {
    return 'an unreadable root CA';
  }
}

/** Which attempt of allow/prefer a server took, so later connections (a pool's) go straight there. */
const taken = new Map<string, 'plain' | 'tls'>();

function serverKey(target: PgTarget): string {
  return `${target.host}\n${target.port}\n${sslModeOf(target)}`;
}

/**
 * The `ssl` settings to try in order: libpq's allow and prefer fall back to the other
 * kind of connection when the first is refused, the other modes have one way only.
 */
export function sslAttempts(target: PgTarget, env: NodeJS.ProcessEnv = process.env): SslOption[] {
  const mode = sslModeOf(target);
  if (mode === 'disable') return [false];
  if (mode !== 'allow' && mode !== 'prefer') return [tlsOptions(target, env)];
  const order: SslOption[] =
    mode === 'allow' ? [false, tlsOptions(target, env)] : [tlsOptions(target, env), false];
  const known = taken.get(serverKey(target));
  return known && (known === 'plain') !== (order[0] === false) ? order.reverse() : order;
}

/** Remembers the attempt that connected to this server. */
export function rememberAttempt(target: PgTarget, ssl: SslOption): void {
  if (sslModeOf(target) === 'allow' || sslModeOf(target) === 'prefer') {
    taken.set(serverKey(target), ssl === false ? 'plain' : 'tls');
  }
}

/**
 * Whether a failed attempt may be followed by the next, as libpq retries: when TLS could not
 * be had (refused by the server, or the session failed) or pg_hba.conf refused this kind of
 * connection (SQLSTATE 28000). A wrong password or database would fail the same way again,
 * and a host that cannot be reached cannot be reached either way.
 */
export function mayFallBack(error: unknown): boolean {
  const code = String((error as { code?: unknown })?.code ?? '');
  const text = String((error as { message?: unknown })?.message ?? error);
  if (/^[0-9A-Z]{5}$/.test(code)) return code === '28000';
  const network = /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EADDRNOTAVAIL)$/;
  return !network.test(code) && !/timeout|ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH/i.test(text);
}

const CHAIN_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REJECTED',
]);

/** A TLS failure told plainly, or undefined when `error` is none. */
export function describeTlsFailure(
  error: unknown,
  target: PgTarget,
  where: string,
  env: NodeJS.ProcessEnv = process.env,
): LifeboatError | undefined {
  const code = String((error as { code?: unknown })?.code ?? '');
  const text = String((error as { message?: unknown })?.message ?? error);
  const mode = sslModeOf(target);
  const roots = rootsDescription(target, env);
  if (CHAIN_CODES.has(code)) {
    return new LifeboatError(
      'connection',
      `The server at ${where} presented a certificate that ${roots} does not vouch for (sslmode=${mode}: ${text}). Lifeboat did not send the password.`,
      {
        hint: "Set `database-ca` to the CA that signed the server's certificate (Supabase: Project Settings → Database → SSL Configuration → Download certificate). If it is right, someone may be impersonating the server.",
        cause: error,
      },
    );
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new LifeboatError(
      'connection',
      `The server's certificate is not for host "${target.host}" (sslmode=verify-full checks the host name: ${text}). Lifeboat did not send the password.`,
      {
        hint: 'Connect by a host name the certificate names (for Supabase, the host from the dashboard), or use sslmode=verify-ca to check the CA only.',
        cause: error,
      },
    );
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return new LifeboatError(
      'connection',
      `The server at ${where} presented a certificate out of its validity period (${text}).`,
      {
        hint: "Renew the server's certificate, or check this machine's clock.",
        cause: error,
      },
    );
  }
  if (/does not support SSL/i.test(text)) {
    return new LifeboatError(
      'connection',
      `The server at ${where} does not accept TLS, and sslmode=${mode} requires it.`,
      {
        hint: 'Enable ssl on the server, or (only on a private network) use sslmode=prefer or disable.',
        cause: error,
      },
    );
  }
  return undefined;
}
